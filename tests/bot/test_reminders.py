"""Reminders through the real lifecycle tick: due times, late bookings, moves and cancellations,
downtime, several servers at once; the emails as the real SMTP server received them, the notes
as the fake Slack API received them. The clock is moved, never waited for."""

import threading
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.composition import build_lifecycle_runner, build_outbox_worker
from bot.jobs.lifecycle import LifecycleRunner
from bot.jobs.outbox_worker import OutboxWorker
from bot.services import Services
from bot.services.errors import InvalidInput
from bot.services.study_settings import (
    SettingsForm,
    StudySettings,
    StudySettingsService,
    settings_of,
)
from bot.services.study_settings_text import format_reminders, parse_reminders
from bot.settings import Settings
from storage.db import Database
from storage.enums import ActivityKind, ActorKind, AttendeeRole, OutboxStatus
from storage.models import ActivityEvent, Attendee, OutboxItem, Participant, Study, TeamMember
from tests.cli.in_process import InProcessCli
from tests.conftest import ADA, CLI, TEST_MAILER, MovableClock, Seed, berlin
from tests.support.mail import has_invite, html_of, messages, text_of, with_smtp
from tests.support.smtp_servers import SmtpServer

START = berlin(8, 10)  # Friday 10:00 in Berlin, 09:00 UTC; the clock starts three days before
DAY_BEFORE = START - timedelta(hours=24)
HOUR_BEFORE = START - timedelta(hours=1)


@pytest.fixture
def settings(settings: Settings, smtp_server: SmtpServer) -> Settings:
    return with_smtp(settings, smtp_server)


@pytest.fixture
def worker(settings: Settings, services: Services, ada_has_email: None) -> OutboxWorker:
    return build_outbox_worker(settings, services)


@pytest.fixture
def runner(services: Services) -> LifecycleRunner:
    return build_lifecycle_runner(services)


@pytest.fixture
def ada_has_email(db: Database, seeded: Seed) -> None:
    with db.transaction() as session:
        ada = session.scalars(select(TeamMember).where(TeamMember.slack_user_id == ADA)).one()
        ada.email, ada.display_name = "ada@example.com", "Ada"


def _book(services: Services, seed: Seed, worker: OutboxWorker, smtp: SmtpServer, email: str = "nora@example.com",
          start: datetime = START) -> int:
    """Book, deliver what booking sends, and forget it: tests look at reminders only."""
    booked = services.booking.book(study_ref=seed.study_id, participant_email=email, starts_at=start, host_id=ADA, actor=CLI)
    worker.drain()
    smtp.received.clear()
    return booked.interview_id


def _at(clock: MovableClock, moment: datetime, runner: LifecycleRunner, worker: OutboxWorker) -> None:
    """Time passes to ``moment``; the tick runs, and the outbox delivers what it queued."""
    clock.now = moment
    runner.tick()
    worker.drain()


def _reminders(smtp: SmtpServer, to: str | None = None) -> list[EmailMessage]:
    return [m for m in messages(smtp, to=to) if str(m["Subject"]).startswith("Reminder:")]


def _keys(db: Database, prefix: str = "reminder:") -> dict[str, OutboxStatus]:
    with db.transaction() as session:
        rows = session.execute(select(OutboxItem.idempotency_key, OutboxItem.status).where(OutboxItem.idempotency_key.startswith(prefix)))
        return dict(rows.all())


def _notes(slack_posts: list, kind_text: str) -> list[str]:
    return [p.params["text"] for p in slack_posts if kind_text in p.params.get("text", "")]


def _token(db: Database, email: str) -> str:
    with db.transaction() as session:
        participant = session.scalars(select(Participant).where(Participant.email == email)).one()
        return TEST_MAILER.links.token(participant.id, participant.token_nonce or "")


# ---------------------------------------------------------------- the schedule


