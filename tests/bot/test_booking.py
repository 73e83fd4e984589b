"""`services.booking.book`: what a booking writes, and every reason it is refused."""

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from bot.domain import Actor, BookingResult
from bot.services import Services
from bot.services.access import FOREIGN_REFUSAL
from bot.services.errors import (
    Conflict,
    DomainError,
    InvalidInput,
    NotAllowed,
    NotFound,
)
from storage.db import Database
from storage.enums import (
    ActivityKind,
    ActorKind,
    AttendeeRole,
    InterviewStatus,
    ParticipantStatus,
)
from storage.models import (
    ActivityEvent,
    Attendee,
    Interview,
    Participant,
    Study,
    TeamMember,
)
from tests.conftest import (
    ADA,
    BO,
    CLI,
    OUTSIDER,
    T0,
    WORKSPACE,
    MovableClock,
    Seed,
    berlin,
)

NORA, OTTO, PIA = "nora@example.com", "otto@example.com", "pia@example.com"


def book(
    services: Services,
    seeded: Seed,
    starts_at: datetime,
    email: str = NORA,
    host: str = ADA,
    actor: Actor = CLI,
    **options: Any,
) -> BookingResult:
    return services.booking.book(
        study_ref=seeded.study_id, participant_email=email, starts_at=starts_at,
        host_id=host, actor=actor, **options,
    )


def set_study(db: Database, study_id: int, **values: Any) -> None:
    with db.transaction() as session:
        session.execute(update(Study).where(Study.id == study_id).values(**values))


def set_status(db: Database, interview_id: int, status: InterviewStatus) -> None:
    with db.transaction() as session:
        session.get_one(Interview, interview_id).status = status


def snapshot(db: Database) -> dict[str, Any]:
    """Everything a booking could write."""
    with db.transaction() as session:
        return {
            "interviews": session.scalar(select(func.count()).select_from(Interview)),
            "attendees": session.scalar(select(func.count()).select_from(Attendee)),
            "activity": session.scalar(select(func.count()).select_from(ActivityEvent)),
            "participants": session.execute(
                select(Participant.email, Participant.status).order_by(Participant.id)
            ).all(),
            "versions": session.execute(select(Interview.id, Interview.version)).all(),
        }


@contextmanager
def refused(db: Database, error: type[DomainError], match: str | None = None) -> Iterator[None]:
    """The block raises ``error`` and leaves the database exactly as it was."""
    before = snapshot(db)
    with pytest.raises(error, match=match):
        yield
    assert snapshot(db) == before


def ada_member_id(db: Database) -> int:
    with db.transaction() as session:
        return session.scalars(select(TeamMember.id).where(TeamMember.slack_user_id == ADA)).one()


# ---------------------------------------------------------------- the happy path


def test_booking_creates_the_interview_with_host_participant_and_activity(
    db: Database, services: Services, seeded: Seed
) -> None:
    result = book(services, seeded, berlin(6, 10))

    assert result.starts_at == berlin(6, 10) == datetime(2030, 3, 6, 9, 0, tzinfo=UTC)
    assert result.ends_at == result.starts_at + timedelta(minutes=45)
    assert (result.study_id, result.host_slack_user_id, result.participant_email) == (seeded.study_id, ADA, NORA)
    with db.transaction() as session:
        interview = session.get_one(Interview, result.interview_id)
        assert interview.status is InterviewStatus.UPCOMING
        assert interview.study_id == seeded.study_id
        assert (interview.starts_at, interview.ends_at) == (result.starts_at, result.ends_at)
        assert interview.session_name == "Checkout redesign interview"
        assert interview.participant_limit == 1
        assert interview.organizer_member_id == ada_member_id(db)
        assert interview.conferencing_url == "https://meet.example.com/ada"
        assert interview.conferencing_password == "s3cret"
        assert interview.ical_uid == result.ical_uid and interview.ical_uid
        assert [(a.role, a.slack_user_id, a.email, a.display_name, a.is_organizer) for a in interview.attendees] == [
            (AttendeeRole.HOST, ADA, None, ADA, True),
            (AttendeeRole.PARTICIPANT, None, NORA, "Nora Quist", False),
        ]
        participant = session.scalars(select(Participant).where(Participant.email == NORA)).one()
        assert interview.attendees[1].participant_id == participant.id
        assert participant.status is ParticipantStatus.SCHEDULED
        events = session.scalars(select(ActivityEvent)).all()
        assert [(e.interview_id, e.kind, e.actor_kind, e.actor_name, e.occurred_at) for e in events] == [
            (interview.id, ActivityKind.BOOKED, ActorKind.SYSTEM, "cli", T0),
        ]
        assert events[0].details["participant"] == "Nora Quist"


