"""Interviews of a host with Google Calendar: the event on their calendar, written through the
outbox by the real client to the fake Google over HTTP, and no .ics of ours to the same people."""

from datetime import timedelta

import pytest
from slack_sdk import WebClient
from sqlalchemy import select, update

from bot.composition import build_outbox_worker
from bot.domain import Actor
from bot.jobs.calendar_deliverer import CalendarDeliverer
from bot.jobs.deliverers import SlackPostDeliverer
from bot.jobs.outbox_worker import OutboxWorker, RetryPolicy
from bot.services import Services
from bot.services.calendar_events import CalendarEventService
from bot.services.notifications import Notifier
from bot.settings import Settings
from storage.db import Database
from storage.enums import CalendarProvider, Conferencing, ConnectionStatus, OutboxKind, OutboxStatus
from storage.models import CalendarConnection, Interview, OutboxItem, Study, TeamMember
from tests.conftest import ADA, BO, BOT_TOKEN, CHANNEL, CLI, T0, WORKSPACE, MovableClock, Seed
from tests.support.fake_google import FakeGoogle
from tests.support.fake_slack import FakeSlackAPI
from tests.support.google import ADA_EMAIL, connect
from tests.support.mail import has_invite, invite_in, messages, with_smtp
from tests.support.smtp_servers import SmtpServer
from tests.web import participant_link

START = T0 + timedelta(days=2, hours=-2)  # Thu 7 March 2030, 10:00 UTC (11:00 in Berlin)
BO_EMAIL = "bo@example.com"

pytestmark = pytest.mark.google_calendar


@pytest.fixture
def worker(settings: Settings, services: Services, smtp_server: SmtpServer) -> OutboxWorker:
    return build_outbox_worker(with_smtp(settings, smtp_server), services)


@pytest.fixture
def meet_study(services: Services, seeded: Seed, db: Database, fake_google: FakeGoogle) -> Seed:
    """The seeded study on Google Meet, Ada connected (Bo has an email but no connection)."""
    with db.transaction() as session:
        session.execute(update(Study).values(conferencing=Conferencing.GOOGLE_MEET))
        session.execute(update(TeamMember).where(TeamMember.slack_user_id == BO).values(email=BO_EMAIL, display_name="Bo"))
    connect(services, fake_google, ADA, ADA_EMAIL)
    return seeded


def _book(services: Services, seed: Seed, host: str = ADA) -> int:
    return services.booking.book(
        study_ref=seed.study_id, participant_email="nora@example.com", starts_at=START, host_id=host, actor=CLI,
    ).interview_id


def _interview(db: Database, interview_id: int) -> Interview:
    with db.transaction() as session:
        interview = session.get(Interview, interview_id)
        assert interview is not None
        session.expunge(interview)
        return interview


def _calendar_items(db: Database) -> list[OutboxItem]:
    with db.transaction() as session:
        items = list(session.scalars(select(OutboxItem).where(OutboxItem.kind == OutboxKind.CALENDAR).order_by(OutboxItem.id)))
        session.expunge_all()
        return items


def test_booking_with_a_connected_host_puts_the_event_with_a_meet_link_in_their_calendar(
    services: Services, meet_study: Seed, worker: OutboxWorker, fake_google: FakeGoogle, smtp_server: SmtpServer,
    fake_slack: FakeSlackAPI, db: Database,
) -> None:
    interview_id = _book(services, meet_study)
    booked = _interview(db, interview_id)
    assert booked.calendar_provider is CalendarProvider.GOOGLE and booked.conferencing_url is None

    worker.drain()

    [event] = fake_google.events(ADA_EMAIL)
    assert event["organizer"]["email"] == ADA_EMAIL
    assert {a["email"] for a in event["attendees"]} == {"nora@example.com"}
    assert event["extendedProperties"]["private"]["interview_id"] == str(interview_id)
    [insert] = fake_google.calls_to("POST /calendar/v3/calendars/primary/events")
    assert insert.query["conferenceDataVersion"] == "1" and insert.query["sendUpdates"] == "all"
    stored = _interview(db, interview_id)
    assert stored.google_event_id == event["id"]
    assert stored.conferencing_url == event["hangoutLink"] and stored.conferencing_url.startswith("https://meet.google.com/")
    # Google invites Nora: our confirmation still comes (her manage link), without an .ics of ours.
    [confirmation] = messages(smtp_server, to="nora@example.com")
    assert not has_invite(confirmation)
    assert not any(has_invite(m) for m in messages(smtp_server))
    # The card shows the Meet link once Google made it.
    assert any(event["hangoutLink"] in str(c.params.get("blocks")) for c in fake_slack.calls_to("chat.update"))


