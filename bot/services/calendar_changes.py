"""What changed in a host's Google Calendar, applied to our interviews.

``CalendarSync`` (``calendar_sync``) fetches a calendar's changed events; this module decides
what each one means for the interview behind it, so that fetching (claims, channels, sync tokens)
and the interview rules can change apart. The changes are applied to the interviews whose event
lives in that calendar, the organizer's:

- an attendee's ``responseStatus`` becomes their RSVP, recorded as the invite's links record it
  (``AttendanceService.calendar_answer``); only a change is recorded;
- an event moved is a reschedule, an event deleted a cancellation, both told in the channel and
  not written back to Google (``from_calendar``).

An interview with a calendar write still queued is left alone: Google is behind us, and our
write brings it in line (its own notification then shows nothing new). Applying a change is
idempotent: each service compares under the interview's lock and does nothing the second time.
"""

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeVar

from sqlalchemy import and_, select
from sqlalchemy.orm import Session, selectinload

from bot.domain import GOOGLE_CALENDAR, Actor
from bot.integrations.google_values import CalendarEvent
from bot.services.attendance import AttendanceService
from bot.services.errors import DomainError
from bot.services.interview_changes import InterviewChangeService
from bot.services.interview_outcomes import InterviewOutcomeService
from storage.db import Database
from storage.enums import CalendarProvider, InterviewStatus, InviteStatus, OutboxKind, OutboxStatus
from storage.models import Interview, OutboxItem

log = logging.getLogger(__name__)
T = TypeVar("T")

SOURCE = GOOGLE_CALENDAR
ACTOR = Actor.system(SOURCE)
IN_CHUNK = 500  # ids per IN (...) in one query
_RESPONSES = {
    "accepted": InviteStatus.ACCEPTED,
    "tentative": InviteStatus.TENTATIVE,  # "Attendance unknown"
    "declined": InviteStatus.DECLINED,
}  # needsAction says nothing new


class _Outcome(Protocol):
    changed: bool


@dataclass(frozen=True)
class _Seat:
    id: int
    email: str  # lower-cased
    status: InviteStatus


@dataclass(frozen=True)
class _Ours:
    """One of our interviews as the sync compares it with its event."""

    id: int
    status: InterviewStatus
    starts_at: datetime
    ends_at: datetime
    seats: tuple[_Seat, ...]

    @classmethod
    def of(cls, interview: Interview) -> "_Ours":
        seats = tuple(_Seat(a.id, a.email.lower(), a.invite_status) for a in interview.attendees if a.email)
        return cls(interview.id, interview.status, interview.starts_at, interview.ends_at, seats)


class CalendarChanges:
    """Applies a host's changed Google events to the interviews they organize."""

    def __init__(
        self, db: Database, attendance: AttendanceService, changes: InterviewChangeService,
        outcomes: InterviewOutcomeService,
    ) -> None:
        self.db = db
        self.attendance = attendance
        self.changes = changes
        self.outcomes = outcomes

    def apply(self, member_id: int, events: Sequence[CalendarEvent]) -> int:
        """Apply ``events`` from the calendar of the member ``member_id``; the number of changes
        recorded on interviews."""
        with self.db.transaction() as session:
            ours = _our_interviews(session, member_id, events)
            waiting = _with_queued_writes(session, [interview.id for _, interview in ours])
        applied = 0
        for event, interview in ours:
            if interview.id not in waiting:
                applied += self._apply_event(event, interview)
        return applied

    def _apply_event(self, event: CalendarEvent, ours: _Ours) -> int:
        if ours.status is not InterviewStatus.UPCOMING:
            return 0  # canceled (a deletion we made, echoed) or already settled
        if event.cancelled:
            return 1 if self._act(ours, lambda: self.outcomes.cancel(ours.id, ACTOR, None, from_calendar=True)) else 0
        applied = 0
        if event.start is not None and (event.start, event.end) != (ours.starts_at, ours.ends_at):
            start = event.start
            if self._act(ours, lambda: self.changes.reschedule(
                ours.id, ACTOR, None, starts_at=start, override_availability=True, from_calendar=True,
            )):
                applied += 1
                ours = self._reload(ours.id) or ours  # answers were reset for the new time
        for answer in event.attendees:
            status = _RESPONSES.get(answer.response_status)
            seat = next((s for s in ours.seats if s.email == answer.email.lower()), None)
            if answer.organizer or status is None or seat is None or seat.status is status:
                continue
            if self.attendance.calendar_answer(seat.id, status, source=SOURCE):
                applied += 1
        return applied

    @staticmethod
    def _act(ours: _Ours, change: Callable[[], _Outcome]) -> bool:
        """Make a change Google told of; one our rules refuse (e.g. a time in the past, or one
        clashing with another interview of the host) is logged and left as it is."""
        try:
            return bool(change().changed)
        except DomainError as error:
            log.warning("interview %s: a change from Google Calendar was not applied: %s", ours.id, error)
            return False

    def _reload(self, interview_id: int) -> _Ours | None:
        with self.db.transaction() as session:
            interview = session.get(Interview, interview_id)
            return _Ours.of(interview) if interview is not None else None


def _our_interviews(
    session: Session, member_id: int, events: Sequence[CalendarEvent],
) -> list[tuple[CalendarEvent, _Ours]]:
    """The events that are interviews organized by this member, with those interviews. A
    cancelled event in a list carries only its id, so events are matched by their id, and by our
    private interview id for an event whose id we have not stored yet."""
    mine = and_(Interview.organizer_member_id == member_id, Interview.calendar_provider == CalendarProvider.GOOGLE)
    by_event: dict[str, Interview] = {}
    for chunk in _chunks(list({e.id for e in events})):
        for interview in session.scalars(
            select(Interview).where(mine, Interview.google_event_id.in_(chunk)).options(selectinload(Interview.attendees))
        ):
            by_event[interview.google_event_id or ""] = interview
    unstored = {int(e.interview_id): e.id for e in events
                if e.id not in by_event and e.interview_id and e.interview_id.isdigit()}
    for chunk in _chunks(list(unstored)):
        for interview in session.scalars(
            select(Interview).where(mine, Interview.id.in_(chunk), Interview.google_event_id.is_(None))
            .options(selectinload(Interview.attendees))
        ):
            by_event[unstored[interview.id]] = interview
    return [(e, _Ours.of(by_event[e.id])) for e in events if e.id in by_event]


def _with_queued_writes(session: Session, interview_ids: Sequence[int]) -> set[int]:
    waiting: set[int] = set()
    for chunk in _chunks(list(interview_ids)):
        waiting.update(session.scalars(
            select(OutboxItem.interview_id).where(
                OutboxItem.interview_id.in_(chunk),
                OutboxItem.kind == OutboxKind.CALENDAR,
                OutboxItem.status == OutboxStatus.PENDING,
            )
        ).all())
    return waiting


def _chunks(items: list[T]) -> Iterator[list[T]]:
    for start in range(0, len(items), IN_CHUNK):
        yield items[start:start + IN_CHUNK]
