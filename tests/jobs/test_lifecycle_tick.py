"""The lifecycle tick itself: the unconfirmed-attendance warning, the study schedules it keeps in
memory, a failed tick that loses nothing, and the scheduler that runs it inside ``serve``."""

import logging
import time
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, select, text

from bot.composition import build_lifecycle_runner, build_outbox_worker
from bot.jobs import scheduler
from bot.jobs.lifecycle import LifecycleRunner, Schedules, run_tick
from bot.jobs.outbox_worker import OutboxWorker
from bot.services import Services
from bot.services.lifecycle import LifecycleService
from bot.services.notifications import Notifier
from bot.services.reminders import ReminderService
from bot.services.study_settings import SettingsForm, StudySettingsService
from bot.settings import Settings
from storage.db import Database
from storage.models import Attendee
from tests.conftest import ADA, CLI, MovableClock, Seed, berlin
from tests.support.fake_slack import FakeSlackAPI
from tests.support.mail import messages, with_smtp
from tests.support.smtp_servers import SmtpServer

START = berlin(8, 10)


@pytest.fixture
def settings(settings: Settings, smtp_server: SmtpServer) -> Settings:
    return with_smtp(settings, smtp_server)


@pytest.fixture
def worker(settings: Settings, services: Services) -> OutboxWorker:
    return build_outbox_worker(settings, services)


@pytest.fixture
def runner(services: Services) -> LifecycleRunner:
    return build_lifecycle_runner(services)


def _book(services: Services, seed: Seed, worker: OutboxWorker, fake_slack: FakeSlackAPI, email: str = "nora@example.com") -> int:
    interview_id = services.booking.book(study_ref=seed.study_id, participant_email=email, starts_at=START, host_id=ADA, actor=CLI).interview_id
    worker.drain()
    fake_slack.reset()
    return interview_id


def _at(clock: MovableClock, moment: Any, runner: LifecycleRunner, worker: OutboxWorker) -> None:
    clock.now = moment
    runner.tick()
    worker.drain()


def _warnings(fake_slack: FakeSlackAPI) -> list[dict[str, Any]]:
    return [c.params for c in fake_slack.calls_to("chat.postMessage") if "not confirmed attendance" in c.params.get("text", "")]


def _warn_hours(db: Database, seed: Seed, hours: str) -> None:
    StudySettingsService(db).update(seed.study_id, SettingsForm(unconfirmed_warning_hours=hours), CLI)


# ---------------------------------------------------------------- unconfirmed attendance


def test_the_team_is_warned_once_when_a_participant_has_not_confirmed_in_time(
    services: Services, seeded: Seed, clock: MovableClock, runner: LifecycleRunner, worker: OutboxWorker,
    fake_slack: FakeSlackAPI, db: Database,
) -> None:
    _warn_hours(db, seeded, "36")
    _book(services, seeded, worker, fake_slack)
    _at(clock, START - timedelta(hours=36, minutes=1), runner, worker)
    assert _warnings(fake_slack) == []

    _at(clock, START - timedelta(hours=36), runner, worker)
    [warning] = _warnings(fake_slack)
    assert warning["text"] == "⚠️ Nora Quist has not confirmed attendance yet." and warning["thread_ts"]
    [actions] = [b for b in warning["blocks"] if b["type"] == "actions"]
    assert [e["text"]["text"] for e in actions["elements"]] == ["Send reminder", "Release slot"]
    assert actions["elements"][1]["confirm"]["confirm"]["text"] == "Release it"

    for moment in (timedelta(hours=35), timedelta(hours=2)):
        _at(clock, START - moment, runner, worker)
    _at(clock, START - timedelta(hours=1), build_lifecycle_runner(services), worker)
    assert len(_warnings(fake_slack)) == 1


def test_no_warning_when_it_is_off_or_the_participant_confirmed(
    services: Services, seeded: Seed, clock: MovableClock, runner: LifecycleRunner, worker: OutboxWorker,
    fake_slack: FakeSlackAPI, db: Database,
) -> None:
    _book(services, seeded, worker, fake_slack)
    _at(clock, START - timedelta(hours=24), runner, worker)  # off by default
    assert _warnings(fake_slack) == []

    _warn_hours(db, seeded, "12")
    with db.transaction() as session:
        session.scalars(select(Attendee).where(Attendee.email == "nora@example.com")).one().attendance_confirmed_at = clock()
    _at(clock, START - timedelta(hours=12), runner, worker)
    assert _warnings(fake_slack) == []