@pytest.mark.parametrize(
    "starts_at",
    [berlin(6, 10), datetime.fromisoformat("2030-03-06T04:00-05:00"), datetime(2030, 3, 6, 9, 0, tzinfo=UTC)],
    ids=["berlin", "minus-five", "utc"],
)
def test_booking_result_times_are_utc_whatever_offset_was_given(
    services: Services, seeded: Seed, starts_at: datetime
) -> None:
    """Callers print the result as UTC (`interview-desk interview book` does)."""
    result = book(services, seeded, starts_at)

    assert result.starts_at.utcoffset() == timedelta(0) and result.ends_at.utcoffset() == timedelta(0)
    assert f"{result.starts_at:%Y-%m-%d %H:%M}–{result.ends_at:%H:%M}" == "2030-03-06 09:00–09:45"


def test_booking_uses_the_chosen_hosts_own_room(db: Database, services: Services, seeded: Seed) -> None:
    services.studies.set_host_conferencing(seeded.study_id, BO, "https://meet.example.com/bo")
    with_bo = book(services, seeded, berlin(6, 10), host=BO)
    with_ada = book(services, seeded, berlin(6, 10), email=OTTO, host=ADA)

    with db.transaction() as session:
        bo_interview = session.get_one(Interview, with_bo.interview_id)
        ada_interview = session.get_one(Interview, with_ada.interview_id)
        assert (bo_interview.conferencing_url, bo_interview.conferencing_password) == ("https://meet.example.com/bo", None)
        assert ada_interview.conferencing_url == "https://meet.example.com/ada"
    assert with_bo.interview_id != with_ada.interview_id
    assert with_bo.ical_uid != with_ada.ical_uid


def test_a_slack_user_of_the_team_books_and_is_recorded_as_the_actor(
    db: Database, services: Services, seeded: Seed
) -> None:
    result = book(services, seeded, berlin(6, 10), actor=Actor.slack_user(WORKSPACE, BO))

    with db.transaction() as session:
        event = session.scalars(select(ActivityEvent).where(ActivityEvent.interview_id == result.interview_id)).one()
    assert (event.actor_kind, event.actor_slack_user_id) == (ActorKind.MEMBER, BO)


@pytest.mark.parametrize(
    ("study_ref", "email", "host"),
    [
        ("Checkout redesign", NORA, ADA),
        ("C0STUDY", " Nora@Example.COM ", ADA),
        (None, NORA, f"<@{ADA}>"),
    ],
    ids=["study-by-name", "email-any-case", "host-as-mention"],
)
def test_booking_accepts_the_references_people_type(
    services: Services, seeded: Seed, study_ref: str | None, email: str, host: str
) -> None:
    result = services.booking.book(
        study_ref=study_ref or seeded.study_id, participant_email=email,
        starts_at=berlin(6, 10), host_id=host, actor=CLI,
    )
    assert (result.study_id, result.participant_email, result.host_slack_user_id) == (seeded.study_id, NORA, ADA)


# ---------------------------------------------------------------- refused requests