def test_a_day_and_an_hour_before_participant_and_host_are_reminded_once(
    services: Services, seeded: Seed, clock: MovableClock, runner: LifecycleRunner, worker: OutboxWorker,
    smtp_server: SmtpServer, db: Database, fake_slack,
) -> None:
    with db.transaction() as session:  # Nora picked her own zone on the booking page
        session.scalars(select(Participant).where(Participant.email == "nora@example.com")).one().timezone = "America/New_York"
    interview_id = _book(services, seeded, worker, smtp_server)

    _at(clock, DAY_BEFORE - timedelta(minutes=1), runner, worker)
    assert _reminders(smtp_server) == []

    _at(clock, DAY_BEFORE, runner, worker)
    [nora] = _reminders(smtp_server, to="nora@example.com")
    [ada] = _reminders(smtp_server, to="ada@example.com")
    body = text_of(nora)
    assert "Fri 8 March 2030, 04:00–04:45 (America/New_York)" in body  # her zone, named
    assert "Join: https://meet.example.com/ada" in body and "Password: s3cret" in body
    token = _token(db, "nora@example.com")
    confirm = f"http://participants.test/s/{token}/attend/{interview_id}?at={int(START.timestamp())}"
    assert f"Confirm attendance: {confirm}" in body and f'href="{confirm}"' in html_of(nora)
    assert f"Reschedule or cancel: http://participants.test/s/{token}/manage" in body
    assert not has_invite(nora)
    host_body = text_of(ada)
    assert "with Nora Quist" in host_body and "Fri 8 March 2030, 10:00–10:45 (Europe/Berlin)" in host_body
    assert "Not confirmed yet: Nora Quist" in host_body
    # One note for the round, however many emails it took.
    assert _notes(fake_slack.calls_to("chat.postMessage"), "Reminder sent") == ["Reminder sent to Nora Quist (24 h before)."]

    for minutes in (1, 5, 30):  # later ticks, on this server or after a restart, send nothing more
        _at(clock, DAY_BEFORE + timedelta(minutes=minutes), runner, worker)
    _at(clock, DAY_BEFORE + timedelta(minutes=31), build_lifecycle_runner(services), worker)
    assert len(_reminders(smtp_server)) == 2

    _at(clock, HOUR_BEFORE, runner, worker)
    assert len(_reminders(smtp_server, to="nora@example.com")) == 2 and len(_reminders(smtp_server, to="ada@example.com")) == 2
    assert _notes(fake_slack.calls_to("chat.postMessage"), "Reminder sent")[-1] == "Reminder sent to Nora Quist (1 h before)."
    with db.transaction() as session:
        events = session.scalars(select(ActivityEvent).where(ActivityEvent.kind == ActivityKind.REMINDER_SENT)
                                 .order_by(ActivityEvent.id)).all()
        assert sorted((e.details["to"], e.details["offset"]) for e in events) == [
            ("Ada", 60), ("Ada", 1440), ("Nora Quist", 60), ("Nora Quist", 1440)]
        assert {e.actor_kind for e in events} == {ActorKind.SYSTEM} and {e.details["template"] for e in events} == {"reminder"}

    _at(clock, START + timedelta(minutes=1), runner, worker)
    assert len(_reminders(smtp_server)) == 4


def test_a_participant_who_confirmed_is_thanked_instead_of_asked(
    services: Services, seeded: Seed, clock: MovableClock, runner: LifecycleRunner, worker: OutboxWorker,
    smtp_server: SmtpServer, db: Database,
) -> None:
    interview_id = _book(services, seeded, worker, smtp_server)
    with db.transaction() as session:
        seat = session.scalars(select(Attendee).where(Attendee.interview_id == interview_id, Attendee.role == AttendeeRole.PARTICIPANT)).one()
        seat.attendance_confirmed_at = clock()
    _at(clock, DAY_BEFORE, runner, worker)
    [nora] = _reminders(smtp_server, to="nora@example.com")
    assert "You've confirmed you'll be there" in text_of(nora) and "/attend/" not in text_of(nora)
    assert "Not confirmed yet" not in text_of(_reminders(smtp_server, to="ada@example.com")[0])


