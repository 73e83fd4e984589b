"""``interview-desk`` help, admin errors, the Slack workspace lookup and the schema commands,
run in-process on both databases: one ``error:`` line and the right exit code for every bad input.

What only a real process shows (the installed script, exit statuses, reading the environment,
an unreachable database) is in ``tests/e2e/test_cli.py``.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import click
import pytest

from bot.cli import cli as cli_group
from tests.cli.in_process import InProcessCli
from tests.conftest import ADA, BOT_TOKEN, WORKSPACE
from tests.e2e.processes import IN_HOURS, OUT_OF_HOURS, SeededStudy
from tests.support.fake_slack import FakeSlackAPI
from tests.support.live_server import free_port


def _command_paths(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = []
    for name, command in sorted(group.commands.items()):
        paths.append((*prefix, name))
        if isinstance(command, click.Group):
            paths.extend(_command_paths(command, (*prefix, name)))
    return paths


COMMAND_PATHS = [(), *_command_paths(cli_group)]


# ---------------------------------------------------------------- help


@pytest.mark.parametrize("path", COMMAND_PATHS, ids=lambda path: " ".join(path) or "interview-desk")
def test_help_exits_zero(cli: InProcessCli, path: tuple[str, ...]) -> None:
    """``--help`` works for the group and every subcommand, without touching configuration."""
    broken = cli.with_env(DATABASE_URL="mysql://not-used", PORT="abc")

    result = broken(*path, "--help")

    assert result.returncode == 0, str(result)
    assert result.stdout.startswith("Usage: interview-desk"), str(result)
    assert result.stderr == ""


# ---------------------------------------------------------------- the environment of a run


def test_settings_come_from_the_runs_environment_not_the_test_process(
    cli: InProcessCli, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Settings in the test process's environment are invisible to the command and kept afterwards."""
    monkeypatch.setenv("DATABASE_URL", "mysql://leaked")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-leaked")

    line = cli("team", "create", "UX Research", "--member", ADA).error_line()

    assert "--workspace" in line  # neither the leaked database nor the leaked token was used
    assert (os.environ["DATABASE_URL"], os.environ["SLACK_BOT_TOKEN"]) == ("mysql://leaked", "xoxb-leaked")


def test_a_dot_env_file_in_the_working_directory_is_read(cli: InProcessCli, workdir: Path) -> None:
    (workdir / ".env").write_text("PORT=abc\n", encoding="utf-8")

    result = cli("team", "list")

    assert "PORT" in result.error_line() and result.returncode == 2, str(result)


# ---------------------------------------------------------------- admin errors


def test_duplicate_participant_is_one_error_line(db_cli: InProcessCli, study: SeededStudy) -> None:
    result = db_cli("participant", "add", "--study", str(study.study_id), "--email", "nora@example.com", "--json")

    assert "nora@example.com" in result.error_line()
    assert result.returncode == 1


def test_booking_outside_availability_needs_the_override(db_cli: InProcessCli, study: SeededStudy) -> None:
    """Refused with one line that mentions the override; accepted with ``--override-availability``."""
    args = ("interview", "book", "--study", str(study.study_id), "--participant", "nora@example.com", "--start", OUT_OF_HOURS, "--host", ADA, "--json")

    line = db_cli(*args).error_line()
    assert "availability" in line
    assert db_cli("interview", "list", "--study", str(study.study_id), "--json").json()["items"] == []

    booked = db_cli(*args, "--override-availability").json()
    assert datetime.fromisoformat(booked["starts_at"]) == datetime.fromisoformat(OUT_OF_HOURS)
    listed = db_cli("interview", "list", "--study", str(study.study_id), "--json").json()
    assert [i["id"] for i in listed["items"]] == [booked["interview_id"]]


def test_start_without_utc_offset_is_refused(db_cli: InProcessCli, study: SeededStudy) -> None:
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
def test_unknown_study_is_one_error_line(db_cli: InProcessCli, args: tuple[str, ...]) -> None:
    assert "999" in db_cli(*args).error_line()


# ---------------------------------------------------------------- the workspace of `team create`


def test_team_create_without_workspace_or_token_says_to_pass_workspace(cli: InProcessCli) -> None:
    line = cli("team", "create", "UX Research", "--member", ADA).error_line()

    assert "--workspace" in line
    assert cli("team", "list", "--json").json() == []


def test_team_create_learns_the_workspace_from_slack(cli: InProcessCli, fake_slack: FakeSlackAPI) -> None:
    """With SLACK_BOT_TOKEN, the workspace comes from ``auth.test`` (here the fake's T0TEST)."""
    with_token = cli.with_env(SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_API_URL=fake_slack.api_url)

    team = with_token("team", "create", "UX Research", "--member", ADA, "--json").json()

    assert team["slack_workspace_id"] == fake_slack.team_id == WORKSPACE
    [call] = fake_slack.calls_to("auth.test")
    assert not call.failed


def test_team_create_with_a_token_slack_rejects_says_to_pass_workspace(cli: InProcessCli, fake_slack: FakeSlackAPI) -> None:
    rejected = cli.with_env(SLACK_BOT_TOKEN="xoxb-revoked-token", SLACK_API_URL=fake_slack.api_url)

    line = rejected("team", "create", "UX Research", "--member", ADA).error_line()

    assert "invalid_auth" in line and "--workspace" in line
    assert [call.error for call in fake_slack.calls_to("auth.test")] == ["invalid_auth"]


def test_team_create_when_slack_is_unreachable_is_one_error_line(cli: InProcessCli) -> None:
    """A network failure while asking Slack for the workspace is reported like any other error."""
    unreachable = cli.with_env(SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_API_URL=f"http://127.0.0.1:{free_port()}/api/")

    line = unreachable("team", "create", "UX Research", "--member", ADA).error_line()

    assert "--workspace" in line


# ---------------------------------------------------------------- the database schema


def test_db_upgrade_and_current(cli: InProcessCli) -> None:
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


def test_database_url_is_not_echoed_in_configuration_errors(cli: InProcessCli) -> None:
    """DATABASE_URL may hold a password, so the error names the variable but not its value."""
    result = cli.with_env(DATABASE_URL="mysql://admin:hunter2@db.example.com/x")("team", "list")

    line = result.error_line()
    assert "DATABASE_URL" in line and result.returncode == 2
    assert "hunter2" not in line
