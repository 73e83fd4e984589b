"""The ``interview-desk`` console script, run as a user runs it: a subprocess in an empty directory."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click
import pytest

from bot.cli import cli as cli_group
from tests.conftest import ADA, BO, BOT_TOKEN, CHANNEL, WORKSPACE
from tests.e2e.processes import (
    IN_HOURS,
    MEETING_URL,
    OUT_OF_HOURS,
    Cli,
    SeededStudy,
    clean_env,
    seed_study,
)
from tests.support.fake_slack import FakeSlackAPI
from tests.support.live_server import free_port

pytestmark = pytest.mark.e2e


def _command_paths(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = []
    for name, command in sorted(group.commands.items()):
        paths.append((*prefix, name))
        if isinstance(command, click.Group):
            paths.extend(_command_paths(command, (*prefix, name)))
    return paths


COMMAND_PATHS = [(), *_command_paths(cli_group)]
UNUSED_PORT = 1
"""A privileged port no test machine serves PostgreSQL on."""


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """An empty working directory, so no ``.env`` file is read."""
    path = tmp_path / "cwd"
    path.mkdir()
    return path


@pytest.fixture
def cli(workdir: Path, tmp_path: Path) -> Cli:
    """The CLI on a fresh, not yet migrated SQLite file, without any Slack variable."""
    return Cli(workdir, clean_env(DATABASE_URL=f"sqlite:///{tmp_path / 'cli.db'}"))


@pytest.fixture
def db_cli(workdir: Path, database_url: str) -> Cli:
    """The CLI on the test database: SQLite, and PostgreSQL when TEST_DATABASE_URL is set."""
    return Cli(workdir, clean_env(DATABASE_URL=database_url))


@pytest.fixture
def study(db_cli: Cli) -> SeededStudy:
    return seed_study(db_cli, workspace=WORKSPACE, channel=CHANNEL, host=ADA, members=(ADA, BO))


# ---------------------------------------------------------------- help


@pytest.mark.parametrize("path", COMMAND_PATHS, ids=lambda path: " ".join(path) or "interview-desk")
def test_help_exits_zero(cli: Cli, path: tuple[str, ...]) -> None:
    """``--help`` works for the group and every subcommand, without touching configuration."""
    result = cli(*path, "--help")

    assert result.returncode == 0, str(result)
    assert result.stdout.startswith("Usage: interview-desk"), str(result)
    assert result.stderr == ""


# ---------------------------------------------------------------- the admin flow


def test_admin_flow_with_json_output(db_cli: Cli) -> None:
    """Team, study, meeting link, participant, booking and listing, each step using ids from the last."""
    team = db_cli("team", "create", "UX Research", "--workspace", WORKSPACE, "--member", ADA, "--member", BO, "--json").json()
    assert team["name"] == "UX Research"
    assert team["slack_workspace_id"] == WORKSPACE
    assert team["member_slack_user_ids"] == [ADA, BO]

    team = db_cli("team", "add-member", str(team["id"]), "U0CAT", "--json").json()
    assert team["member_slack_user_ids"] == [ADA, BO, "U0CAT"]

    study = db_cli(
        "study", "create", "--team", str(team["id"]), "--name", "Checkout redesign", "--channel", "C0STUDY",
        "--timezone", "Europe/Berlin", "--duration", "45", "--host", ADA, "--json",
    ).json()
    assert study["team_id"] == team["id"]
    assert (study["slack_channel_id"], study["timezone"], study["duration_minutes"]) == ("C0STUDY", "Europe/Berlin", 45)
    assert study["host_slack_user_ids"] == [ADA]

    linked = db_cli("study", "set-meeting-link", "--study", str(study["id"]), "--host", ADA, "--url", MEETING_URL, "--json")
    assert linked.returncode == 0, str(linked)

    studies = db_cli("study", "list", "--json").json()
    assert [(s["id"], s["name"]) for s in studies] == [(study["id"], "Checkout redesign")]

    person = db_cli("participant", "add", "--study", str(study["id"]), "--email", "nora@example.com", "--name", "Nora Quist", "--json").json()
    assert (person["study_id"], person["name"], person["email"]) == (study["id"], "Nora Quist", "nora@example.com")

    booked = db_cli(
        "interview", "book", "--study", str(study["id"]), "--participant", "nora@example.com",
        "--start", IN_HOURS, "--host", ADA, "--json",
    ).json()
    assert isinstance(booked["interview_id"], int)
    assert datetime.fromisoformat(booked["starts_at"]) == datetime.fromisoformat(IN_HOURS)
    assert (booked["study_id"], booked["host_slack_user_id"], booked["participant_email"]) == (study["id"], ADA, "nora@example.com")

    page = db_cli("interview", "list", "--study", str(study["id"]), "--json").json()
    assert page["study"]["id"] == study["id"]
    assert page["upcoming_count"] == 1
    [listed] = page["items"]
    assert listed["id"] == booked["interview_id"]
    assert datetime.fromisoformat(listed["starts_at"]) == datetime.fromisoformat(IN_HOURS)
    assert listed["conferencing_url"] == MEETING_URL
    assert {(a["name"], a["role"]) for a in listed["attendees"]} == {("Nora Quist", "participant"), (ADA, "host")}


# ---------------------------------------------------------------- errors


def test_duplicate_participant_is_one_error_line(db_cli: Cli, study: SeededStudy) -> None:
    result = db_cli("participant", "add", "--study", str(study.study_id), "--email", "nora@example.com", "--json")

    assert "nora@example.com" in result.error_line()


def test_booking_outside_availability_needs_the_override(db_cli: Cli, study: SeededStudy) -> None:
    """Refused with one line that mentions the override; accepted with ``--override-availability``."""
    args = ("interview", "book", "--study", str(study.study_id), "--participant", "nora@example.com", "--start", OUT_OF_HOURS, "--host", ADA, "--json")

    line = db_cli(*args).error_line()
    assert "availability" in line

    booked = db_cli(*args, "--override-availability").json()
    assert datetime.fromisoformat(booked["starts_at"]) == datetime.fromisoformat(OUT_OF_HOURS)
    listed = db_cli("interview", "list", "--study", str(study.study_id), "--json").json()
    assert [i["id"] for i in listed["items"]] == [booked["interview_id"]]


def test_start_without_utc_offset_is_refused(db_cli: Cli, study: SeededStudy) -> None:
    result = db_cli("interview", "book", "--study", str(study.study_id), "--participant", "nora@example.com", "--start", "2031-03-04T10:00", "--host", ADA)

    assert "offset" in result.error_line()
    assert db_cli("interview", "list", "--study", str(study.study_id), "--json").json()["items"] == []


@pytest.mark.parametrize(
    "args",
    [
        ("interview", "list", "--study", "999", "--json"),
        ("participant", "add", "--study", "999", "--email", "x@example.com", "--json"),
        ("interview", "book", "--study", "999", "--participant", "x@example.com", "--start", IN_HOURS, "--host", ADA),
    ],
    ids=["interview list", "participant add", "interview book"],
)
def test_unknown_study_is_one_error_line(db_cli: Cli, args: tuple[str, ...]) -> None:
    assert "999" in db_cli(*args).error_line()


# ---------------------------------------------------------------- the workspace of `team create`


def test_team_create_without_workspace_or_token_says_to_pass_workspace(cli: Cli) -> None:
    line = cli("team", "create", "UX Research", "--member", ADA).error_line()

    assert "--workspace" in line


def test_team_create_learns_the_workspace_from_slack(cli: Cli, fake_slack: FakeSlackAPI) -> None:
    """With SLACK_BOT_TOKEN, the workspace comes from ``auth.test`` (here the fake's T0TEST)."""
    with_token = cli.with_env(SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_API_URL=fake_slack.api_url)

    team = with_token("team", "create", "UX Research", "--member", ADA, "--json").json()

    assert team["slack_workspace_id"] == fake_slack.team_id == WORKSPACE
    [call] = fake_slack.calls_to("auth.test")
    assert not call.failed


def test_team_create_with_a_token_slack_rejects_says_to_pass_workspace(cli: Cli, fake_slack: FakeSlackAPI) -> None:
    rejected = cli.with_env(SLACK_BOT_TOKEN="xoxb-revoked-token", SLACK_API_URL=fake_slack.api_url)

    line = rejected("team", "create", "UX Research", "--member", ADA).error_line()

    assert "invalid_auth" in line and "--workspace" in line
    assert [call.error for call in fake_slack.calls_to("auth.test")] == ["invalid_auth"]


def test_team_create_when_slack_is_unreachable_is_one_error_line(cli: Cli) -> None:
    """A network failure while asking Slack for the workspace is reported like any other error."""
    unreachable = cli.with_env(SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_API_URL=f"http://127.0.0.1:{free_port()}/api/")

    line = unreachable("team", "create", "UX Research", "--member", ADA).error_line()

    assert "--workspace" in line


# ---------------------------------------------------------------- the database schema


def test_db_upgrade_and_current(cli: Cli) -> None:
    """A fresh file has no revision; after ``db upgrade`` it is at the latest one."""
    before = cli("db", "current", "--json").json()
    assert before["current"] is None
    assert before["head"]

    upgraded = cli("db", "upgrade")
    assert upgraded.returncode == 0, str(upgraded)
    assert before["head"] in upgraded.stdout

    after = cli("db", "current", "--json").json()
    assert after == {"current": before["head"], "head": before["head"]}


# ---------------------------------------------------------------- configuration


@pytest.mark.parametrize(("variable", "value"), [("PORT", "abc"), ("DATABASE_URL", "mysql://x")])
def test_bad_setting_is_one_line_naming_the_variable(cli: Cli, variable: str, value: str) -> None:
    result = cli.with_env(**{variable: value})("team", "list")

    line = result.error_line()
    assert result.returncode == 2, str(result)
    assert variable in line


def test_database_url_is_not_echoed_in_configuration_errors(cli: Cli) -> None:
    """DATABASE_URL may hold a password, so the error names the variable but not its value."""
    line = cli.with_env(DATABASE_URL="mysql://admin:hunter2@db.example.com/x")("team", "list").error_line()

    assert "DATABASE_URL" in line
    assert "hunter2" not in line


def test_unreachable_database_is_one_error_line(cli: Cli) -> None:
    """Nothing listens on port 1: the CLI says it cannot use the database, on a single line."""
    result = cli.with_env(DATABASE_URL=f"postgresql://postgres@127.0.0.1:{UNUSED_PORT}/x")("team", "list")

    assert "database" in result.error_line()


def test_serve_without_slack_credentials_names_both_variables(cli: Cli) -> None:
    result = cli("serve", timeout=30)

    line = result.error_line()
    assert result.returncode == 2, str(result)
    assert "SLACK_BOT_TOKEN" in line and "SLACK_SIGNING_SECRET" in line
