"""A participant's answer to their interview: Yes / Maybe / No, and "Confirm attendance".

The links in the participant's emails lead here (``/s/<token>/rsvp/<id>/<answer>`` and
``/s/<token>/attend/<id>``). The token is the participant's only credential: the interview must
be one they have a seat in, or the link is "not valid", the same as on every other page. An
answer is only taken for an interview that is still ahead and at the time the participant was
shown (``seen``): a link from an email about a time that has since moved asks about the new
time instead of answering for it.

Answering updates the participant's attendee row (accepted ✓, tentative "Attendance unknown",
declined; a confirmation is ✓✓ and an acceptance), writes the timeline, refreshes the channel
card and tells its thread. The same answer again changes nothing and posts nothing.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.domain import Actor
from bot.services import activity
from bot.services.errors import Conflict
from bot.services.links import hash_token
from bot.services.notifications import Mailer, Notifier
from bot.services.portal import LinkNotValid
from storage import outbox
from storage.db import Database
from storage.enums import ActivityKind, ActorKind, AttendeeRole, InterviewStatus, InviteStatus
from storage.models import Attendee, Interview, Participant

MAX_TOKEN = 100  # a token is 43 characters; anything much longer is not one of ours


class Answer(StrEnum):
    """What the invite's links say; the path's last part."""

    YES = "yes"
    MAYBE = "maybe"
    NO = "no"


_STATUS = {Answer.YES: InviteStatus.ACCEPTED, Answer.MAYBE: InviteStatus.TENTATIVE, Answer.NO: InviteStatus.DECLINED}


@dataclass(frozen=True)
class Attendance:
    """The participant's seat on one interview, as the pages show it."""

    interview_id: int
    participant_name: str
    starts_at: datetime
    ends_at: datetime
    timezone: str  # the participant's zone (chosen when booking), else the study's
    invite_status: InviteStatus
    confirmed: bool  # ✓✓

    @property
    def seen(self) -> int:
        """The start as the form carries it (Unix seconds), so the answer is for this time."""
        return int(self.starts_at.timestamp())

    def answered(self, answer: Answer) -> bool:
        return self.invite_status is _STATUS[answer] and (answer is Answer.YES or not self.confirmed)


@dataclass(frozen=True)
class AttendanceResult:
    attendance: Attendance
    changed: bool  # False for the same answer again
    outbox_ids: tuple[int, ...] = ()


class InterviewGone(Conflict):
    """Canceled, or already under way or over: there is nothing to answer any more."""

    def __init__(self, message: str, *, canceled: bool) -> None:
        super().__init__(message)
        self.canceled = canceled


class InterviewMoved(Conflict):
    """The interview is at another time than the one the participant was shown."""

    def __init__(self, current: Attendance, seen: datetime) -> None:
        super().__init__("Your interview has moved since that email.")
        self.current = current
        self.seen = seen


MAX_UNIX_DIGITS = 12  # every readable time fits; longer strings never reach int()
# A year short of the calendar's end: the pages add an interview's length to a time they read and
# show it in zones up to 14 hours ahead of UTC, and neither may go past year 9999.
LATEST_UNIX_SECONDS = int(datetime(9999, 1, 1, tzinfo=UTC).timestamp())


def seen_start(value: str | None) -> datetime | None:
    """The start a link or form names, in Unix seconds (the attendance links' ``at``, a waitlist
    offer's ``start``); None when absent, not plain digits, or later than a page can show."""
    if not value or len(value) > MAX_UNIX_DIGITS or not (value.isascii() and value.isdigit()):
        return None
    seconds = int(value)
    if seconds > LATEST_UNIX_SECONDS:
        return None
    return datetime.fromtimestamp(seconds, UTC)