def test_a_group_warning_names_only_who_has_not_confirmed_and_a_moved_interview_is_warned_again(
    services: Services, seeded: Seed, clock: MovableClock, runner: LifecycleRunner, worker: OutboxWorker,
    fake_slack: FakeSlackAPI, db: Database,
) -> None:
    StudySettingsService(db).update(seeded.study_id, SettingsForm(participant_limit="3", unconfirmed_warning_hours="24"), CLI)
    for email in ("nora@example.com", "otto@example.com"):
        interview_id = _book(services, seeded, worker, fake_slack, email)
    with db.transaction() as session:
        session.scalars(select(Attendee).where(Attendee.email == "otto@example.com")).one().attendance_confirmed_at = clock()
    _at(clock, START - timedelta(hours=24), runner, worker)
    assert [w["text"] for w in _warnings(fake_slack)] == ["⚠️ Nora Quist has not confirmed attendance yet."]

    clock.now = START - timedelta(hours=20)
    services.changes.reschedule(interview_id, CLI, None, starts_at=START + timedelta(days=3))
    _at(clock, START + timedelta(days=2), runner, worker)
    assert len(_warnings(fake_slack)) == 2


def test_an_interview_booked_after_the_warning_time_is_not_warned_about(
    services: Services, seeded: Seed, clock: MovableClock, runner: LifecycleRunner, worker: OutboxWorker,
    fake_slack: FakeSlackAPI, db: Database,
) -> None:
    _warn_hours(db, seeded, "24")
    clock.now = START - timedelta(hours=6)
    _book(services, seeded, worker, fake_slack)
    _at(clock, START - timedelta(hours=5), runner, worker)
    assert _warnings(fake_slack) == []


# ---------------------------------------------------------------- what the tick keeps, and loses nothing


def test_the_schedules_are_read_in_full_once_then_only_for_changed_studies(services: Services, seeded: Seed, db: Database) -> None:
    schedules = Schedules()
    with db.transaction() as session:
        schedules.refresh(session)
    assert schedules.reminder_leads() == {timedelta(hours=24): {seeded.study_id}, timedelta(hours=1): {seeded.study_id}}
    assert schedules.warning_leads() == {} and schedules.grace(seeded.study_id) == timedelta(minutes=30)

    StudySettingsService(db).update(seeded.study_id, SettingsForm(reminders="3h", unconfirmed_warning_hours="48", completion_grace_minutes="5"), CLI)
    with db.transaction() as session:
        schedules.refresh(session)
    assert schedules.reminder_leads() == {timedelta(hours=3): {seeded.study_id}}
    assert schedules.warning_leads() == {timedelta(hours=48): {seeded.study_id}}
    assert schedules.grace(seeded.study_id) == timedelta(minutes=5)


class FailingOnce(ReminderService):
    """The database went away in the middle of a tick, once."""

    failed = False

    def send_due(self, interview_ids: Sequence[int]) -> int:
        if not self.failed:
            self.failed = True
            raise ConnectionError("server closed the connection unexpectedly")
        return super().send_due(interview_ids)


def test_a_failed_tick_is_logged_and_the_next_one_sends_what_came_due(
    services: Services, seeded: Seed, clock: MovableClock, worker: OutboxWorker, fake_slack: FakeSlackAPI,
    smtp_server: SmtpServer, caplog: pytest.LogCaptureFixture,
) -> None:
    notifier = Notifier(services.mailer)
    runner = LifecycleRunner(services.db, clock, FailingOnce(services.db, clock, notifier, services.mailer),
                             LifecycleService(services.db, clock, notifier))
    _book(services, seeded, worker, fake_slack)
    smtp_server.received.clear()
    clock.now = START - timedelta(hours=25)
    run_tick(runner)  # nothing due: the reminder service is not asked

    clock.now = START - timedelta(hours=24)
    with caplog.at_level(logging.ERROR):
        run_tick(runner)
    assert "lifecycle tick failed" in caplog.text

    clock.now = START - timedelta(hours=23)  # an hour later: long past the tick's overlap
    run_tick(runner)
    worker.drain()
    assert len(messages(smtp_server, to="nora@example.com")) == 1


