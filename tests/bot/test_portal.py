"""The participant portal: booking, rescheduling and cancelling through a personal link,
with the emails and invites that follow, delivered by the outbox over real SMTP."""

import email
import email.policy
from collections.abc import Callable
from datetime import timedelta
from email.message import Message

import icalendar
import pytest
from sqlalchemy import delete, func, select

from bot.integrations.email import SmtpTransport
from bot.jobs.deliverers import EmailDeliverer
from bot.jobs.outbox_worker import OutboxWorker
from bot.services import Services
from bot.services.errors import Conflict, NotAllowed
from bot.services.portal import LinkNotValid, SlotTaken
from storage.db import Database
from storage.enums import InterviewStatus, OutboxKind, ParticipantStatus
from storage.models import Interview, Participant, Study, StudyHost, TeamMember
from tests.conftest import ADA, BO, MovableClock, Seed
from tests.support.smtp_servers import SmtpServer


def _token(services: Services, email_address: str) -> str:
    with services.db.transaction() as session:
        participant_id = session.scalars(select(Participant.id).where(Participant.email == email_address)).one()
    return services.participants.scheduling_link(participant_id).rsplit("/", 1)[-1]


def _deliver(services: Services, clock: MovableClock, smtp: SmtpServer) -> None:
    worker = OutboxWorker(services.db, clock, {OutboxKind.EMAIL: EmailDeliverer(SmtpTransport(smtp.host, smtp.port, starttls=False, timeout=5))})
    assert worker.drain().failed == 0


def _received(smtp: SmtpServer, to: str) -> list[Message]:
    return [email.message_from_bytes(r.data, policy=email.policy.default) for r in smtp.handler.received if any(to in rcpt for rcpt in r.rcpt_tos)]


def _calendar(message: Message) -> icalendar.Calendar:
    part = next(p for p in message.walk() if p.get_content_type() == "text/calendar")
    return icalendar.Calendar.from_ical(part.get_payload(decode=True))


@pytest.fixture
def host_with_email(db: Database, seeded: Seed) -> None:
    with db.transaction() as session:
        ada = session.scalars(select(TeamMember).where(TeamMember.slack_user_id == ADA)).one()
        ada.email, ada.display_name = "ada@example.com", "Ada"


@pytest.fixture
def in_office_hours(clock: MovableClock) -> MovableClock:
    clock.now = clock.now.replace(hour=6)  # Tuesday 07:00 in Berlin: today's 09:00+ slots lie ahead
    return clock


def test_book_then_emails_with_invites_reach_participant_and_host(
    services: Services, seeded: Seed, host_with_email: None, in_office_hours: MovableClock, smtp_server: SmtpServer, db: Database
) -> None:
    token = _token(services, "nora@example.com")
    slots = services.portal.slots(token)
    assert slots and all(s.start >= in_office_hours() + timedelta(hours=24) for s in slots)  # a day's notice

    booking = services.portal.book(token, slots[0].start, "America/New_York")

    with db.transaction() as session:
        interview = session.get(Interview, booking.interview_id)
        uid = interview.ical_uid
        nora = session.scalars(select(Participant).where(Participant.email == "nora@example.com")).one()
        assert nora.status is ParticipantStatus.SCHEDULED and nora.timezone == "America/New_York"
    _deliver(services, in_office_hours, smtp_server)

    [confirmation] = _received(smtp_server, "nora@example.com")
    assert "America/New_York" in confirmation.get_body(("plain",)).get_content()
    calendar = _calendar(confirmation)
    event = calendar.walk("VEVENT")[0]
    assert calendar["METHOD"] == "REQUEST" and str(event["UID"]) == uid and int(event["SEQUENCE"]) == 0
    assert event.decoded("DTSTART") == slots[0].start
    attendees = [str(a) for a in event.get("ATTENDEE")] if isinstance(event.get("ATTENDEE"), list) else [str(event.get("ATTENDEE"))]
    assert "mailto:nora@example.com" in attendees
    assert str(event["ORGANIZER"]) == "mailto:ada@example.com"
    [notice] = _received(smtp_server, "ada@example.com")
    assert "Nora Quist" in notice["Subject"]