def test_booked_inside_the_window_gets_only_the_reminders_still_ahead(
    services: Services, seeded: Seed, clock: MovableClock, runner: LifecycleRunner, worker: OutboxWorker,
    smtp_server: SmtpServer, db: Database,
) -> None:
    clock.now = START - timedelta(hours=10)
    runner.tick()
    interview_id = _book(services, seeded, worker, smtp_server)

    for moment in (START - timedelta(hours=10), START - timedelta(hours=5), HOUR_BEFORE - timedelta(minutes=1)):
        _at(clock, moment, runner, worker)
    assert _reminders(smtp_server) == []  # the 24-hour one was due before the booking: never owed

    _at(clock, HOUR_BEFORE, runner, worker)
    assert len(_reminders(smtp_server, to="nora@example.com")) == 1
    assert set(_keys(db)) == {f"reminder:{interview_id}:{int(START.timestamp())}:60:a{a}" for a in _attendee_ids(db, interview_id)}


def _attendee_ids(db: Database, interview_id: int) -> list[int]:
    with db.transaction() as session:
        return list(session.scalars(select(Attendee.id).where(Attendee.interview_id == interview_id)))


def test_rescheduling_plans_the_reminders_again_for_the_new_time(
    services: Services, seeded: Seed, clock: MovableClock, runner: LifecycleRunner, worker: OutboxWorker,
    smtp_server: SmtpServer, db: Database,
) -> None:
    interview_id = _book(services, seeded, worker, smtp_server)
    _at(clock, DAY_BEFORE, runner, worker)
    assert len(_reminders(smtp_server, to="nora@example.com")) == 1

    new_start = START + timedelta(days=3)  # the Monday after
    clock.now = DAY_BEFORE + timedelta(hours=2)
    services.changes.reschedule(interview_id, CLI, None, starts_at=new_start)
    worker.drain()
    smtp_server.received.clear()

    _at(clock, HOUR_BEFORE, runner, worker)  # the old time's hour: nothing
    assert _reminders(smtp_server) == []
    _at(clock, new_start - timedelta(hours=24), runner, worker)
    [nora] = _reminders(smtp_server, to="nora@example.com")
    assert "Mon 11 March 2030, 10:00–10:45 (Europe/Berlin)" in text_of(nora)
    _at(clock, new_start - timedelta(hours=1), runner, worker)
    assert len(_reminders(smtp_server, to="nora@example.com")) == 2


def test_a_reminder_waiting_for_the_old_time_is_dropped_when_the_interview_moves(
    services: Services, seeded: Seed, clock: MovableClock, runner: LifecycleRunner, worker: OutboxWorker,
    smtp_server: SmtpServer, db: Database,
) -> None:
    interview_id = _book(services, seeded, worker, smtp_server)
    clock.now = DAY_BEFORE
    runner.tick()  # queued, but the SMTP server is away: not delivered yet
    assert set(_keys(db).values()) == {OutboxStatus.PENDING}

    services.changes.reschedule(interview_id, CLI, None, starts_at=START + timedelta(days=3))
    _at(clock, DAY_BEFORE + timedelta(minutes=1), runner, worker)

    assert set(_keys(db).values()) == {OutboxStatus.DROPPED}
    assert _reminders(smtp_server) == []
    with db.transaction() as session:
        assert session.scalar(select(OutboxItem.last_error).where(OutboxItem.status == OutboxStatus.DROPPED).limit(1)).startswith("No longer due")


def test_a_reminder_queued_just_before_a_reschedule_is_dropped_at_its_turn_without_another_tick(
    services: Services, seeded: Seed, clock: MovableClock, runner: LifecycleRunner, worker: OutboxWorker,
    smtp_server: SmtpServer, db: Database,
) -> None:
    """The tick queued it, then a teammate moved the interview before any worker claimed it: the
    check made when the worker claims it keeps it from going out for the old time."""
    interview_id = _book(services, seeded, worker, smtp_server)
    clock.now = DAY_BEFORE
    runner.tick()
    services.changes.reschedule(interview_id, CLI, None, starts_at=START + timedelta(days=3))
    result = worker.drain()

    assert set(_keys(db).values()) == {OutboxStatus.DROPPED} and result.dropped == 2  # Nora and Ada
    assert _reminders(smtp_server) == []
    assert messages(smtp_server, to="nora@example.com")  # the reschedule itself was told


