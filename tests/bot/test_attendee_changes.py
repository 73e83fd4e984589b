"""Who else is on an interview, on both databases: a group slot's participant limit, and guests
added to the invite — with the updated invites delivered over real SMTP."""

import pytest
from sqlalchemy import select

from bot.domain import Actor, MemberProfile
from bot.services import Services
from bot.services.attendee_changes import AttendeeChangeService
from bot.services.errors import Conflict, InvalidField, NotAllowed
from storage.db import Database
from storage.enums import ActivityKind, OutboxKind
from storage.models import Participant
from tests.bot.records import (
    AS_ADA,
    book,
    deliver_emails,
    events_of,
    load_interview,
    notes_of,
    outbox_of,
)
from tests.conftest import ADA, BO, CLI, OUTSIDER, WORKSPACE, MovableClock, Seed, berlin
from tests.support.mail import invite_attendees, invite_in, messages, text_of
from tests.support.smtp_servers import SmtpServer


@pytest.fixture
def attendee_changes(services: Services) -> AttendeeChangeService:
    assert services.booking.notifier is not None
    return AttendeeChangeService(services.db, services.clock, services.booking.notifier, services.mailer)


# ---------------------------------------------------------------- participant limit


@pytest.fixture
def group_study(services: Services, seeded: Seed) -> int:
    """A study of group sessions hosted by Ada alone, with room for two."""
    study = services.studies.create(team_ref=seeded.team_id, name="Group sessions", channel_id="C0GROUP",
                                    timezone="Europe/Berlin", duration_minutes=60, host_ids=[ADA], participant_limit=2)
    for name, email in [("Nora Quist", "nora@example.com"), ("Otto Berg", "otto@example.com"), ("Pia", "pia@example.com")]:
        services.participants.add(study.id, email, name)
    return study.id


def book_seat(services: Services, study_id: int, email: str) -> int:
    """A seat in the group study's Thursday 10:00 session."""
    return services.booking.book(study_ref=study_id, participant_email=email, starts_at=berlin(7, 10), host_id=ADA, actor=CLI).interview_id


def test_raising_the_limit_opens_a_seat_on_the_booking_pages(
    services: Services, attendee_changes: AttendeeChangeService, group_study: int, db: Database,
) -> None:
    interview_id = book_seat(services, group_study, "nora@example.com")
    assert book_seat(services, group_study, "otto@example.com") == interview_id
    with db.transaction() as session:
        pia = session.scalars(select(Participant).where(Participant.study_id == group_study, Participant.email == "pia@example.com")).one()
    token = services.participants.scheduling_link(pia.id).rsplit("/", 1)[-1]
    assert berlin(7, 10) not in {s.start for s in services.portal.slots(token)}  # full, and Ada is busy

    with pytest.raises(InvalidField, match="one-on-one"):
        attendee_changes.change_limit(interview_id, AS_ADA, None, limit=1)
    with pytest.raises(InvalidField, match="at most 50"):
        attendee_changes.change_limit(interview_id, AS_ADA, None, limit=51)

    result = attendee_changes.change_limit(interview_id, AS_ADA, None, limit=3)

    assert result.changed and result.outbox_ids and result.interview.participant_limit == 3
    assert events_of(db, interview_id, ActivityKind.LIMIT_CHANGED)[0].details == {"limit": 3, "previous": 2}
    assert notes_of(db, interview_id)[-1] == {"kind": "limit_changed", "by": ADA, "limit": 3, "previous": 2}
    assert not any(i.kind is OutboxKind.EMAIL for i in outbox_of(db, interview_id) if i.id in result.outbox_ids)
    [seat] = [s for s in services.portal.slots(token) if s.start == berlin(7, 10)]
    assert seat.interview_id == interview_id and seat.seats_left == 1
    assert not attendee_changes.change_limit(interview_id, AS_ADA, None, limit=3).changed
    # Back and forth: each change is told in the thread.
    attendee_changes.change_limit(interview_id, AS_ADA, None, limit=4)
    attendee_changes.change_limit(interview_id, AS_ADA, None, limit=3)
    assert [n["limit"] for n in notes_of(db, interview_id)] == [3, 4, 3]


def test_the_limit_never_drops_below_who_is_booked(
    services: Services, attendee_changes: AttendeeChangeService, group_study: int, seeded: Seed, db: Database,
) -> None:
    interview_id = book_seat(services, group_study, "nora@example.com")
    attendee_changes.change_limit(interview_id, AS_ADA, None, limit=5)
    book_seat(services, group_study, "otto@example.com")
    book_seat(services, group_study, "pia@example.com")
    with pytest.raises(InvalidField, match="3 participants are already booked, so the limit can't be lower than 3") as error:
        attendee_changes.change_limit(interview_id, AS_ADA, None, limit=2)
    assert error.value.field == "limit"
    one_on_one = book(services, seeded)
    with pytest.raises(Conflict, match="one-on-one"):
        attendee_changes.change_limit(one_on_one, AS_ADA, None, limit=3)