def test_every_change_updates_the_one_event_and_cancel_deletes_it(
    services: Services, meet_study: Seed, worker: OutboxWorker, fake_google: FakeGoogle, clock: MovableClock,
    db: Database,
) -> None:
    interview_id = _book(services, meet_study)
    worker.drain()
    [event] = fake_google.events(ADA_EMAIL)

    services.changes.reschedule(interview_id, CLI, None, starts_at=START + timedelta(days=1))
    worker.drain()
    assert fake_google.event(event["id"])["start"]["dateTime"].startswith("2030-03-08T")

    services.changes.edit_details(interview_id, CLI, None, description="Bring the prototype.",
                                  conferencing_url=None, conferencing_password=None)
    services.attendee_changes.add_guest(interview_id, CLI, None, email="observer@example.com")
    worker.drain()
    moved = fake_google.event(event["id"])
    assert "Bring the prototype." in moved["description"]
    assert {a["email"] for a in moved["attendees"]} == {"nora@example.com", "observer@example.com"}
    assert moved["hangoutLink"] == event["hangoutLink"]  # the Meet link stays with the event

    services.outcomes.cancel(interview_id, CLI, message="The prototype isn't ready.")
    worker.drain()
    assert fake_google.event(event["id"])["status"] == "cancelled"
    assert len(fake_google.events(ADA_EMAIL)) == 1  # one event all along
    assert {i.status for i in _calendar_items(db)} == {OutboxStatus.SENT}


def test_a_new_host_joins_the_event_with_a_new_meet_link_and_the_organizer_stays(
    services: Services, meet_study: Seed, worker: OutboxWorker, fake_google: FakeGoogle, db: Database,
) -> None:
    interview_id = _book(services, meet_study)
    worker.drain()
    [event] = fake_google.events(ADA_EMAIL)

    services.changes.change_host(interview_id, CLI, None, host_id=BO)
    worker.drain()

    changed = fake_google.event(event["id"])
    assert changed["organizer"]["email"] == ADA_EMAIL
    assert BO_EMAIL in {a["email"] for a in changed["attendees"]}
    assert changed["hangoutLink"] != event["hangoutLink"]
    assert _interview(db, interview_id).conferencing_url == changed["hangoutLink"]


def test_a_host_without_a_connection_keeps_the_emailed_invites(
    services: Services, meet_study: Seed, worker: OutboxWorker, fake_google: FakeGoogle, smtp_server: SmtpServer,
    db: Database,
) -> None:
    interview_id = _book(services, meet_study, host=BO)
    worker.drain()

    assert _interview(db, interview_id).calendar_provider is CalendarProvider.EMAIL
    assert has_invite(messages(smtp_server, to="nora@example.com")[0])
    assert fake_google.calls_to("/events") == [] and _calendar_items(db) == []


def test_changes_that_came_from_google_are_not_written_back(
    services: Services, meet_study: Seed, worker: OutboxWorker, db: Database,
) -> None:
    interview_id = _book(services, meet_study)
    worker.drain()
    written = len(_calendar_items(db))

    services.changes.reschedule(interview_id, CLI, None, starts_at=START + timedelta(days=1), from_calendar=True)
    services.outcomes.cancel(interview_id, CLI, from_calendar=True)

    assert len(_calendar_items(db)) == written


def test_google_down_leaves_the_booking_standing_and_the_retry_creates_one_event(
    services: Services, meet_study: Seed, worker: OutboxWorker, fake_google: FakeGoogle, clock: MovableClock,
    db: Database,
) -> None:
    interview_id = _book(services, meet_study)
    fake_google.fail_next("POST /calendar/v3/calendars/primary/events", 503)
    fake_google.fail_next("POST /calendar/v3/calendars/primary/events", 429, retry_after=120)

    worker.drain()
    [item] = _calendar_items(db)
    assert item.status is OutboxStatus.PENDING and "503" in (item.last_error or "")
    assert _interview(db, interview_id).status.value == "upcoming"  # the booking stands

    clock.advance(minutes=5)
    worker.drain()
    [item] = _calendar_items(db)
    assert item.available_at >= clock.now + timedelta(seconds=119)  # Retry-After honoured

    clock.advance(minutes=3)
    worker.drain()
    assert [i.status for i in _calendar_items(db)] == [OutboxStatus.SENT]
    assert len(fake_google.events(ADA_EMAIL)) == 1


def test_a_revoked_grant_asks_the_host_to_reconnect_and_the_write_goes_when_they_do(
    services: Services, meet_study: Seed, worker: OutboxWorker, fake_google: FakeGoogle, fake_slack: FakeSlackAPI,
    clock: MovableClock, db: Database,
) -> None:
    fake_google.revoke_grant(ADA_EMAIL)
    fake_google.expire_access_tokens()
    interview_id = _book(services, meet_study)

    worker.drain()
    clock.advance(hours=2)
    worker.drain()  # still refused: nobody is asked twice

    with db.transaction() as session:
        connection = session.scalars(select(CalendarConnection)).one()
        assert connection.status is ConnectionStatus.NEEDS_RECONNECT and "revoked" in (connection.problem or "")
    dms = [c for c in fake_slack.calls_to("chat.postMessage") if c.params.get("channel") == ADA]
    assert len(dms) == 1 and "/interviews connect" in dms[0].params["text"]
    assert [i.status for i in _calendar_items(db)] == [OutboxStatus.PENDING]  # waiting, not lost

    connect(services, fake_google, ADA, ADA_EMAIL)  # Ada reconnects
    worker.drain()

    assert [i.status for i in _calendar_items(db)] == [OutboxStatus.SENT]
    assert _interview(db, interview_id).google_event_id == fake_google.events(ADA_EMAIL)[0]["id"]


