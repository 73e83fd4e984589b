"""Hosts' busy time from their connected Google Calendars, kept in the database for availability.

The participant pages and booking's locked re-check read busy time from the database
(``storage.queries.calendar_busy_blocks``, used by ``portal.open_times``); this module keeps it
fresh. A refresh asks Google's free/busy for the longest horizon of the studies the host hosts,
then replaces the stored blocks in one short transaction: Google is never called inside one.
When a study they host respects every event (the "all" rule), the events free/busy leaves out
(those marked free) are listed too and stored flagged ``transparent``, which only that rule
counts. A connection is refreshed

- by the calendar tick, when its blocks are older than ``MAX_AGE``, or a push notification or a
  sync said the calendar changed (``busy_checked_at`` is then NULL);
- just before a participant page is shown, for that study's hosts, when older than a minute,
  with a short timeout: if Google is slow or down, the stored blocks stand.

Our own interviews are busy in Google too. Their spans are cut out of the blocks when they are
stored, so moving an interview is never blocked by its own old time (the interviews themselves
count as busy anyway, from our tables).

Several servers: a refresh is claimed by setting ``busy_checked_at`` in the transaction that
picks the connection (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite has one writer), so one
server asks Google; its blocks are written only if that claim still stands (or a notification
asked for another refresh meanwhile, which then follows).
"""

import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, delete, func, or_, select
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.integrations.google_calendar import GoogleCalendar
from bot.integrations.google_values import CalendarEvent
from bot.services.calendar_access import CalendarAccess
from bot.services.links import hash_token
from storage import queries
from storage.db import Database
from storage.enums import CalendarConflicts, ConnectionStatus, StudyStatus
from storage.models import (
    CalendarBusy,
    CalendarConnection,
    Participant,
    Study,
    StudyHost,
    TeamMember,
)

log = logging.getLogger(__name__)

MAX_AGE = timedelta(minutes=5)  # the tick refreshes blocks older than this
PAGE_MAX_AGE = timedelta(seconds=60)  # a participant page refreshes blocks older than this...
PAGE_TIMEOUT = 3.0  # ...waiting at most this many seconds for Google in all
BATCH = 5  # connections per tick
HORIZON_MARGIN = timedelta(days=1)  # the horizon is counted in the study's days, not ours
MAX_TOKEN = 100

Span = tuple[datetime, datetime]


@dataclass
class BusyRefresh:
    """What one round of refreshes did."""

    refreshed: int = 0
    unavailable: int = 0  # Google down or slow: the stored blocks stand, tried again later
    needs_reconnect: list[int] = field(default_factory=list)  # member ids whose grant was just refused


@dataclass(frozen=True)
class _Claim:
    connection_id: int
    member_id: int
    slack_user_id: str
    email: str | None  # theirs, to tell the events they declined
    horizon_days: int
    free_events: bool  # a study they host respects events marked free too
    stamp: datetime  # busy_checked_at as claimed
    previous: datetime | None  # busy_checked_at before, put back if Google can't be asked


