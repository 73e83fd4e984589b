"""Query functions: the SQL the services need, in one place.

The interview lists are keyset-paginated on ``(starts_at, id)`` and each part of them is served by
an index range scan, so a page costs the same with ten interviews or ten thousand.
"""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from heapq import merge
from typing import Literal

from sqlalchemy import ColumnElement, ScalarSelect, Select, and_, func, or_, select
from sqlalchemy.orm import Session, selectinload

from storage.enums import ConnectionStatus, InterviewStatus
from storage.models import (
    ActivityEvent,
    Attendee,
    CalendarBusy,
    CalendarConnection,
    Interview,
    Study,
    TeamMember,
)

# Longer than any interview may last: bounds the scan for interviews that have started but not
# ended, so the Upcoming list never walks the study's whole history.
MAX_INTERVIEW_LENGTH = timedelta(hours=12)

SETTLED = (InterviewStatus.COMPLETED, InterviewStatus.NO_SHOW, InterviewStatus.CANCELED)

Direction = Literal["after", "before"]
Key = tuple[int, int]  # (starts_at as Unix seconds, id)


def study_by_channel(session: Session, workspace_id: str, channel_id: str) -> Study | None:
    return session.scalars(
        select(Study).where(
            Study.slack_workspace_id == workspace_id, Study.slack_channel_id == channel_id
        )
    ).one_or_none()


def team_member(session: Session, team_id: int, slack_user_id: str) -> TeamMember | None:
    return session.scalars(
        select(TeamMember).where(
            TeamMember.team_id == team_id, TeamMember.slack_user_id == slack_user_id
        )
    ).one_or_none()


def _upcoming(study_id: int, now: datetime) -> ColumnElement[bool]:
    return and_(
        Interview.study_id == study_id,
        Interview.status == InterviewStatus.UPCOMING,
        Interview.starts_at > now - MAX_INTERVIEW_LENGTH,
        Interview.ends_at > now,
    )


def _past_parts(study_id: int, now: datetime) -> tuple[ColumnElement[bool], ...]:
    """Past = everything that has ended, plus what was settled before its time (canceled...).

    The ``starts_at`` bounds are implied by the ``ends_at`` ones; they are spelled out, and each
    settled status is its own part, so that every part is an exact index range scan whatever
    the planner's statistics say, instead of a walk past every future interview.
    """
    ended = and_(
        Interview.study_id == study_id, Interview.starts_at < now, Interview.ends_at <= now
    )
    settled_early = tuple(
        and_(
            Interview.study_id == study_id,
            Interview.status == status,
            Interview.starts_at > now - MAX_INTERVIEW_LENGTH,
            Interview.ends_at > now,
        )
        for status in SETTLED
    )
    return (ended, *settled_early)


def _after(key: Key) -> ColumnElement[bool]:
    at = datetime.fromtimestamp(key[0], UTC)
    return or_(Interview.starts_at > at, and_(Interview.starts_at == at, Interview.id > key[1]))


def _before(key: Key) -> ColumnElement[bool]:
    at = datetime.fromtimestamp(key[0], UTC)
    return or_(Interview.starts_at < at, and_(Interview.starts_at == at, Interview.id < key[1]))


def _page_select(
    where: ColumnElement[bool], *, ascending: bool, limit: int, cursor: ColumnElement[bool] | None
) -> Select[tuple[Interview]]:
    query = select(Interview).where(where)
    if cursor is not None:
        query = query.where(cursor)
    order = (
        (Interview.starts_at.asc(), Interview.id.asc())
        if ascending
        else (Interview.starts_at.desc(), Interview.id.desc())
    )
    return query.order_by(*order).limit(limit)


def _sort_key(interview: Interview) -> Key:
    return (int(interview.starts_at.timestamp()), interview.id)


def interview_page(
    session: Session,
    study_id: int,
    *,
    past: bool,
    now: datetime,
    limit: int,
    key: Key | None = None,
    direction: Direction = "after",
) -> tuple[list[Interview], bool]:
    """One page of a study's Upcoming (soonest first) or Past (latest first) interviews.

    ``key`` is the edge of the page the user comes from: with ``direction="after"`` the page
    continues past it (Next), with ``"before"`` it ends just before it (Previous). Returns the
    rows in display order and whether more rows lie beyond the page in that direction.
    """
    # Display order is ascending for Upcoming and descending for Past; "before" reverses it.
    ascending = (not past) == (direction == "after")
    cursor = None
    if key is not None:
        cursor = _after(key) if ascending else _before(key)
    parts: Sequence[ColumnElement[bool]] = (
        _past_parts(study_id, now) if past else (_upcoming(study_id, now),)
    )
    streams = [
        session.scalars(
            _page_select(part, ascending=ascending, limit=limit + 1, cursor=cursor).options(
                selectinload(Interview.attendees)
            )
        ).all()
        for part in parts
    ]
    # Each part is sorted already; merging them keeps the order without sorting everything.
    rows = list(merge(*streams, key=_sort_key, reverse=not ascending))[: limit + 1]
    more = len(rows) > limit
    rows = rows[:limit]
    if direction == "before":
        rows.reverse()
    return rows, more


def _capped(part: ColumnElement[bool], cap: int) -> ScalarSelect[int]:
    return select(func.count()).select_from(select(Interview.id).where(part).limit(cap).subquery()).scalar_subquery()


def count_capped(session: Session, study_id: int, *, past: bool, now: datetime, cap: int) -> int:
    """How many interviews a tab holds, counting no further than ``cap`` (shown as "cap+")."""
    parts = _past_parts(study_id, now) if past else (_upcoming(study_id, now),)
    return min(sum(session.execute(select(*(_capped(part, cap) for part in parts))).one()), cap)