@pytest.mark.parametrize(
    "starts_at",
    [
        datetime(2030, 3, 6, 10, 0),
        T0,
        T0 - timedelta(minutes=1),
        berlin(6, 10).replace(second=30),
        berlin(6, 10).replace(microsecond=1),
    ],
    ids=["naive", "now", "past", "seconds", "microseconds"],
)
def test_booking_refuses_a_bad_start_time(db: Database, services: Services, seeded: Seed, starts_at: datetime) -> None:
    with refused(db, InvalidInput):
        book(services, seeded, starts_at, override_availability=True)


def test_booking_refuses_an_unknown_participant(db: Database, services: Services, seeded: Seed) -> None:
    with refused(db, NotFound, match="zed@example.com"):
        book(services, seeded, berlin(6, 10), email="zed@example.com")


def test_booking_refuses_a_participant_of_another_study(db: Database, services: Services, seeded: Seed) -> None:
    other = services.studies.create(
        team_ref=seeded.team_id, name="Onboarding", channel_id="C0OTHER",
        timezone="Europe/Berlin", duration_minutes=30, host_ids=[ADA],
    )
    services.participants.add(other.id, PIA, "Pia Lund")
    with refused(db, NotFound, match=PIA):
        book(services, seeded, berlin(6, 10), email=PIA)


@pytest.mark.parametrize("host", ["U0CY", OUTSIDER], ids=["team-member-not-hosting", "not-in-team"])
def test_booking_refuses_a_host_who_does_not_host_the_study(
    db: Database, services: Services, seeded: Seed, host: str
) -> None:
    services.teams.add_members(seeded.team_id, ["U0CY"])
    with refused(db, NotAllowed, match=host):
        book(services, seeded, berlin(6, 10), host=host)


@pytest.mark.parametrize(
    "starts_at",
    [berlin(9, 10), berlin(10, 10), berlin(6, 8, 59), berlin(6, 16, 16), berlin(6, 17), berlin(6, 23, 30)],
    ids=["saturday", "sunday", "before-9", "ends-after-17", "at-17", "runs-past-midnight"],
)
def test_booking_outside_availability_is_refused_unless_overridden(
    db: Database, services: Services, seeded: Seed, starts_at: datetime
) -> None:
    with refused(db, InvalidInput, match="outside the study's availability"):
        book(services, seeded, starts_at)

    result = book(services, seeded, starts_at, override_availability=True)
    assert result.starts_at == starts_at


@pytest.mark.parametrize("starts_at", [berlin(6, 9), berlin(8, 16, 15), berlin(11, 12)], ids=["opens", "closes", "monday"])
def test_booking_at_the_edges_of_availability_is_accepted(services: Services, seeded: Seed, starts_at: datetime) -> None:
    assert book(services, seeded, starts_at).starts_at == starts_at


def test_availability_follows_the_study_zone_across_the_dst_change(services: Services, seeded: Seed) -> None:
    """Berlin moves to summer time on Sunday 2030-03-31: 09:00 local is 08:00 UTC before, 07:00 after."""
    friday, monday = berlin(29, 9), berlin(1, 9, month=4)
    assert (friday.weekday(), monday.weekday()) == (4, 0)
    assert friday == datetime(2030, 3, 29, 8, 0, tzinfo=UTC)
    assert monday == datetime(2030, 4, 1, 7, 0, tzinfo=UTC)

    for too_early in (berlin(29, 8, 30), berlin(1, 8, 30, month=4), datetime(2030, 3, 29, 7, 0, tzinfo=UTC)):
        with pytest.raises(InvalidInput, match="outside"):
            book(services, seeded, too_early)

    assert book(services, seeded, friday).starts_at == friday
    assert book(services, seeded, datetime(2030, 4, 1, 7, 0, tzinfo=UTC), email=OTTO).starts_at == monday


def test_availability_closes_at_local_17_in_summer_time(services: Services, seeded: Seed) -> None:
    with pytest.raises(InvalidInput, match="outside"):
        book(services, seeded, datetime(2030, 4, 1, 14, 30, tzinfo=UTC))  # 16:30-17:15 CEST
    assert book(services, seeded, datetime(2030, 4, 1, 14, 15, tzinfo=UTC)).ends_at == berlin(1, 17, month=4)


