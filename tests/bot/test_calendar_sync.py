"""RSVPs and changes from hosts' Google Calendars, through the real client and the fake Google
over HTTP: push channels, notifications to the running app, incremental and full syncs,
polling, several servers, refused grants; what reached the fake Slack. Both databases."""

import threading
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from bot.composition import build_outbox_worker, google_setup
from bot.integrations.google_values import Attendee, EventBody
from bot.jobs.calendar_tick import CalendarTick
from bot.jobs.outbox_worker import OutboxWorker
from bot.services import Services
from bot.settings import Settings
from storage import outbox
from storage.db import Database
from storage.enums import (
    ActivityKind,
    ActorKind,
    AttendeeRole,
    ConnectionStatus,
    InterviewStatus,
    InviteStatus,
    OutboxKind,
    OutboxStatus,
)
from storage.models import ActivityEvent, CalendarConnection, Interview, OutboxItem, TeamMember
from storage.models import Attendee as AttendeeRow
from tests.conftest import ADA, CLI, TEST_MAILER, MovableClock, Seed
from tests.support.fake_google import FakeGoogle
from tests.support.fake_slack import FakeSlackAPI
from tests.support.google import (
    ADA_EMAIL,
    calendar_tick,
    connect,
    connection_row,
    google_event_for,
    notified,
    thursday,
)

NORA = "nora@example.com"

pytestmark = [pytest.mark.google_calendar, pytest.mark.real_time]


# ---------------------------------------------------------------- setup


@dataclass(frozen=True)
class Booked:
    interview_id: int
    event_id: str
    connection_id: int


@pytest.fixture
def worker(settings: Settings, services: Services) -> OutboxWorker:
    return build_outbox_worker(settings, services)


@pytest.fixture
def booked(services: Services, seeded: Seed, fake_google: FakeGoogle, clock: MovableClock, worker: OutboxWorker,
           fake_slack: FakeSlackAPI) -> Booked:
    """Nora's interview with Ada on Thursday 10:00 Berlin, its event in Ada's Google Calendar, and
    its card in the channel."""
    with services.db.transaction() as session:
        ada = session.scalars(select(TeamMember).where(TeamMember.slack_user_id == ADA)).one()
        ada.email, ada.display_name = ADA_EMAIL, "Ada"
    interview_id = services.booking.book(
        study_ref=seeded.study_id, participant_email=NORA, starts_at=thursday(clock, 10), host_id=ADA, actor=CLI,
    ).interview_id
    connection_id = connect(services, fake_google, ADA, ADA_EMAIL)
    event_id = google_event_for(services, connection_id, interview_id)
    worker.drain()
    fake_slack.reset()
    return Booked(interview_id, event_id, connection_id)


@pytest.fixture
def tick(services: Services, server_url: str, booked: Booked) -> CalendarTick:
    """The tick with push to the running app; its first run opens the channel and syncs in full."""
    tick = calendar_tick(services, base_url=server_url)
    first = tick.tick()
    assert (first.channels, first.synced, first.applied) == (1, 1, 0)
    return tick


def _seat(db: Database, interview_id: int, email: str = NORA) -> AttendeeRow:
    with db.transaction() as session:
        return session.scalars(select(AttendeeRow).where(
            AttendeeRow.interview_id == interview_id, AttendeeRow.email == email)).one()


def _interview(db: Database, interview_id: int) -> Interview:
    with db.transaction() as session:
        interview = session.get(Interview, interview_id)
        assert interview is not None
        return interview


def _events(db: Database, interview_id: int, kind: ActivityKind) -> list[ActivityEvent]:
    with db.transaction() as session:
        return list(session.scalars(select(ActivityEvent).where(
            ActivityEvent.interview_id == interview_id, ActivityEvent.kind == kind).order_by(ActivityEvent.id)))


def _notes(db: Database, interview_id: int) -> list[dict[str, object]]:
    with db.transaction() as session:
        items = session.scalars(select(OutboxItem).where(
            OutboxItem.interview_id == interview_id, OutboxItem.kind == OutboxKind.SLACK_POST).order_by(OutboxItem.id))
        return [item.payload["note"] for item in items if "note" in item.payload]


def _calendar_writes(db: Database, interview_id: int) -> list[OutboxItem]:
    with db.transaction() as session:
        return list(session.scalars(select(OutboxItem).where(
            OutboxItem.interview_id == interview_id, OutboxItem.kind == OutboxKind.CALENDAR)))


# ---------------------------------------------------------------- RSVPs