class BusyTimes:
    """Keeps each connected host's busy blocks fresh."""

    def __init__(self, db: Database, clock: Clock, calendars: CalendarAccess) -> None:
        self.db = db
        self.clock = clock
        self.calendars = calendars

    def refresh_due(self, limit: int = BATCH) -> BusyRefresh:
        """The tick's share: up to ``limit`` connections whose blocks are stale or were flagged."""
        if not self.calendars.configured:
            return BusyRefresh()
        now = self.clock()
        return self._refresh(self._claim(now, stale_before=now - MAX_AGE, limit=limit), now, budget=None)

    def refresh_for_link(
        self, token: str, *, max_age: timedelta = PAGE_MAX_AGE, timeout: float = PAGE_TIMEOUT,
    ) -> BusyRefresh:
        """Before a participant's page: their study's hosts' blocks, if older than ``max_age``,
        giving Google ``timeout`` seconds in all. Never raises for Google's sake."""
        if not self.calendars.configured or not token or len(token) > MAX_TOKEN:
            return BusyRefresh()
        now = self.clock()
        with self.db.transaction() as session:
            study_id = session.scalar(
                select(Participant.study_id).where(Participant.scheduling_token_hash == hash_token(token))
            )
        if study_id is None:
            return BusyRefresh()
        claims = self._claim(now, stale_before=now - max_age, limit=None, study_id=study_id)
        return self._refresh(claims, now, budget=timeout)

    # ------------------------------------------------------------------ claiming

    def _claim(
        self, now: datetime, *, stale_before: datetime, limit: int | None, study_id: int | None = None,
    ) -> list[_Claim]:
        hosting = _hosted(StudyHost.member_id)
        if study_id is not None:
            hosting = hosting.where(Study.id == study_id)
        query = (
            select(CalendarConnection, TeamMember.slack_user_id, TeamMember.email)
            .join(TeamMember, TeamMember.id == CalendarConnection.member_id)
            .where(
                CalendarConnection.status == ConnectionStatus.ACTIVE,
                CalendarConnection.member_id.in_(hosting),
                or_(CalendarConnection.busy_checked_at.is_(None), CalendarConnection.busy_checked_at <= stale_before),
            )
            .order_by(CalendarConnection.busy_checked_at.asc().nulls_first(), CalendarConnection.id)
            .with_for_update(of=CalendarConnection, skip_locked=True)
        )
        if limit is not None:
            query = query.limit(limit)
        claims = []
        with self.db.transaction(write_lock=True) as session:
            for connection, slack_user_id, email in session.execute(query).all():
                horizon, free_events = _needs(session, connection.member_id)
                claims.append(_Claim(
                    connection.id, connection.member_id, slack_user_id, email, horizon, free_events,
                    stamp=now, previous=connection.busy_checked_at,
                ))
                connection.busy_checked_at = now
        return claims

    def _release(self, claim: _Claim) -> None:
        self.calendars.release(claim.connection_id, CalendarConnection.busy_checked_at, claim.stamp, claim.previous)

    # ------------------------------------------------------------------ refreshing

    def _refresh(self, claims: Sequence[_Claim], now: datetime, *, budget: float | None) -> BusyRefresh:
        done = BusyRefresh()
        deadline = time.monotonic() + budget if budget is not None else None
        for claim in claims:
            timeout = None if deadline is None else deadline - time.monotonic()
            if timeout is not None and timeout <= 0:
                self._release(claim)  # out of time: the tick will do it
                done.unavailable += 1
                continue
            try:
                self._refresh_one(claim, now, timeout, done)
            except Exception:  # one calendar's trouble must not hold up the others
                log.exception("calendar connection %s: busy times not refreshed", claim.connection_id)
        return done

    def _refresh_one(self, claim: _Claim, now: datetime, timeout: float | None, done: BusyRefresh) -> None:
        start, end = now, now + timedelta(days=claim.horizon_days) + HORIZON_MARGIN

        def ask() -> tuple[GoogleCalendar, list[Span], list[Span]] | None:
            calendar = self._client(claim, timeout)
            if calendar is None:
                return None
            blocks = calendar.busy(start, end)
            return calendar, blocks, _free_time(calendar, start, end, blocks, claim.email) if claim.free_events else []

        answer = self.calendars.answered(  # a refusal: asked again after MAX_AGE
            ask, connection_id=claim.connection_id, member_id=claim.member_id, release=lambda: self._release(claim),
            tally=done, now=now, doing="refreshing busy times",
        )
        if answer is None:
            return
        calendar, blocks, free = answer
        if self._store(claim, calendar, blocks, free, start, end):
            done.refreshed += 1

    def _client(self, claim: _Claim, timeout: float | None) -> GoogleCalendar | None:
        with self.db.transaction() as session:
            connection = session.get(CalendarConnection, claim.connection_id)
            if connection is None or connection.status is not ConnectionStatus.ACTIVE:
                return None  # disconnected meanwhile
            grant = self.calendars.grant(connection)
        setup = self.calendars.google
        assert setup is not None  # configured, checked before claiming
        app = setup.app if timeout is None else replace(setup.app, timeout=max(timeout, 0.1))
        return app.calendar(grant)

    def _store(
        self, claim: _Claim, calendar: GoogleCalendar, blocks: Iterable[Span], free: Iterable[Span],
        start: datetime, end: datetime,
    ) -> bool:
        with self.db.transaction(write_lock=True) as session:
            connection = session.get(CalendarConnection, claim.connection_id, with_for_update=True)
            if connection is None or connection.status is not ConnectionStatus.ACTIVE:
                return False
            self.calendars.keep_refreshed(session, connection.id, calendar)
            if connection.busy_checked_at not in (claim.stamp, None):
                return False  # a later refresh claimed it: its blocks are the newer ones
            own = [(s, e) for _, s, e in queries.busy_intervals(session, [claim.slack_user_id], start, end)]
            session.execute(delete(CalendarBusy).where(CalendarBusy.connection_id == connection.id))
            for s, e in subtract(blocks, own):
                session.add(CalendarBusy(connection_id=connection.id, starts_at=s, ends_at=e))
            for s, e in subtract(free, own):
                session.add(CalendarBusy(connection_id=connection.id, starts_at=s, ends_at=e, transparent=True))
            return True