def test_cancelling_drops_the_reminders(
    services: Services, seeded: Seed, clock: MovableClock, runner: LifecycleRunner, worker: OutboxWorker,
    smtp_server: SmtpServer, db: Database,
) -> None:
    interview_id = _book(services, seeded, worker, smtp_server)
    clock.now = DAY_BEFORE
    runner.tick()
    services.outcomes.cancel(interview_id, CLI, message="The prototype isn't ready.")
    _at(clock, DAY_BEFORE + timedelta(seconds=5), runner, worker)
    assert set(_keys(db).values()) == {OutboxStatus.DROPPED}
    for moment in (HOUR_BEFORE, START):
        _at(clock, moment, runner, worker)
    assert _reminders(smtp_server) == []
    assert any("had to cancel" in text_of(m) for m in messages(smtp_server, to="nora@example.com"))


def test_an_edit_after_a_reminder_does_not_send_it_again(
    services: Services, seeded: Seed, clock: MovableClock, runner: LifecycleRunner, worker: OutboxWorker,
    smtp_server: SmtpServer, db: Database,
) -> None:
    """Editing the details raises the invite's SEQUENCE, not the time: the reminders stand."""
    interview_id = _book(services, seeded, worker, smtp_server)
    _at(clock, DAY_BEFORE, runner, worker)
    clock.now = DAY_BEFORE + timedelta(minutes=10)
    services.changes.edit_details(interview_id, CLI, None, description="Bring your phone.",
                                  conferencing_url="https://meet.example.com/other", conferencing_password=None)
    _at(clock, DAY_BEFORE + timedelta(minutes=11), runner, worker)
    _at(clock, DAY_BEFORE + timedelta(minutes=11), build_lifecycle_runner(services), worker)
    assert len(_reminders(smtp_server, to="nora@example.com")) == 1
    _at(clock, HOUR_BEFORE, runner, worker)
    [_, latest] = _reminders(smtp_server, to="nora@example.com")
    assert "https://meet.example.com/other" in text_of(latest)


# ---------------------------------------------------------------- downtime and several servers


def test_a_restart_after_downtime_sends_the_owed_reminder_once(
    services: Services, seeded: Seed, clock: MovableClock, runner: LifecycleRunner, worker: OutboxWorker,
    smtp_server: SmtpServer,
) -> None:
    _book(services, seeded, worker, smtp_server)
    _at(clock, DAY_BEFORE - timedelta(hours=1), runner, worker)  # the last tick before the server went down

    restarted = build_lifecycle_runner(services)
    _at(clock, DAY_BEFORE + timedelta(hours=3), restarted, worker)  # up again three hours late
    [late] = _reminders(smtp_server, to="nora@example.com")
    assert "Fri 8 March 2030" in text_of(late)
    _at(clock, DAY_BEFORE + timedelta(hours=3, seconds=5), restarted, worker)
    _at(clock, DAY_BEFORE + timedelta(hours=4), build_lifecycle_runner(services), worker)
    assert len(_reminders(smtp_server, to="nora@example.com")) == 1


def test_after_downtime_over_two_reminders_only_the_latest_goes_out(
    services: Services, seeded: Seed, clock: MovableClock, runner: LifecycleRunner, worker: OutboxWorker,
    smtp_server: SmtpServer, db: Database,
) -> None:
    interview_id = _book(services, seeded, worker, smtp_server)
    _at(clock, DAY_BEFORE - timedelta(hours=1), runner, worker)
    _at(clock, START - timedelta(minutes=30), build_lifecycle_runner(services), worker)
    assert len(_reminders(smtp_server, to="nora@example.com")) == 1
    assert {k.split(":")[3] for k in _keys(db)} == {"60"}  # "24 hours before" would be wrong now
    _at(clock, START - timedelta(minutes=29), runner, worker)
    assert len(_reminders(smtp_server, to="nora@example.com")) == 1
    assert interview_id