def test_a_push_notification_brings_the_answer_to_the_seat_the_timeline_the_card_and_its_thread(
    services: Services, db: Database, fake_google: FakeGoogle, tick: CalendarTick, booked: Booked,
    worker: OutboxWorker, fake_slack: FakeSlackAPI,
) -> None:
    fake_google.respond(booked.event_id, NORA, "accepted")
    notified(fake_google, 1)
    assert connection_row(db, booked.connection_id).synced_at is None  # marked by the app's endpoint

    done = tick.tick()

    assert (done.synced, done.applied) == (1, 1)
    assert _seat(db, booked.interview_id).invite_status is InviteStatus.ACCEPTED
    [event] = _events(db, booked.interview_id, ActivityKind.RSVP_CHANGED)
    assert (event.actor_kind, event.actor_name) == (ActorKind.SYSTEM, "Google Calendar")
    assert event.details == {"attendee": "Nora Quist", "status": "accepted", "via": "Google Calendar"}
    worker.drain()
    [card] = fake_slack.calls_to("chat.update")
    [note] = fake_slack.calls_to("chat.postMessage")
    assert note.params["thread_ts"] == card.params["ts"]
    assert note.params["text"] == "Nora Quist accepted the invite ✓ in Google Calendar."
    assert connection_row(db, booked.connection_id).synced_at == services.clock()


@pytest.mark.parametrize(("response", "status"), [("tentative", InviteStatus.TENTATIVE), ("declined", InviteStatus.DECLINED)])
def test_maybe_and_no_undo_a_confirmation_and_a_decline_offers_to_reschedule(
    db: Database, fake_google: FakeGoogle, tick: CalendarTick, booked: Booked, worker: OutboxWorker,
    fake_slack: FakeSlackAPI, clock: MovableClock, response: str, status: InviteStatus,
) -> None:
    with db.transaction() as session:
        session.execute(update(AttendeeRow).where(AttendeeRow.email == NORA).values(
            invite_status=InviteStatus.ACCEPTED, attendance_confirmed_at=clock()))
    fake_google.respond(booked.event_id, NORA, response)
    notified(fake_google, 1)

    assert tick.tick().applied == 1

    seat = _seat(db, booked.interview_id)
    assert seat.invite_status is status and seat.attendance_confirmed_at is None
    worker.drain()
    [note] = fake_slack.calls_to("chat.postMessage")
    buttons = [e["text"]["text"] for b in note.params.get("blocks") or [] if b["type"] == "actions" for e in b["elements"]]
    assert buttons == (["Ask to reschedule"] if response == "declined" else [])


def test_a_host_or_guest_answer_counts_and_the_same_answer_again_changes_nothing(
    db: Database, services: Services, fake_google: FakeGoogle, tick: CalendarTick, booked: Booked,
) -> None:
    guest = "Sam@Example.com"
    with db.transaction() as session:
        session.add(AttendeeRow(interview_id=booked.interview_id, role=AttendeeRole.GUEST, email=guest.lower(),
                                display_name="Sam"))
    with db.transaction() as session:  # the guest on the Google event, as Google spells their address
        calendar = services.calendars.client(session.get(CalendarConnection, booked.connection_id))
    current = fake_google.event(booked.event_id)
    calendar.update_event(booked.event_id, EventBody(
        summary=current["summary"], start=_interview(db, booked.interview_id).starts_at,
        end=_interview(db, booked.interview_id).ends_at,
        attendees=(Attendee(NORA), Attendee(ADA_EMAIL), Attendee(guest)),
    ), send_updates="none")
    fake_google.respond(booked.event_id, guest, "declined")
    notified(fake_google, 2)
    assert tick.tick().applied == 1
    assert _seat(db, booked.interview_id, guest.lower()).invite_status is InviteStatus.DECLINED

    fake_google.respond(booked.event_id, guest, "declined")  # a change in Google, the same answer
    notified(fake_google, 3)
    done = tick.tick()

    assert (done.synced, done.applied) == (1, 0)
    assert len(_events(db, booked.interview_id, ActivityKind.RSVP_CHANGED)) == 1
    assert len(_notes(db, booked.interview_id)) == 1


def test_an_expired_sync_token_means_a_full_sync(
    db: Database, fake_google: FakeGoogle, tick: CalendarTick, booked: Booked,
) -> None:
    token_before = connection_row(db, booked.connection_id).sync_token
    fake_google.invalidate_sync_tokens(ADA_EMAIL)
    fake_google.respond(booked.event_id, NORA, "accepted")
    notified(fake_google, 1)

    assert tick.tick().applied == 1

    lists = [c for c in fake_google.calls_to("GET /calendar/v3/calendars/primary/events") if c.path.endswith("/events")]
    assert [("syncToken" in c.query, c.status) for c in lists[-2:]] == [(True, 410), (False, 200)]
    assert "timeMin" in lists[-1].query
    assert _seat(db, booked.interview_id).invite_status is InviteStatus.ACCEPTED
    assert connection_row(db, booked.connection_id).sync_token not in (None, token_before)