def test_reschedule_keeps_the_uid_and_raises_the_sequence(
    services: Services, seeded: Seed, host_with_email: None, in_office_hours: MovableClock, smtp_server: SmtpServer, db: Database
) -> None:
    token = _token(services, "nora@example.com")
    first, later = services.portal.slots(token)[0], services.portal.slots(token)[5]
    booked = services.portal.book(token, first.start, "Europe/Berlin")
    # Moving 30 minutes later overlaps the interview's own time: it must not block itself.
    overlapping = next(s for s in services.portal.slots(token) if s.start == first.start + timedelta(minutes=30))
    moved = services.portal.reschedule(token, overlapping.start, "Europe/Berlin", "Train delay")
    moved = services.portal.reschedule(token, later.start, "Europe/Berlin", None)

    assert moved.interview_id == booked.interview_id and moved.starts_at == later.start
    _deliver(services, in_office_hours, smtp_server)
    sequences = sorted(int(_calendar(m).walk("VEVENT")[0]["SEQUENCE"]) for m in _received(smtp_server, "nora@example.com"))
    assert sequences == [0, 1, 2]
    with db.transaction() as session:
        assert session.get(Interview, booked.interview_id).ical_sequence == 2


def test_cancel_sends_method_cancel_and_frees_the_time(
    services: Services, seeded: Seed, host_with_email: None, in_office_hours: MovableClock, smtp_server: SmtpServer, db: Database
) -> None:
    nora, otto = _token(services, "nora@example.com"), _token(services, "otto@example.com")
    slot = services.portal.slots(nora)[0]
    booked = services.portal.book(nora, slot.start, "Europe/Berlin")
    host_at = lambda: next(s.host for s in services.portal.slots(otto) if s.start == slot.start)  # noqa: E731
    assert (slot.host, host_at()) == (ADA, BO)  # Ada is booked then; Bo is still free

    services.portal.cancel(nora, "Something came up")

    with db.transaction() as session:
        interview = session.get(Interview, booked.interview_id)
        assert interview.status is InterviewStatus.CANCELED and interview.outcome_note == "Something came up"
        assert session.scalars(select(Participant.status).where(Participant.email == "nora@example.com")).one() is ParticipantStatus.CANCELED_INTERVIEW
    assert host_at() == ADA  # Ada's time is free again
    _deliver(services, in_office_hours, smtp_server)
    cancellation = _received(smtp_server, "nora@example.com")[-1]
    assert _calendar(cancellation)["METHOD"] == "CANCEL"
    host_copy = _received(smtp_server, "ada@example.com")[-1]
    assert _calendar(host_copy)["METHOD"] == "CANCEL" and "Something came up" in host_copy.get_body(("plain",)).get_content()


def test_a_taken_slot_offers_the_next_times_and_changes_nothing(
    services: Services, seeded: Seed, in_office_hours: MovableClock, db: Database
) -> None:
    with db.transaction() as session:  # Ada hosts alone, so her booked time is really taken
        session.execute(delete(StudyHost).where(StudyHost.member_id.in_(select(TeamMember.id).where(TeamMember.slack_user_id == BO))))
    nora, otto = _token(services, "nora@example.com"), _token(services, "otto@example.com")
    slot = services.portal.slots(otto)[0]
    services.portal.book(nora, slot.start, "Europe/Berlin")
    with pytest.raises(SlotTaken) as taken:
        services.portal.book(otto, slot.start, "Europe/Berlin")
    assert taken.value.alternatives and all(a.start > slot.start for a in taken.value.alternatives)
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Interview)) == 1


def test_double_submit_returns_the_same_booking(services: Services, seeded: Seed, in_office_hours: MovableClock, db: Database) -> None:
    token = _token(services, "nora@example.com")
    slot = services.portal.slots(token)[0]
    assert services.portal.book(token, slot.start, "UTC") == services.portal.book(token, slot.start, "UTC")
    with pytest.raises(Conflict):
        services.portal.book(token, services.portal.slots(token)[3].start, "UTC")


@pytest.mark.parametrize("token", ["", "x", "A" * 43, "A" * 500])
def test_unknown_and_tampered_links_are_refused(services: Services, seeded: Seed, token: str) -> None:
    calls: list[Callable[[], object]] = [
        lambda: services.portal.state(token), lambda: services.portal.slots(token),
        lambda: services.portal.cancel(token, None), lambda: services.portal.invite(token),
    ]
    for call in calls:
        with pytest.raises(LinkNotValid):
            call()