@pytest.mark.parametrize(
    "otto_at", [berlin(6, 10, 30), berlin(6, 9, 30), berlin(6, 10, 44)], ids=["starts-during", "ends-during", "last-minute"]
)
def test_booking_refuses_a_host_who_is_busy(db: Database, services: Services, seeded: Seed, otto_at: datetime) -> None:
    book(services, seeded, berlin(6, 10))
    with refused(db, Conflict, match=f"{ADA} already has an interview"):
        book(services, seeded, otto_at, email=OTTO)


def test_back_to_back_interviews_and_other_hosts_are_fine(services: Services, seeded: Seed) -> None:
    services.participants.add(seeded.study_id, PIA, "Pia Lund")
    book(services, seeded, berlin(6, 10))

    book(services, seeded, berlin(6, 10, 45), email=OTTO)
    book(services, seeded, berlin(6, 10, 30), email=PIA, host=BO)


@pytest.mark.parametrize(
    ("otto_at", "clashes"),
    [
        (berlin(6, 10, 45), True),
        (berlin(6, 10, 59), True),
        (berlin(6, 11), False),
        (berlin(6, 9, 15), True),
        (berlin(6, 9), False),
    ],
    ids=["right-after", "in-buffer-after", "after-buffer", "in-buffer-before", "before-buffer"],
)
def test_host_clash_includes_the_study_buffer(
    db: Database, services: Services, seeded: Seed, otto_at: datetime, clashes: bool
) -> None:
    set_study(db, seeded.study_id, buffer_minutes=15)
    book(services, seeded, berlin(6, 10))

    if clashes:
        with refused(db, Conflict, match="15-minute buffer"):
            book(services, seeded, otto_at, email=OTTO)
    else:
        assert book(services, seeded, otto_at, email=OTTO).starts_at == otto_at


def test_host_clash_counts_the_hosts_interviews_in_other_studies(db: Database, services: Services, seeded: Seed) -> None:
    other = services.studies.create(
        team_ref=seeded.team_id, name="Onboarding", channel_id="C0OTHER",
        timezone="Europe/Berlin", duration_minutes=30, host_ids=[ADA],
    )
    services.participants.add(other.id, PIA, "Pia Lund")
    services.booking.book(study_ref=other.id, participant_email=PIA, starts_at=berlin(6, 10), host_id=ADA, actor=CLI)

    with refused(db, Conflict, match=ADA):
        book(services, seeded, berlin(6, 10, 15))


def test_a_canceled_interview_frees_the_host_and_the_participant(db: Database, services: Services, seeded: Seed) -> None:
    first = book(services, seeded, berlin(6, 10))
    set_status(db, first.interview_id, InterviewStatus.CANCELED)

    again = book(services, seeded, berlin(6, 10))
    other = book(services, seeded, berlin(6, 11), email=OTTO)

    assert again.interview_id != first.interview_id
    assert other.interview_id not in (first.interview_id, again.interview_id)


def test_booking_refuses_a_participant_who_already_has_an_upcoming_interview(
    db: Database, services: Services, seeded: Seed
) -> None:
    book(services, seeded, berlin(6, 10))

    with refused(db, Conflict, match="Nora Quist already has an upcoming interview"):
        book(services, seeded, berlin(7, 14), host=BO)


def test_an_interview_in_progress_still_counts_as_the_participants_booking(
    db: Database, services: Services, seeded: Seed, clock: MovableClock
) -> None:
    book(services, seeded, berlin(6, 10))
    clock.now = berlin(6, 10, 30).astimezone(UTC)

    with refused(db, Conflict, match="already has an upcoming interview"):
        book(services, seeded, berlin(7, 14))


def test_a_booking_in_another_study_does_not_block_the_participant(services: Services, seeded: Seed) -> None:
    other = services.studies.create(
        team_ref=seeded.team_id, name="Onboarding", channel_id="C0OTHER",
        timezone="Europe/Berlin", duration_minutes=30, host_ids=[BO],
    )
    services.participants.add(other.id, NORA, "Nora Quist")
    services.booking.book(study_ref=other.id, participant_email=NORA, starts_at=berlin(6, 14), host_id=BO, actor=CLI)

    assert book(services, seeded, berlin(7, 10)).participant_email == NORA