# ---------------------------------------------------------------- add a guest


def test_add_a_teammate_as_guest_sends_everyone_the_updated_invite(
    services: Services, attendee_changes: AttendeeChangeService, seeded: Seed, team_emails: None, db: Database,
    clock: MovableClock, smtp_server: SmtpServer,
) -> None:
    interview_id = book(services, seeded)
    deliver_emails(services, clock, smtp_server)
    smtp_server.handler.received.clear()

    result = attendee_changes.add_guest(interview_id, AS_ADA, None, slack_user_id=BO, profile=MemberProfile("Bo from Slack", None))

    assert result.changed
    [guest] = result.interview.guests
    assert (guest.slack_user_id, guest.name, guest.email) == (BO, "Bo", "bo@example.com")  # the team's record first
    assert events_of(db, interview_id, ActivityKind.GUEST_ADDED)[0].details == {"guest": BO}
    assert notes_of(db, interview_id)[-1] == {"kind": "guest_added", "by": ADA, "guest": BO}
    deliver_emails(services, clock, smtp_server)
    [to_bo] = messages(smtp_server, to="bo@example.com")
    assert "You're invited as a guest" in text_of(to_bo)
    assert "Bo joins the interview with Nora Quist as a guest." in text_of(messages(smtp_server, to="nora@example.com")[0])
    for message in messages(smtp_server):
        _, vevent = invite_in(message)
        assert int(vevent["SEQUENCE"]) == 1
        assert set(invite_attendees(vevent)) == {"mailto:nora@example.com", "mailto:bo@example.com"}
    assert len(messages(smtp_server)) == 3

    again = attendee_changes.add_guest(interview_id, AS_ADA, None, slack_user_id=BO)
    by_address = attendee_changes.add_guest(interview_id, AS_ADA, None, email="BO@example.com")
    assert not again.changed and not by_address.changed and again.outbox_ids == by_address.outbox_ids == ()


def test_guests_by_address_or_from_slack_profiles(
    services: Services, attendee_changes: AttendeeChangeService, seeded: Seed, db: Database,
) -> None:
    interview_id = book(services, seeded)
    outsider = attendee_changes.add_guest(interview_id, AS_ADA, None, slack_user_id="U0CARL", profile=MemberProfile("Carl", "Carl@Example.com"))
    assert [(g.name, g.email) for g in outsider.interview.guests] == [("Carl", "carl@example.com")]
    by_address = attendee_changes.add_guest(interview_id, AS_ADA, None, email="stakeholder@example.com")
    assert ("stakeholder@example.com", "stakeholder@example.com") in [(g.name, g.email) for g in by_address.interview.guests]
    assert load_interview(db, interview_id).ical_sequence == 2
    # Bo has no address anywhere: on the interview, but no invite to send and nothing to update.
    quiet = attendee_changes.add_guest(interview_id, AS_ADA, None, slack_user_id=BO, profile=MemberProfile(None, None))
    assert quiet.changed and not any(i.kind is OutboxKind.EMAIL for i in outbox_of(db, interview_id) if i.id in quiet.outbox_ids)
    assert load_interview(db, interview_id).ical_sequence == 2
    assert [e.details["guest"] for e in events_of(db, interview_id, ActivityKind.GUEST_ADDED)] == ["U0CARL", "stakeholder@example.com", BO]


def test_add_guest_refusals(services: Services, attendee_changes: AttendeeChangeService, seeded: Seed, db: Database) -> None:
    interview_id = book(services, seeded)
    with pytest.raises(InvalidField, match="one of the two") as neither:
        attendee_changes.add_guest(interview_id, AS_ADA, None)
    assert neither.value.field == "guest"
    with pytest.raises(InvalidField, match="one of the two"):
        attendee_changes.add_guest(interview_id, AS_ADA, None, slack_user_id=BO, email="bo@example.com")
    with pytest.raises(InvalidField, match="not a valid email") as bad:
        attendee_changes.add_guest(interview_id, AS_ADA, None, email="not an address")
    assert bad.value.field == "email"
    with pytest.raises(NotAllowed):
        attendee_changes.add_guest(interview_id, Actor.slack_user(WORKSPACE, OUTSIDER), None, email="x@example.com")
    assert len(load_interview(db, interview_id).attendees) == 2