def test_a_link_only_reaches_its_own_participant(services: Services, seeded: Seed, in_office_hours: MovableClock) -> None:
    nora, otto = _token(services, "nora@example.com"), _token(services, "otto@example.com")
    services.portal.book(nora, services.portal.slots(nora)[0].start, "UTC")
    assert services.portal.state(otto).booking is None
    with pytest.raises(Exception, match="no upcoming interview"):
        services.portal.cancel(otto, None)
    assert services.portal.state(nora).booking is not None
    # The link shown again later is the same link.
    assert _token(services, "nora@example.com") == nora


def test_changes_close_before_the_interview(services: Services, seeded: Seed, in_office_hours: MovableClock) -> None:
    token = _token(services, "nora@example.com")
    slot = services.portal.slots(token)[0]
    services.portal.book(token, slot.start, "UTC")
    in_office_hours.now = slot.start - timedelta(hours=23)  # the study allows changes until 24 h before
    assert services.portal.state(token).booking.can_change is False
    with pytest.raises(NotAllowed):
        services.portal.cancel(token, None)


def test_smtp_down_then_up_delivers_each_email_once(
    services: Services, seeded: Seed, host_with_email: None, in_office_hours: MovableClock, start_smtp: Callable[..., SmtpServer]
) -> None:
    from tests.support.live_server import free_port

    token = _token(services, "nora@example.com")
    services.portal.book(token, services.portal.slots(token)[0].start, "UTC")
    port = free_port()  # nothing listens here yet
    worker = OutboxWorker(services.db, in_office_hours, {OutboxKind.EMAIL: EmailDeliverer(SmtpTransport("127.0.0.1", port, starttls=False, timeout=2))})
    assert worker.drain().sent == 0  # the two emails wait (and the channel card, which needs Slack)
    server = start_smtp(port=port)  # the mail server comes back
    in_office_hours.advance(minutes=5)
    assert worker.drain().sent == 2
    in_office_hours.advance(hours=5)
    assert worker.drain().sent == 0  # nothing is sent twice
    assert len(server.handler.received) == 2


def test_a_revoked_link_stops_working_and_the_new_one_works(services: Services, seeded: Seed, in_office_hours: MovableClock) -> None:
    old = _token(services, "nora@example.com")
    services.portal.book(old, services.portal.slots(old)[0].start, "UTC")
    _, url = services.participants.new_link(seeded.study_id, "nora@example.com")
    new = url.rsplit("/", 1)[-1]
    assert new != old
    with pytest.raises(LinkNotValid):
        services.portal.state(old)
    assert services.portal.state(new).booking is not None  # the booking itself stands


def test_leaving_a_group_slot_tells_hosts_who_left_with_the_updated_invite(
    services: Services, seeded: Seed, host_with_email: None, in_office_hours: MovableClock, smtp_server: SmtpServer, db: Database
) -> None:
    with db.transaction() as session:
        session.get(Study, seeded.study_id).participant_limit = 2
    nora, otto = _token(services, "nora@example.com"), _token(services, "otto@example.com")
    slot = services.portal.slots(nora)[0]
    booked = services.portal.book(nora, slot.start, "UTC")
    assert services.portal.book(otto, slot.start, "UTC").interview_id == booked.interview_id
    _deliver(services, in_office_hours, smtp_server)
    before = len(_received(smtp_server, "ada@example.com"))

    services.portal.cancel(otto, "Double-booked")
    _deliver(services, in_office_hours, smtp_server)

    notice = _received(smtp_server, "ada@example.com")[before]
    assert notice["Subject"].startswith("Canceled: Otto Berg")
    calendar = _calendar(notice)
    assert calendar["METHOD"] == "REQUEST"  # the session goes on, now without Otto
    listed = calendar.walk("VEVENT")[0].get("ATTENDEE")
    attendees = {str(a) for a in listed} if isinstance(listed, list) else {str(listed)}
    assert "mailto:nora@example.com" in attendees and "mailto:otto@example.com" not in attendees
    with db.transaction() as session:
        assert session.get(Interview, booked.interview_id).status is InterviewStatus.UPCOMING