# ---------------------------------------------------------------- group slots


def test_a_full_one_person_slot_is_refused(db: Database, services: Services, seeded: Seed) -> None:
    book(services, seeded, berlin(6, 10))
    with refused(db, Conflict):
        book(services, seeded, berlin(6, 10), email=OTTO)


def test_group_slot_seats_participants_up_to_the_limit(db: Database, services: Services, seeded: Seed) -> None:
    set_study(db, seeded.study_id, participant_limit=2)
    services.participants.add(seeded.study_id, PIA, "Pia Lund")

    first = book(services, seeded, berlin(6, 10))
    second = book(services, seeded, berlin(6, 10), email=OTTO, actor=Actor.slack_user(WORKSPACE, BO))
    with refused(db, Conflict, match="full"):
        book(services, seeded, berlin(6, 10), email=PIA)

    assert second.interview_id == first.interview_id
    assert second.ical_uid == first.ical_uid
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Interview)) == 1
        interview = session.get_one(Interview, first.interview_id)
        assert interview.participant_limit == 2
        assert [(a.role, a.email or a.slack_user_id) for a in interview.attendees] == [
            (AttendeeRole.HOST, ADA),
            (AttendeeRole.PARTICIPANT, NORA),
            (AttendeeRole.PARTICIPANT, OTTO),
        ]
        statuses = {email: status for email, status in session.execute(select(Participant.email, Participant.status))}
        assert statuses == {NORA: ParticipantStatus.SCHEDULED, OTTO: ParticipantStatus.SCHEDULED, PIA: ParticipantStatus.INVITED}
        booked = session.execute(
            select(ActivityEvent.kind, ActivityEvent.details).where(ActivityEvent.interview_id == interview.id).order_by(ActivityEvent.id)
        ).all()
        assert [(kind, details["participant"]) for kind, details in booked] == [
            (ActivityKind.BOOKED, "Nora Quist"),
            (ActivityKind.BOOKED, "Otto Berg"),
        ]


def test_group_slot_is_per_host_and_per_start_time(db: Database, services: Services, seeded: Seed) -> None:
    set_study(db, seeded.study_id, participant_limit=2)
    services.participants.add(seeded.study_id, PIA, "Pia Lund")
    first = book(services, seeded, berlin(6, 10))

    with_bo = book(services, seeded, berlin(6, 10), email=OTTO, host=BO)
    with refused(db, Conflict, match="already has an interview"):
        book(services, seeded, berlin(6, 10, 15), email=PIA)

    assert with_bo.interview_id != first.interview_id


# ---------------------------------------------------------------- access


@pytest.mark.parametrize(
    "actor",
    [Actor.slack_user(WORKSPACE, OUTSIDER), Actor(ActorKind.MEMBER, slack_workspace_id=WORKSPACE)],
    ids=["outsider", "no-user-id"],
)
def test_booking_by_someone_outside_the_team_is_not_allowed(
    db: Database, services: Services, seeded: Seed, actor: Actor
) -> None:
    with refused(db, NotAllowed, match="Only the research team of \\*Checkout redesign\\*"):
        book(services, seeded, berlin(6, 10), actor=actor)


@pytest.mark.parametrize("actor", [Actor.slack_user("T0OTHER", ADA), Actor.slack_user("T0OTHER", OUTSIDER)],
                         ids=["member-id-from-another-workspace", "outsider-of-another-workspace"])
def test_someone_of_another_workspace_is_refused_without_the_studys_name(
    db: Database, services: Services, seeded: Seed, actor: Actor
) -> None:
    with refused(db, NotAllowed, match=f"^{re.escape(FOREIGN_REFUSAL)}$"):  # no study, no team id
        book(services, seeded, berlin(6, 10), actor=actor)
