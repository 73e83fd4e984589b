"""The rules a change to an interview from Slack must keep: the change applies to the interview
as it is now, a new time is in the future, nobody is booked twice, and locks are taken in the
order bookings take them."""

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.actions import InterviewAction, available_actions
from bot.services.errors import Conflict, InvalidField
from bot.services.interviews import summary
from bot.services.notifications import when
from storage.enums import InterviewStatus
from storage.models import Interview, StudyHost
from storage.queries import overlapping_interviews, upcoming_interview_of

A = InterviewAction

_NOT_NOW = {
    A.RESCHEDULE: "rescheduled",
    A.CHANGE_HOST: "given another host",
    A.EDIT_DETAILS: "edited",
    A.CHANGE_LIMIT: "given another participant limit",
    A.ADD_GUEST: "given another guest",
}


def require_applies(interview: Interview, action: InterviewAction, now: datetime) -> None:
    """Refuse a change the interview's state rules out (the same rule that shows the button)."""
    current = summary(interview, now)
    if action in available_actions(current):
        return
    if current.status is InterviewStatus.CANCELED:
        raise Conflict("This interview was canceled, so it can't be changed any more. Book a new one with `/interviews book`.")
    if action is A.CHANGE_LIMIT and not current.is_group and not current.has_ended:
        raise Conflict("This is a one-on-one interview: only group slots have a participant limit.")
    raise Conflict(f"This interview is over, so it can't be {_NOT_NOW.get(action, 'changed')} any more.")


def future_start(starts_at: datetime, now: datetime) -> datetime:
    if starts_at.tzinfo is None:
        raise InvalidField("when", "Give the new time with its time zone.")
    if starts_at.second or starts_at.microsecond:
        raise InvalidField("when", "Interviews start on a whole minute.")
    starts_at = starts_at.astimezone(UTC)
    if starts_at <= now:
        raise InvalidField("when", "That time has already passed; choose a time in the future.")
    return starts_at


def lock_hosts(session: Session, interview_id: int) -> None:
    """Lock the study's host rows, as bookings do, before the interview's row (PostgreSQL; SQLite
    holds the write lock already): a booking racing a change of time or host waits, then sees the
    host busy; taking the locks in the bookings' order (hosts, then the interview) never deadlocks."""
    study_id = session.scalar(select(Interview.study_id).where(Interview.id == interview_id))
    if study_id is not None:
        session.execute(select(StudyHost.id).where(StudyHost.study_id == study_id).with_for_update()).all()


def refuse_clashes(
    session: Session, interview: Interview, user_ids: list[str], start: datetime, end: datetime, *,
    field: str, hint: str = "", names: Mapping[str, str] | None = None,
) -> None:
    """Each of these people is free for ``[start, end)`` plus the study's buffer, this interview aside."""
    study = interview.study
    buffer = timedelta(minutes=study.buffer_minutes)
    for user_id in user_ids:
        clashes = [c for c in overlapping_interviews(session, user_id, start - buffer, end + buffer) if c.id != interview.id]
        if clashes:
            clash = clashes[0]
            who = (names or {}).get(user_id) or name_of(interview, user_id)
            plus = f" (plus the study's {study.buffer_minutes}-minute buffer)" if study.buffer_minutes else ""
            raise InvalidField(field, (
                f"{who} already has an interview then: {when(clash.starts_at, clash.ends_at, study.timezone)}{plus}."
                f"{hint}"
            ))


def refuse_second_interview(session: Session, interview: Interview, now: datetime) -> None:
    """Running a past interview again must not give a participant two upcoming ones in a study."""
    for attendee in interview.attendees:
        if attendee.participant_id is None:
            continue
        other = upcoming_interview_of(session, attendee.participant_id, now, except_interview_id=interview.id)
        if other is not None:
            raise Conflict(
                f"{attendee.display_name} already has another upcoming interview in this study "
                f"({when(other.starts_at, other.ends_at, interview.study.timezone)}). Reschedule that one instead."
            )


def name_of(interview: Interview, slack_user_id: str | None) -> str:
    attendee = next((a for a in interview.attendees if slack_user_id and a.slack_user_id == slack_user_id), None)
    return attendee.display_name if attendee else (slack_user_id or "someone")
