"""Tests of the participant pages; the helpers here are shared by the HTTP and browser tests."""

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import select

from bot.services import Services
from storage.enums import AttendeeRole, InterviewStatus
from storage.models import Attendee, Interview, Participant


@dataclass(frozen=True)
class Link:
    """A participant's personal link, as the pages see it."""

    participant_id: int
    token: str

    @property
    def path(self) -> str:
        return f"/s/{self.token}"

    def page(self, name: str) -> str:
        return f"{self.path}/{name}"


def link_for(services: Services, participant_id: int) -> Link:
    path = urlsplit(services.participants.scheduling_link(participant_id)).path
    return Link(participant_id, path.removeprefix("/s/"))


def participant_link(services: Services, study_id: int, email: str, name: str | None = None) -> Link:
    return link_for(services, services.participants.add(study_id, email, name).id)


def first_participant(services: Services, study_id: int) -> Link:
    return link_for(services, services.participants.list(study_id)[0].id)


@dataclass(frozen=True)
class Booked:
    """An interview row as a test checks it, read fresh from the database."""

    id: int
    starts_at: datetime
    status: InterviewStatus
    ical_uid: str
    ical_sequence: int
    participants: int


def interviews_of(services: Services, participant_id: int) -> list[Booked]:
    """Every interview the participant has a seat in, whatever its status."""
    with services.db.transaction() as session:
        rows = session.scalars(
            select(Interview)
            .join(Attendee, Attendee.interview_id == Interview.id)
            .where(Attendee.participant_id == participant_id)
            .order_by(Interview.id)
        ).all()
        return [_booked(i) for i in rows]


def interviews_at(services: Services, study_id: int, starts_at: datetime) -> list[Booked]:
    with services.db.transaction() as session:
        rows = session.scalars(
            select(Interview).where(Interview.study_id == study_id, Interview.starts_at == starts_at)
        ).all()
        return [_booked(i) for i in rows]


def participant_timezone(services: Services, participant_id: int) -> str | None:
    with services.db.transaction() as session:
        participant = session.get(Participant, participant_id)
        assert participant is not None
        return participant.timezone


def _booked(interview: Interview) -> Booked:
    seats = sum(1 for a in interview.attendees if a.role is AttendeeRole.PARTICIPANT)
    return Booked(
        interview.id,
        interview.starts_at,
        interview.status,
        interview.ical_uid,
        interview.ical_sequence,
        seats,
    )