def test_two_servers_ticking_at_once_send_each_reminder_once(
    services: Services, seeded: Seed, clock: MovableClock, worker: OutboxWorker, smtp_server: SmtpServer,
    database_url: str,
) -> None:
    for email, hour in (("nora@example.com", 10), ("otto@example.com", 12)):
        _book(services, seeded, worker, smtp_server, email=email, start=berlin(8, hour))
    second_db = Database(database_url)  # another server: its own engine and connections
    try:
        second = Services.build(second_db, TEST_MAILER, clock)
        runners = [build_lifecycle_runner(services), build_lifecycle_runner(second)]
        for moment in (berlin(7, 10), berlin(7, 12), berlin(8, 9), berlin(8, 11)):
            clock.now = moment
            start = threading.Barrier(len(runners))
            errors: list[BaseException] = []

            def tick(runner: LifecycleRunner, start: threading.Barrier = start, errors: list[BaseException] = errors) -> None:
                start.wait()
                try:
                    runner.tick()
                except BaseException as error:  # reported below, in the test's thread
                    errors.append(error)

            threads = [threading.Thread(target=tick, args=(r,)) for r in runners]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=30)
            assert errors == []
            worker.drain()
    finally:
        second_db.dispose()
    for person in ("nora@example.com", "otto@example.com"):
        assert len(_reminders(smtp_server, to=person)) == 2
    assert len(_reminders(smtp_server, to="ada@example.com")) == 4


# ---------------------------------------------------------------- the study's schedule


def test_the_schedule_is_the_studys_own_and_a_change_applies_at_the_next_tick(
    services: Services, seeded: Seed, clock: MovableClock, runner: LifecycleRunner, worker: OutboxWorker,
    smtp_server: SmtpServer, db: Database,
) -> None:
    _book(services, seeded, worker, smtp_server)
    runner.tick()
    updated = StudySettingsService(db).update(seeded.study_id, SettingsForm(reminders="2 days, 30 min"), CLI)
    assert updated.changed == ("reminder_offsets_minutes",)
    with db.transaction() as session:
        assert session.get(Study, seeded.study_id).reminder_offsets_minutes == [2880, 30]

    for moment in (START - timedelta(days=2), DAY_BEFORE, HOUR_BEFORE, START - timedelta(minutes=30)):
        _at(clock, moment, runner, worker)
    with db.transaction() as session:
        offsets = sorted(int(e.details["offset"]) for e in session.scalars(select(ActivityEvent).where(
            ActivityEvent.kind == ActivityKind.REMINDER_SENT, ActivityEvent.details["to"].as_string() == "Nora Quist")))
    assert offsets == [30, 2880]


def test_no_reminders_when_the_study_wants_none(
    services: Services, seeded: Seed, clock: MovableClock, runner: LifecycleRunner, worker: OutboxWorker,
    smtp_server: SmtpServer, db: Database,
) -> None:
    StudySettingsService(db).update(seeded.study_id, SettingsForm(reminders="none"), CLI)
    _book(services, seeded, worker, smtp_server)
    for moment in (DAY_BEFORE, HOUR_BEFORE):
        _at(clock, moment, runner, worker)
    assert _reminders(smtp_server) == []


@pytest.mark.parametrize(
    ("typed", "minutes", "canonical"),
    [("24h, 1h", (1440, 60), "24h, 1h"), ("1 hour; 2 days", (2880, 60), "48h, 1h"), ("90m,1.5h", (90,), "90m"),
     ("30 minutes before, 1d", (1440, 30), "24h, 30m"), ("none", (), "none"), ("", (), "none")],
)
def test_reminder_times_read_forgiving_spellings(typed: str, minutes: tuple[int, ...], canonical: str) -> None:
    assert parse_reminders(typed) == minutes
    assert format_reminders(minutes) == canonical and parse_reminders(canonical) == minutes


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("3m", "5 minutes to 14 days"), ("15d", "5 minutes to 14 days"), ("soon", "Can't read 'soon'"),
     ("1h, 2h, 3h, 4h, 5h, 6h", "At most 5 reminders"), ("1.01h", "not a whole number of minutes")],
)
def test_bad_reminder_times_say_what_is_wrong(typed: str, expected: str) -> None:
    with pytest.raises(InvalidInput, match=expected):
        parse_reminders(typed)