def test_the_scheduler_inside_serve_runs_the_tick(
    services: Services, seeded: Seed, clock: MovableClock, worker: OutboxWorker, runner: LifecycleRunner,
    fake_slack: FakeSlackAPI, smtp_server: SmtpServer,
) -> None:
    _book(services, seeded, worker, fake_slack)
    smtp_server.received.clear()
    clock.now = START - timedelta(hours=24)
    ticker = scheduler.start(worker, runner, every_seconds=0.05, lifecycle_every_seconds=0.05)
    try:
        deadline = time.monotonic() + 10
        while len(messages(smtp_server, to="nora@example.com")) < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        ticker.shutdown()
    [reminder] = messages(smtp_server, to="nora@example.com")
    assert str(reminder["Subject"]).startswith("Reminder: your Checkout redesign interview")


def test_participants_and_hosts_without_an_email_are_skipped(
    services: Services, seeded: Seed, clock: MovableClock, runner: LifecycleRunner, worker: OutboxWorker,
    fake_slack: FakeSlackAPI, smtp_server: SmtpServer,
) -> None:
    """Ada has no email on record here (no profile yet): only Nora is reminded."""
    _book(services, seeded, worker, fake_slack)
    smtp_server.received.clear()
    _at(clock, START - timedelta(hours=24), runner, worker)
    assert [str(m["To"]) for m in messages(smtp_server)] == ["Nora Quist <nora@example.com>"]


def _history(db: Database, study_id: int, count: int) -> None:
    """``count`` interviews: years of settled ones before now and upcoming ones months ahead, so
    the planner has a history to avoid, as in a study that has run for a long time."""
    with db.engine.begin() as connection:
        connection.execute(text("""
            INSERT INTO interviews (study_id, starts_at, ends_at, session_name, status, participant_limit,
                                    ical_uid, ical_sequence, version, created_at, updated_at, timed_at, outcome_at)
            SELECT :study, t, t + interval '45 minutes', 'History', s, 1, 'history-' || n, 0, 1, t, t, t,
                   CASE WHEN s = 'upcoming' THEN NULL ELSE t + interval '1 hour' END
            FROM generate_series(1, :count) AS n,
                 LATERAL (SELECT CASE WHEN n % 4 = 0 THEN timestamptz '2030-06-01' ELSE timestamptz '2026-01-01' END
                                 + n * interval '97 minutes' AS t,
                                 (ARRAY['upcoming', 'completed', 'no_show', 'canceled'])[1 + n % 4] AS s) AS row
        """), {"study": study_id, "count": count})
        connection.execute(text("ANALYZE interviews"))


# The columns each of the tick's range queries must find through its index.
_RANGES = ("interviews.starts_at >", "interviews.ends_at <=", "interviews.outcome_at >", "studies.updated_at >=")


def test_every_query_of_a_tick_is_an_index_scan_on_postgresql(
    services: Services, seeded: Seed, clock: MovableClock, runner: LifecycleRunner, worker: OutboxWorker,
    fake_slack: FakeSlackAPI, db: Database,
) -> None:
    """What a tick reads is found through an index range, so it costs the same beside years of
    history: each plan is checked against 20,000 interviews from 2026 to 2030."""
    if db.backend != "postgresql":
        pytest.skip("the plans are PostgreSQL's")
    _warn_hours(db, seeded, "24")
    _book(services, seeded, worker, fake_slack)
    _history(db, seeded.study_id, 20_000)
    runner.tick()  # the first tick reads every study's schedule once: that one may scan
    statements: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", record)
    try:  # reminders and the warning, completion, the next-day prompt
        for moment in (START - timedelta(hours=24), START + timedelta(hours=2), START + timedelta(days=1, hours=2)):
            _at(clock, moment, runner, worker)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)

    ranged = [s for s, _ in statements if any(r in s for r in _RANGES)]
    assert len(ranged) >= 5
    with db.engine.connect() as connection:
        connection.exec_driver_sql("SET enable_seqscan = off")  # small tables (studies) would rather scan
        for statement, parameters in statements:
            plan = "\n".join(row[0] for row in connection.exec_driver_sql("EXPLAIN " + statement, parameters))
            assert "Seq Scan" not in plan, f"{statement}\n{plan}"
            for bound in (r.split(".")[1].split()[0] for r in _RANGES if r in statement):
                conditions = " ".join(line for line in plan.splitlines() if "Index Cond" in line)
                assert bound in conditions, f"{bound} is not an index range here:\n{statement}\n{plan}"