def test_lost_notifications_are_caught_up_by_the_hourly_poll(
    db: Database, fake_google: FakeGoogle, tick: CalendarTick, booked: Booked, clock: MovableClock,
) -> None:
    fake_google.pause_notifications()
    fake_google.respond(booked.event_id, NORA, "declined")

    clock.advance(minutes=59)
    assert tick.tick().synced == 0  # the channel is live: no poll yet
    clock.advance(minutes=1)
    assert tick.tick().applied == 1

    assert _seat(db, booked.interview_id).invite_status is InviteStatus.DECLINED


def test_without_push_calendars_are_polled_every_five_minutes(
    db: Database, services: Services, fake_google: FakeGoogle, booked: Booked, clock: MovableClock,
) -> None:
    tick = calendar_tick(services, push=False)
    assert tick.tick().synced == 1 and fake_google.calls_to("watch") == []
    fake_google.respond(booked.event_id, NORA, "tentative")

    clock.advance(minutes=4, seconds=59)
    assert tick.tick().synced == 0
    clock.advance(seconds=1)
    assert tick.tick().applied == 1

    assert _seat(db, booked.interview_id).invite_status is InviteStatus.TENTATIVE
    assert connection_row(db, booked.connection_id).channel_id is None


def test_google_down_leaves_the_sync_due_for_the_next_tick(
    db: Database, fake_google: FakeGoogle, tick: CalendarTick, booked: Booked,
) -> None:
    fake_google.respond(booked.event_id, NORA, "accepted")
    notified(fake_google, 1)
    fake_google.fail_next("GET /calendar/v3/calendars/primary/events", 503)

    assert tick.tick().unavailable == 1
    assert connection_row(db, booked.connection_id).synced_at is None

    assert tick.tick().applied == 1


# ---------------------------------------------------------------- changes made in Google


def test_an_event_moved_in_google_is_a_reschedule_told_in_the_channel_and_not_written_back(
    db: Database, fake_google: FakeGoogle, tick: CalendarTick, booked: Booked, clock: MovableClock,
    worker: OutboxWorker, fake_slack: FakeSlackAPI,
) -> None:
    new_start = thursday(clock, 14)
    fake_google.move_event(booked.event_id, new_start, new_start + timedelta(minutes=45))
    notified(fake_google, 1)

    assert tick.tick().applied == 1

    interview = _interview(db, booked.interview_id)
    assert (interview.starts_at, interview.ends_at) == (new_start, new_start + timedelta(minutes=45))
    [event] = _events(db, booked.interview_id, ActivityKind.RESCHEDULED)
    assert (event.actor_kind, event.actor_name) == (ActorKind.SYSTEM, "Google Calendar")
    assert [n["kind"] for n in _notes(db, booked.interview_id)] == ["rescheduled"]
    assert _calendar_writes(db, booked.interview_id) == []
    worker.drain()
    [note] = fake_slack.calls_to("chat.postMessage")
    assert "rescheduled to" in note.params["text"]


def test_an_event_deleted_in_google_is_a_cancellation_told_in_the_channel(
    db: Database, fake_google: FakeGoogle, tick: CalendarTick, booked: Booked, worker: OutboxWorker,
    fake_slack: FakeSlackAPI,
) -> None:
    fake_google.delete_event_as_user(booked.event_id)
    notified(fake_google, 1)

    assert tick.tick().applied == 1

    assert _interview(db, booked.interview_id).status is InterviewStatus.CANCELED
    [event] = _events(db, booked.interview_id, ActivityKind.CANCELED)
    assert event.actor_name == "Google Calendar"
    assert _calendar_writes(db, booked.interview_id) == []
    worker.drain()
    [note] = fake_slack.calls_to("chat.postMessage")
    assert note.params["text"] == "Google Calendar canceled."

    fake_google.respond(booked.event_id, NORA, "accepted")  # too late: nothing to answer any more
    notified(fake_google, 2)
    assert tick.tick().applied == 0


