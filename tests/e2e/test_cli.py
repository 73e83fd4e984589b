"""The ``interview-desk`` console script, run as a user runs it: a subprocess in an empty directory.

Each run costs about a second of imports, so this file keeps what only a real process shows:
the installed script, its exit statuses and stderr, settings read from the environment, one
full admin flow per database, and an unreachable database. Every input and error case runs
in-process in ``tests/cli/``.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from tests.conftest import ADA, BO, WORKSPACE
from tests.e2e.processes import IN_HOURS, MEETING_URL, Cli, clean_env

pytestmark = pytest.mark.e2e

UNUSED_PORT = 1
"""A privileged port no test machine serves PostgreSQL on."""


@pytest.fixture
def cli(workdir: Path, tmp_path: Path) -> Cli:
    """The CLI on a fresh, not yet migrated SQLite file, without any Slack variable."""
    return Cli(workdir, clean_env(DATABASE_URL=f"sqlite:///{tmp_path / 'cli.db'}"))


@pytest.fixture
def db_cli(workdir: Path, database_url: str) -> Cli:
    """The CLI on the test database: SQLite, and PostgreSQL when TEST_DATABASE_URL is set."""
    return Cli(workdir, clean_env(DATABASE_URL=database_url))


# ---------------------------------------------------------------- help


def test_help_exits_zero(cli: Cli) -> None:
    """The installed script names itself ``interview-desk``; ``--help`` needs no configuration."""
    result = cli.with_env(DATABASE_URL="mysql://not-used")("--help")

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


# ---------------------------------------------------------------- configuration


@pytest.mark.parametrize(("variable", "value"), [("PORT", "abc"), ("DATABASE_URL", "mysql://x")])
def test_bad_setting_is_one_line_naming_the_variable(cli: Cli, variable: str, value: str) -> None:
    result = cli.with_env(**{variable: value})("team", "list")

    line = result.error_line()
    assert result.returncode == 2, str(result)
    assert variable in line


def test_unreachable_database_is_one_error_line(cli: Cli) -> None:
    """Nothing listens on port 1: the CLI says it cannot use the database, on a single line."""
    result = cli.with_env(DATABASE_URL=f"postgresql://postgres@127.0.0.1:{UNUSED_PORT}/x")("team", "list")

    assert "database" in result.error_line()
    assert result.returncode == 1, str(result)


def test_serve_without_slack_credentials_names_both_variables(cli: Cli) -> None:
    result = cli("serve", timeout=30)

    line = result.error_line()
    assert result.returncode == 2, str(result)
    assert "SLACK_BOT_TOKEN" in line and "SLACK_SIGNING_SECRET" in line
