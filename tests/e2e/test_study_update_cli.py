"""`interview-desk study update`, run as a user runs it: a subprocess on the test database."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ADA, BO, CHANNEL, WORKSPACE
from tests.e2e.processes import MEETING_URL, Cli, SeededStudy, clean_env, seed_study

pytestmark = pytest.mark.e2e


@pytest.fixture
def db_cli(tmp_path: Path, database_url: str) -> Cli:
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    return Cli(workdir, clean_env(DATABASE_URL=database_url))


@pytest.fixture
def study(db_cli: Cli) -> SeededStudy:
    return seed_study(db_cli, workspace=WORKSPACE, channel=CHANNEL, host=ADA, members=(ADA, BO))


def _update(db_cli: Cli, study: SeededStudy, *args: str) -> dict:
    return db_cli("study", "update", "--study", str(study.study_id), *args, "--json").json()


def test_update_changes_the_given_settings_and_keeps_the_rest(db_cli: Cli, study: SeededStudy) -> None:
    result = _update(
        db_cli, study, "--duration", "60", "--timezone", "europe/lisbon", "--availability", "Mon 09:00-12:00, Tue 13:00-17:00",
        "--buffer", "15", "--min-notice-hours", "1.5", "--horizon-days", "14", "--participant-limit", "3",
        "--no-participants-can-reschedule", "--change-cutoff-hours", "6", "--incentive", "50 eur",
        "--observer-url", "https://observe.example.com/room",
    )

    settings = result["settings"]
    assert result["study"]["id"] == study.study_id
    assert (settings["duration_minutes"], settings["timezone"], settings["availability"]) == (60, "Europe/Lisbon", "Mon 09:00-12:00, Tue 13:00-17:00")
    assert (settings["buffer_minutes"], settings["min_notice_hours"], settings["horizon_days"], settings["participant_limit"]) == (15, "1.5", 14, 3)
    assert (settings["participants_can_reschedule"], settings["change_cutoff_hours"], settings["incentive"]) == (False, 6, "50 EUR")
    assert settings["name"] == "Checkout redesign" and settings["hosts"] == [{"slack_user_id": ADA, "url": MEETING_URL, "password": ""}]
    assert "duration_minutes" in result["changed"] and "name" not in result["changed"]
    listed = db_cli("study", "list", "--json").json()
    assert [(s["duration_minutes"], s["timezone"]) for s in listed] == [(60, "Europe/Lisbon")]

    again = db_cli("study", "update", "--study", CHANNEL, "--duration", "60", "--no-incentive")
    assert again.returncode == 0, str(again)
    assert again.stdout.strip() == f"Study {study.study_id} 'Checkout redesign': updated incentive."


def test_screener_file_and_immediate_scheduling(db_cli: Cli, study: SeededStudy, tmp_path: Path) -> None:
    screener = tmp_path / "screener.txt"
    screener.write_text("Do you shop online? | Weekly* | Monthly* | Never\nOwn a car? | yes | no*\n", encoding="utf-8")

    result = _update(db_cli, study, "--screener-file", str(screener), "--immediate-scheduling")

    assert result["settings"]["immediate_scheduling"] is True
    assert result["settings"]["screener"] == "Do you shop online? | Weekly* | Monthly* | Never\nOwn a car? | yes | no*"


BAD_INPUT = [
    (("--timezone", "Mars/Olympus"), "'Mars/Olympus' is not a time zone"),
    (("--availability", "Mon 22:00-02:00"), "can't cross midnight"),
    (("--availability", "whenever suits"), "Can't read 'whenever suits'"),
    (("--buffer", "-5"), "buffer between interviews can't be negative"),
    (("--duration", "abc"), "session length must be a whole number"),
    (("--incentive", "50 XYZ"), "XYZ is not an ISO 4217 currency code"),
    (("--incentive", "5 EUR", "--no-incentive"), "not both"),
    (("--observer-url", "not a link"), "must be a web address"),
    (("--immediate-scheduling",), "add at least one question"),
    (("--screener-file", "missing.txt"), "Can't read the screener file 'missing.txt'"),
    ((), "Nothing to change"),
]


def test_bad_input_is_one_error_line_and_changes_nothing(db_cli: Cli, study: SeededStudy) -> None:
    """Every case on one seeded study: seeding through the CLI costs more than the checks."""
    for args, expected in BAD_INPUT:
        line = db_cli("study", "update", "--study", str(study.study_id), *args).error_line()
        assert expected in line, (args, line)
    [listed] = db_cli("study", "list", "--json").json()
    assert (listed["duration_minutes"], listed["timezone"]) == (45, "Europe/Berlin")


def test_bad_screener_line_and_several_problems_at_once(db_cli: Cli, study: SeededStudy, tmp_path: Path) -> None:
    screener = tmp_path / "screener.txt"
    screener.write_text("Fine? | yes* | no\nOnly one answer? | yes*\n", encoding="utf-8")

    line = db_cli("study", "update", "--study", str(study.study_id), "--screener-file", str(screener), "--buffer", "-1").error_line()

    assert "Screener line 2: give at least two answers" in line and "can't be negative" in line


def test_unknown_study_is_one_error_line(db_cli: Cli) -> None:
    assert "999" in db_cli("study", "update", "--study", "999", "--duration", "30").error_line()