class AttendanceService:
    def __init__(self, db: Database, clock: Clock, notifier: Notifier, mailer: Mailer) -> None:
        self.db = db
        self.clock = clock
        self.notifier = notifier
        self.mailer = mailer

    def show(self, token: str, interview_id: int, seen: datetime | None = None) -> Attendance:
        """The seat, if it can still be answered for (raises as ``respond`` would; changes nothing)."""
        with self.db.transaction() as session:
            participant, seat = _seat(session, token, interview_id)
            _require_answerable(seat, participant, self.clock(), seen)
            return _attendance(seat, participant)

    def respond(self, token: str, interview_id: int, answer: Answer, seen: datetime | None = None) -> AttendanceResult:
        """Yes (accepted ✓), Maybe (tentative) or No (declined); Maybe and No undo a confirmation."""
        answer = Answer(answer)
        status = _STATUS[answer]
        now = self.clock()
        with self.db.transaction(write_lock=True) as session:
            participant, seat = _seat(session, token, interview_id, lock=True)
            interview = _require_answerable(seat, participant, now, seen)
            if _attendance(seat, participant).answered(answer):
                return _result(session, seat, participant, changed=False)
            seat.invite_status = status
            if status is not InviteStatus.ACCEPTED:
                seat.attendance_confirmed_at = None  # ✓✓ would contradict a maybe or a no
            event = activity.record(session, interview, ActivityKind.RSVP_CHANGED, _actor(participant), now,
                                    attendee=participant.name, status=status.value)
            session.flush()  # the event's id names this change, so answering again later posts again
            note = {"kind": "rsvp", "who": participant.name, "status": status.value}
            self.notifier.card(session, interview, now, f"rsvp:a{seat.id}:e{event.id}", note=note)
            return _result(session, seat, participant, changed=True)

    def confirm(self, token: str, interview_id: int, seen: datetime | None = None) -> AttendanceResult:
        """Confirmed attendance (✓✓), which is also an acceptance."""
        now = self.clock()
        with self.db.transaction(write_lock=True) as session:
            participant, seat = _seat(session, token, interview_id, lock=True)
            interview = _require_answerable(seat, participant, now, seen)
            if seat.attendance_confirmed_at is not None and seat.invite_status is InviteStatus.ACCEPTED:
                return _result(session, seat, participant, changed=False)
            seat.attendance_confirmed_at = now
            seat.invite_status = InviteStatus.ACCEPTED
            event = activity.record(session, interview, ActivityKind.ATTENDANCE_CONFIRMED, _actor(participant), now,
                                    attendee=participant.name)
            session.flush()
            note = {"kind": "attendance_confirmed", "who": participant.name}
            self.notifier.card(session, interview, now, f"confirmed:a{seat.id}:e{event.id}", note=note)
            return _result(session, seat, participant, changed=True)

    def calendar_answer(self, attendee_id: int, status: InviteStatus, *, source: str) -> bool:
        """An attendee's answer as their calendar reports it (``source``, e.g. "Google Calendar"),
        recorded as ``respond`` records one: the status, the timeline, the card and a note in its
        thread. False when it says nothing new or the interview can't be answered for any more."""
        now = self.clock()
        with self.db.transaction(write_lock=True) as session:
            seat = session.scalars(select(Attendee).where(Attendee.id == attendee_id).with_for_update(key_share=True)).one_or_none()
            if seat is None or seat.invite_status is status:
                return False
            interview = seat.interview
            if interview.status is not InterviewStatus.UPCOMING or interview.starts_at <= now:
                return False
            seat.invite_status = status
            if status is not InviteStatus.ACCEPTED:
                seat.attendance_confirmed_at = None
            event = activity.record(session, interview, ActivityKind.RSVP_CHANGED, Actor.system(source), now,
                                    attendee=seat.display_name, status=status.value, via=source)
            session.flush()
            note = {"kind": "rsvp", "who": seat.display_name, "status": status.value, "via": source}
            self.notifier.card(session, interview, now, f"rsvp:a{seat.id}:e{event.id}", note=note)
            return True


def _seat(session: Session, token: str, interview_id: int, *, lock: bool = False) -> tuple[Participant, Attendee]:
    """The link's participant and their seat on ``interview_id``; anything else is "not valid".

    ``lock``: the seat's row, so a double click's second request waits for the first and then
    finds nothing to change (SQLite's write lock does this already).
    """
    if not token or len(token) > MAX_TOKEN:
        raise LinkNotValid()
    participant = session.scalars(
        select(Participant).where(Participant.scheduling_token_hash == hash_token(token))
    ).one_or_none()
    if participant is None:
        raise LinkNotValid()
    query = select(Attendee).where(
        Attendee.interview_id == interview_id,
        Attendee.participant_id == participant.id,
        Attendee.role == AttendeeRole.PARTICIPANT,
    )
    seat = session.scalars(query.with_for_update(key_share=True) if lock else query).one_or_none()
    if seat is None:  # someone else's interview, or one they no longer have a seat in
        raise LinkNotValid()
    return participant, seat


def _require_answerable(seat: Attendee, participant: Participant, now: datetime, seen: datetime | None) -> Interview:
    """The seat's interview, if it is still ahead and at the time the participant saw."""
    interview = seat.interview  # loaded after the seat's lock, so a move committed meanwhile is seen
    if interview.status is InterviewStatus.CANCELED:
        raise InterviewGone("This interview was canceled, so there is nothing to answer any more.", canceled=True)
    if interview.status is not InterviewStatus.UPCOMING or interview.ends_at <= now:
        raise InterviewGone("This interview has already taken place.", canceled=False)
    if interview.starts_at <= now:
        raise InterviewGone("This interview has already started.", canceled=False)
    if seen is not None and seen != interview.starts_at:
        raise InterviewMoved(_attendance(seat, participant), seen)
    return interview


def _attendance(seat: Attendee, participant: Participant) -> Attendance:
    interview = seat.interview
    return Attendance(
        interview_id=interview.id, participant_name=participant.name,
        starts_at=interview.starts_at, ends_at=interview.ends_at,
        timezone=participant.timezone or interview.study.timezone,
        invite_status=seat.invite_status, confirmed=seat.attendance_confirmed_at is not None,
    )


def _result(session: Session, seat: Attendee, participant: Participant, *, changed: bool) -> AttendanceResult:
    session.flush()
    return AttendanceResult(_attendance(seat, participant), changed, outbox.added_in(session))


def _actor(participant: Participant) -> Actor:
    return Actor(ActorKind.PARTICIPANT, name=participant.name)