def test_an_interview_with_a_calendar_write_queued_waits_for_the_write_to_reach_google(
    db: Database, services: Services, fake_google: FakeGoogle, tick: CalendarTick, booked: Booked, clock: MovableClock,
) -> None:
    with db.transaction() as session:  # our change, on its way to Google
        outbox.enqueue(session, key=f"calendar:test:{booked.interview_id}", kind=OutboxKind.CALENDAR,
                       payload={"interview_id": booked.interview_id}, now=clock(), interview_id=booked.interview_id)
    fake_google.respond(booked.event_id, NORA, "accepted")
    notified(fake_google, 1)

    assert tick.tick().applied == 0
    assert _seat(db, booked.interview_id).invite_status is InviteStatus.AWAITING

    # The write reaches Google; its own notification brings the event, Nora's answer included.
    with db.transaction() as session:
        session.execute(update(OutboxItem).where(OutboxItem.kind == OutboxKind.CALENDAR).values(status=OutboxStatus.SENT))
        calendar = services.calendars.client(session.get(CalendarConnection, booked.connection_id))
    interview = _interview(db, booked.interview_id)
    calendar.update_event(booked.event_id, EventBody(
        summary="Moved by us", start=interview.starts_at, end=interview.ends_at,
        attendees=(Attendee(NORA), Attendee(ADA_EMAIL)),
    ), send_updates="none")
    notified(fake_google, 2)
    assert tick.tick().applied == 1


# ---------------------------------------------------------------- several servers, refusals


def test_two_servers_ticking_at_once_apply_each_change_once(
    database_url: str, db: Database, services: Services, settings: Settings, clock: MovableClock,
    fake_google: FakeGoogle, tick: CalendarTick, booked: Booked, server_url: str,
) -> None:
    second_db = Database(database_url)  # another server: its own engine and connections
    try:
        second = calendar_tick(Services.build(second_db, TEST_MAILER, clock, google=google_setup(settings)),
                               base_url=server_url)
        token_before = connection_row(db, booked.connection_id).sync_token
        fake_google.respond(booked.event_id, NORA, "accepted")
        notified(fake_google, 1)
        lists = len(fake_google.calls_to("GET /calendar/v3/calendars/primary/events"))
        start = threading.Barrier(2)
        results = []

        def run(server: CalendarTick) -> None:
            start.wait()
            results.append(server.tick())

        threads = [threading.Thread(target=run, args=(server,)) for server in (tick, second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)

        assert sorted(r.synced for r in results) == [0, 1] and sum(r.applied for r in results) == 1
        assert len(fake_google.calls_to("GET /calendar/v3/calendars/primary/events")) == lists + 1  # one claimed it
        # A server that stopped before storing its token: the same change is listed again.
        with db.transaction() as session:
            session.execute(update(CalendarConnection).values(synced_at=None, sync_token=token_before))
        assert sum(server.tick().applied for server in (second, tick)) == 0
        assert len(_events(db, booked.interview_id, ActivityKind.RSVP_CHANGED)) == 1
        assert len(_notes(db, booked.interview_id)) == 1
    finally:
        second_db.dispose()


def test_a_revoked_grant_marks_the_connection_and_google_is_not_asked_again(
    db: Database, fake_google: FakeGoogle, tick: CalendarTick, booked: Booked, services: Services,
) -> None:
    fake_google.revoke_grant(ADA_EMAIL)
    fake_google.expire_access_tokens()
    with db.transaction() as session:
        session.execute(update(CalendarConnection).values(synced_at=None))
    calls = len(fake_google.calls)

    done = tick.tick()

    with db.transaction() as session:
        ada = session.scalars(select(TeamMember).where(TeamMember.slack_user_id == ADA)).one()
    assert done.needs_reconnect == (ada.id,)
    connection = connection_row(db, booked.connection_id)
    assert connection.status is ConnectionStatus.NEEDS_RECONNECT and "refused" in (connection.problem or "")
    after = len(fake_google.calls)
    assert after > calls
    assert tick.tick() == type(done)()  # nothing due, nothing asked
    assert len(fake_google.calls) == after


def test_a_channel_about_to_expire_is_replaced_and_the_old_one_stopped(
    db: Database, fake_google: FakeGoogle, tick: CalendarTick, booked: Booked, clock: MovableClock,
) -> None:
    old = connection_row(db, booked.connection_id)
    assert fake_google.channel_ids == [old.channel_id]
    clock.advance(days=6, hours=1)  # the channel has less than a day left

    done = tick.tick()

    new = connection_row(db, booked.connection_id)
    assert done.channels == 1 and new.channel_id not in (None, old.channel_id)
    assert fake_google.channel_ids == [new.channel_id]
    assert (new.channel_token_hash, new.channel_expires_at) != (old.channel_token_hash, old.channel_expires_at)