def test_the_follow_up_settings_are_validated_with_the_rest_of_the_form(db: Database, seeded: Seed) -> None:
    with db.transaction() as session:
        form = settings_of(session.get(Study, seeded.study_id)).form()
    assert (form["reminders"], form["completion_grace_minutes"], form["unconfirmed_warning_hours"]) == ("24h, 1h", 30, "")
    with pytest.raises(InvalidInput) as raised:
        StudySettings.from_form(SettingsForm(**{**form, "reminders": "2 weeks", "completion_grace_minutes": "-1",
                                                "unconfirmed_warning_hours": "999"}))
    errors = raised.value.errors  # type: ignore[attr-defined]
    assert set(errors) == {"reminders", "completion_grace_minutes", "unconfirmed_warning_hours"}
    saved = StudySettings.from_form(SettingsForm(**{**form, "completion_grace_minutes": "0", "unconfirmed_warning_hours": "12"}))
    assert (saved.completion_grace_minutes, saved.unconfirmed_warning_hours) == (0, 12)


def test_the_command_line_changes_the_follow_up_settings(database_url: str, seeded: Seed, tmp_path: Path) -> None:
    cli = InProcessCli(tmp_path, DATABASE_URL=database_url)  # `bot.cli:main`, as the console script runs it
    result = cli("study", "update", "--study", str(seeded.study_id), "--reminders", "2d, 30 min",
                 "--completion-grace-minutes", "90", "--unconfirmed-warning-hours", "12", "--json").json()
    assert (result["settings"]["reminders"], result["settings"]["completion_grace_minutes"],
            result["settings"]["unconfirmed_warning_hours"]) == ("48h, 30m", 90, 12)
    assert set(result["changed"]) == {"reminder_offsets_minutes", "completion_grace_minutes", "unconfirmed_warning_hours"}

    off = cli("study", "update", "--study", str(seeded.study_id), "--unconfirmed-warning-hours", "off")
    assert off.stdout.strip() == f"Study {seeded.study_id} 'Checkout redesign': updated unconfirmed-attendance warning."
    bad = cli("study", "update", "--study", str(seeded.study_id), "--reminders", "3m")
    assert bad.returncode == 1 and bad.error_line() == "error: A reminder goes out 5 minutes to 14 days before the interview, so '3m' won't do."


def test_across_the_change_to_summer_time_a_reminder_counts_real_hours(
    services: Services, seeded: Seed, clock: MovableClock, runner: LifecycleRunner, worker: OutboxWorker,
    smtp_server: SmtpServer, db: Database,
) -> None:
    """Berlin moves its clocks an hour on in the night to Sunday 31 March 2030: "48 hours before"
    Monday 10:00 is Saturday 09:00 on Berlin's clocks, and the email shows Monday in summer time."""
    StudySettingsService(db).update(seeded.study_id, SettingsForm(reminders="48h"), CLI)
    monday = berlin(1, 10, month=4)
    _book(services, seeded, worker, smtp_server, start=monday)
    _at(clock, berlin(30, 8, 59), runner, worker)
    assert _reminders(smtp_server) == []
    _at(clock, berlin(30, 9), runner, worker)
    [nora] = _reminders(smtp_server, to="nora@example.com")
    assert "Mon 1 April 2030, 10:00–10:45 (Europe/Berlin)" in text_of(nora)


def test_a_reminder_still_waiting_when_the_interview_starts_is_dropped(
    services: Services, seeded: Seed, clock: MovableClock, runner: LifecycleRunner, worker: OutboxWorker,
    smtp_server: SmtpServer, db: Database,
) -> None:
    """The SMTP server was away for an hour: the 1-hour reminder would arrive after the start."""
    _book(services, seeded, worker, smtp_server)
    clock.now = HOUR_BEFORE
    runner.tick()
    assert set(_keys(db).values()) == {OutboxStatus.PENDING}
    _at(clock, START, runner, worker)
    assert set(_keys(db).values()) == {OutboxStatus.DROPPED} and _reminders(smtp_server) == []