def test_a_write_google_refuses_is_told_in_the_interviews_thread(
    services: Services, meet_study: Seed, worker: OutboxWorker, fake_google: FakeGoogle, fake_slack: FakeSlackAPI,
    db: Database,
) -> None:
    _book(services, meet_study)
    fake_google.fail_next("POST /calendar/v3/calendars/primary/events", 400, reason="invalid")

    worker.drain()

    assert [i.status for i in _calendar_items(db)] == [OutboxStatus.FAILED]
    notes = [c.params["text"] for c in fake_slack.calls_to("chat.postMessage") if c.params.get("thread_ts")]
    assert any("Google Calendar event could not be updated" in n for n in notes)


def test_a_participant_moving_and_cancelling_on_their_page_updates_then_deletes_the_event(
    services: Services, meet_study: Seed, worker: OutboxWorker, fake_google: FakeGoogle, clock: MovableClock,
) -> None:
    link = participant_link(services, meet_study.study_id, "pia@example.com", "Pia Lund")
    services.portal.book(link.token, START + timedelta(hours=3), "Europe/Berlin")
    worker.drain()
    [event] = fake_google.events(ADA_EMAIL)

    services.portal.reschedule(link.token, START + timedelta(days=1, hours=3), "Europe/Berlin", "A clash at work")
    worker.drain()
    assert fake_google.event(event["id"])["start"]["dateTime"].startswith("2030-03-08T")

    services.portal.cancel(link.token, "Can't make it after all")
    worker.drain()
    assert fake_google.event(event["id"])["status"] == "cancelled"


def test_an_expired_access_token_is_refreshed_and_the_new_one_kept_sealed(
    services: Services, meet_study: Seed, worker: OutboxWorker, fake_google: FakeGoogle, db: Database,
) -> None:
    with db.transaction() as session:
        before = session.scalars(select(CalendarConnection)).one().access_token
    fake_google.expire_access_tokens()

    _book(services, meet_study)
    worker.drain()

    assert len(fake_google.events(ADA_EMAIL)) == 1
    with db.transaction() as session:
        connection = session.scalars(select(CalendarConnection)).one()
        assert connection.access_token != before
        fresh = services.calendars.grant(connection).access_token
    assert fresh not in connection.access_token  # stored sealed, opened with the key


def test_a_write_still_failing_at_its_last_attempt_is_told_in_the_thread(
    services: Services, meet_study: Seed, settings: Settings, fake_google: FakeGoogle, fake_slack: FakeSlackAPI,
    clock: MovableClock, db: Database,
) -> None:
    policy = RetryPolicy(first_delay=timedelta(seconds=1), max_delay=timedelta(seconds=1), max_attempts=2)
    events = CalendarEventService(db, clock, services.calendars, Notifier(services.mailer))
    slack_client = WebClient(token=BOT_TOKEN, base_url=fake_slack.api_url)
    worker = OutboxWorker(db, clock, {
        OutboxKind.CALENDAR: CalendarDeliverer(events, db, max_attempts=policy.max_attempts),
        OutboxKind.SLACK_POST: SlackPostDeliverer(slack_client, db, clock),
    }, policy=policy)
    _book(services, meet_study)
    fake_google.fail_next("POST /calendar/v3/calendars/primary/events", 503, times=2)

    worker.drain()
    assert not [c for c in fake_slack.calls_to("chat.postMessage") if "could not be updated" in c.params["text"]]
    clock.advance(minutes=1)
    worker.drain()

    assert [i.status for i in _calendar_items(db)] == [OutboxStatus.FAILED]
    notes = [c.params["text"] for c in fake_slack.calls_to("chat.postMessage") if c.params.get("thread_ts")]
    assert sum("Google Calendar event could not be updated" in n for n in notes) == 1


def test_after_the_organizer_disconnects_changes_go_by_email_under_googles_uid(
    services: Services, meet_study: Seed, worker: OutboxWorker, fake_google: FakeGoogle, smtp_server: SmtpServer,
    db: Database,
) -> None:
    interview_id = _book(services, meet_study)
    worker.drain()
    [event] = fake_google.events(ADA_EMAIL)
    assert _interview(db, interview_id).ical_uid == event["iCalUID"]  # Google named the event
    smtp_server.received.clear()

    services.calendar_connect.disconnect(Actor.slack_user(WORKSPACE, ADA), channel_id=CHANNEL)
    services.changes.reschedule(interview_id, CLI, None, starts_at=START + timedelta(days=1))
    worker.drain()

    assert _interview(db, interview_id).calendar_provider is CalendarProvider.EMAIL
    [update] = messages(smtp_server, to="nora@example.com")
    _, invite = invite_in(update)
    assert str(invite["UID"]) == event["iCalUID"] and int(invite["SEQUENCE"]) >= 1
    assert fake_google.event(event["id"])["start"]["dateTime"].startswith("2030-03-07T")  # Google not written
