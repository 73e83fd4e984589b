"""`interview-desk study update` in-process on both databases: what it changes, and every bad
input refused with one ``error:`` line, exit status 1 and the study exactly as it was.

The installed console script runs ``study update`` in ``tests/e2e/test_study_update_cli.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.cli.in_process import InProcessCli
from tests.conftest import ADA, CHANNEL
from tests.e2e.processes import MEETING_URL, SeededStudy


def _update(db_cli: InProcessCli, study: SeededStudy, *args: str) -> dict[str, Any]:
    return db_cli("study", "update", "--study", str(study.study_id), *args, "--json").json()


def _settings_now(db_cli: InProcessCli, study: SeededStudy) -> dict[str, Any]:
    """Every setting of the study as stored, read by an update that changes nothing."""
    unchanged = _update(db_cli, study, "--name", "Checkout redesign")
    assert unchanged["changed"] == [], unchanged
    return unchanged["settings"]


def test_update_changes_the_given_settings_and_keeps_the_rest(db_cli: InProcessCli, study: SeededStudy) -> None:
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
    assert again.stdout == f"Study {study.study_id} 'Checkout redesign': updated incentive.\n"


SCREENER = "Do you shop online? | Weekly* | Monthly* | Never\nOwn a car? | yes | no*"


def test_screener_file_and_immediate_scheduling(db_cli: InProcessCli, study: SeededStudy, tmp_path: Path) -> None:
    screener = tmp_path / "screener.txt"
    screener.write_text(SCREENER + "\n", encoding="utf-8")

    result = _update(db_cli, study, "--screener-file", str(screener), "--immediate-scheduling")

    assert result["settings"]["immediate_scheduling"] is True
    assert result["settings"]["screener"] == SCREENER


def test_screener_from_standard_input(db_cli: InProcessCli, study: SeededStudy) -> None:
    """``--screener-file -`` reads the questions from stdin, for a pipe."""
    result = db_cli("study", "update", "--study", str(study.study_id), "--screener-file", "-", "--json", input=SCREENER + "\n")

    assert result.json()["settings"]["screener"] == SCREENER


def test_google_meet_and_the_calendar_conflict_rule(db_cli: InProcessCli, study: SeededStudy) -> None:
    result = _update(db_cli, study, "--conferencing", "google-meet", "--calendar-conflicts", "all")

    assert (result["settings"]["conferencing"], result["settings"]["calendar_conflicts"]) == ("google_meet", "all")
    assert set(result["changed"]) == {"conferencing", "calendar_conflicts"}


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
    (("--reminders", "3m"), "A reminder goes out 5 minutes to 14 days before the interview, so '3m' won't do."),
    (("--duration", "60", "--buffer", "-5"), "can't be negative"),  # a good value does not slip through
    (("--conferencing", "zoom"), "The conferencing must be one of: link, google-meet."),
    (("--calendar-conflicts", "sometimes"), "The calendar conflict rule must be one of: busy, all, ignore."),
    ((), "Nothing to change"),
]


@pytest.mark.parametrize(("args", "expected"), BAD_INPUT, ids=[" ".join(args) or "no option" for args, _ in BAD_INPUT])
def test_bad_input_is_one_error_line_and_changes_nothing(
    db_cli: InProcessCli, study: SeededStudy, args: tuple[str, ...], expected: str,
) -> None:
    before = _settings_now(db_cli, study)

    result = db_cli("study", "update", "--study", str(study.study_id), *args)

    assert expected in result.error_line()
    assert result.returncode == 1, str(result)
    assert _settings_now(db_cli, study) == before


def test_bad_screener_line_and_several_problems_at_once(db_cli: InProcessCli, study: SeededStudy, tmp_path: Path) -> None:
    screener = tmp_path / "screener.txt"
    screener.write_text("Fine? | yes* | no\nOnly one answer? | yes*\n", encoding="utf-8")
    before = _settings_now(db_cli, study)

    line = db_cli("study", "update", "--study", str(study.study_id), "--screener-file", str(screener), "--buffer", "-1").error_line()

    assert "Screener line 2: give at least two answers" in line and "can't be negative" in line
    assert _settings_now(db_cli, study) == before


def test_unknown_study_is_one_error_line(db_cli: InProcessCli) -> None:
    assert "999" in db_cli("study", "update", "--study", "999", "--duration", "30").error_line()