def subtract(blocks: Iterable[Span], cuts: Iterable[Span]) -> list[Span]:
    """``blocks`` with every part inside one of ``cuts`` removed, sorted."""
    cuts = sorted(cuts)
    left: list[Span] = []
    for block in sorted(blocks):
        pieces = [block]
        for cut_start, cut_end in cuts:
            if cut_start >= block[1]:
                break  # sorted: no later cut reaches this block
            pieces = [p for s, e in pieces for p in _cut((s, e), cut_start, cut_end)]
        left.extend(pieces)
    return left


def _cut(span: Span, cut_start: datetime, cut_end: datetime) -> list[Span]:
    start, end = span
    if cut_end <= start or cut_start >= end:
        return [span]
    return [p for p in ((start, cut_start), (cut_end, end)) if p[0] < p[1]]


def _hosted(*columns: ColumnElement[Any]) -> Select[Any]:
    """``columns`` of the hosts of active studies that consult their calendars."""
    return (
        select(*columns)
        .select_from(Study)
        .join(StudyHost, StudyHost.study_id == Study.id)
        .where(Study.status == StudyStatus.ACTIVE, Study.calendar_conflict_rule != CalendarConflicts.IGNORE)
    )


def _needs(session: Session, member_id: int) -> tuple[int, bool]:
    """How many days ahead the member's calendar matters, and whether events marked free count."""
    mine = StudyHost.member_id == member_id
    horizon = session.scalar(_hosted(func.max(Study.horizon_days)).where(mine)) or 0
    rules = set(session.scalars(_hosted(Study.calendar_conflict_rule).where(mine).distinct()))
    return int(horizon), CalendarConflicts.ALL in rules


def _free_time(
    calendar: GoogleCalendar, start: datetime, end: datetime, busy: Iterable[Span], email: str | None,
) -> list[Span]:
    """What only the "all" rule counts: the events in ``[start, end)`` that free/busy leaves
    out, that is the ones marked free, less those the host declined."""
    listed = calendar.changes(None, time_min=start).events
    spans = [
        (max(e.start, start), min(e.end, end)) for e in listed
        if e.start is not None and e.end is not None and e.start < end and e.end > start and _counts(e, email)
    ]
    return subtract(spans, busy)


def _counts(event: CalendarEvent, email: str | None) -> bool:
    return not event.cancelled and (email is None or event.response_of(email) != "declined")