def tab_counts(session: Session, study_id: int, *, now: datetime, cap: int) -> tuple[int, int]:
    """``count_capped`` of the Upcoming and the Past tab, in one statement (one round trip)."""
    upcoming, *past = session.execute(select(
        _capped(_upcoming(study_id, now), cap), *(_capped(part, cap) for part in _past_parts(study_id, now)),
    )).one()
    return min(upcoming, cap), min(sum(past), cap)


def interview_with_attendees(session: Session, interview_id: int) -> Interview | None:
    return session.scalars(
        select(Interview)
        .where(Interview.id == interview_id)
        .options(selectinload(Interview.attendees), selectinload(Interview.study))
    ).one_or_none()


def activity_page(
    session: Session, interview_id: int, *, offset: int, limit: int
) -> tuple[list[ActivityEvent], int]:
    """An interview's timeline, newest first, and how many events it has in all."""
    rows = session.scalars(
        select(ActivityEvent)
        .where(ActivityEvent.interview_id == interview_id)
        .order_by(ActivityEvent.occurred_at.desc(), ActivityEvent.id.desc())
        .offset(offset)
        .limit(limit)
    ).all()
    total = session.scalar(
        select(func.count()).where(ActivityEvent.interview_id == interview_id)
    )
    return list(rows), total or 0


def overlapping_interviews(
    session: Session, slack_user_id: str, starts_at: datetime, ends_at: datetime
) -> list[Interview]:
    """Live interviews a Slack user attends (in any study) that overlap ``[starts_at, ends_at)``."""
    return list(
        session.scalars(
            select(Interview)
            .join(Attendee, Attendee.interview_id == Interview.id)
            .where(
                Attendee.slack_user_id == slack_user_id,
                Interview.status != InterviewStatus.CANCELED,
                Interview.starts_at < ends_at,
                Interview.ends_at > starts_at,
            )
            .distinct()
        ).all()
    )


def busy_intervals(
    session: Session, slack_user_ids: Sequence[str], starts_after: datetime, ends_before: datetime,
    *, except_interview_id: int | None = None,
) -> list[tuple[str, datetime, datetime]]:
    """(user, start, end) of live interviews these Slack users attend, in any study, in a window.

    ``except_interview_id``: an interview being moved does not block its own new time.
    """
    if not slack_user_ids:
        return []
    query = (
        select(Attendee.slack_user_id, Interview.starts_at, Interview.ends_at)
        .join(Interview, Interview.id == Attendee.interview_id)
        .where(
            Attendee.slack_user_id.in_(slack_user_ids),
            Interview.status != InterviewStatus.CANCELED,
            Interview.ends_at > starts_after,
            Interview.starts_at < ends_before,
        )
    )
    if except_interview_id is not None:
        query = query.where(Interview.id != except_interview_id)
    rows = session.execute(query)
    return [(user, start, end) for user, start, end in rows if user is not None]


def calendar_busy_blocks(
    session: Session, team_id: int, slack_user_ids: Sequence[str], starts_after: datetime, ends_before: datetime,
    *, with_free_events: bool = False,
) -> list[tuple[str, datetime, datetime]]:
    """(user, start, end) of the busy blocks stored for these team members' connected calendars.

    Only working connections count. ``with_free_events``: also the events marked free, which
    only studies that respect every event count.
    """
    if not slack_user_ids:
        return []
    query = (
        select(TeamMember.slack_user_id, CalendarBusy.starts_at, CalendarBusy.ends_at)
        .select_from(CalendarBusy)
        .join(CalendarConnection, CalendarConnection.id == CalendarBusy.connection_id)
        .join(TeamMember, TeamMember.id == CalendarConnection.member_id)
        .where(
            TeamMember.team_id == team_id,
            TeamMember.slack_user_id.in_(slack_user_ids),
            CalendarConnection.status == ConnectionStatus.ACTIVE,
            CalendarBusy.ends_at > starts_after,
            CalendarBusy.starts_at < ends_before,
        )
    )
    if not with_free_events:
        query = query.where(CalendarBusy.transparent.is_(False))
    return [(user, start, end) for user, start, end in session.execute(query)]


def open_group_slots(session: Session, study_id: int, after: datetime) -> list[tuple[Interview, int]]:
    """The study's upcoming interviews starting after ``after``, with how many participants each has."""
    seated = (
        select(func.count())
        .where(Attendee.interview_id == Interview.id, Attendee.participant_id.is_not(None))
        .correlate(Interview)
        .scalar_subquery()
    )
    rows = session.execute(
        select(Interview, seated)
        .where(
            Interview.study_id == study_id,
            Interview.status == InterviewStatus.UPCOMING,
            Interview.starts_at > after,
        )
        .options(selectinload(Interview.organizer))
    )
    return [(interview, count) for interview, count in rows]


def upcoming_interview_of(
    session: Session, participant_id: int, now: datetime, *, except_interview_id: int | None = None
) -> Interview | None:
    """The participant's next interview that is still ahead (a participant belongs to one study)."""
    query = (
        select(Interview)
        .join(Attendee, Attendee.interview_id == Interview.id)
        .where(
            Attendee.participant_id == participant_id,
            Interview.status == InterviewStatus.UPCOMING,
            Interview.ends_at > now,
        )
        .order_by(Interview.starts_at)
    )
    if except_interview_id is not None:
        query = query.where(Interview.id != except_interview_id)
    return session.scalars(query).first()
