"""Hosts' Google Calendar grants: whether a host is connected, a client for their calendar, keeping
refreshed tokens, and noting when Google refuses the grant.

Tokens are stored sealed (``bot.integrations.token_crypto``) and only opened here. Google calls
are never made inside a transaction that holds locks: callers read what they need, call Google,
then write the outcome in a short transaction of their own.
"""

import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.integrations.google_calendar import GoogleApp, GoogleCalendar
from bot.integrations.google_values import (
    GoogleRejected,
    GoogleUnavailable,
    Grant,
    GrantRevoked,
)
from bot.integrations.token_crypto import TokenBox, TokenUnreadable
from storage import outbox
from storage.db import Database
from storage.enums import (
    CalendarProvider,
    ConnectionStatus,
    InterviewStatus,
    OutboxKind,
    OutboxStatus,
)
from storage.models import CalendarBusy, CalendarConnection, Interview, OutboxItem, TeamMember

PROBLEM_LENGTH = 500


log = logging.getLogger(__name__)
T = TypeVar("T")


class Troubles(Protocol):
    """What a background round counts of the trouble it met."""

    unavailable: int
    needs_reconnect: list[int]


@dataclass(frozen=True)
class GoogleSetup:
    """What talking to Google needs; absent when GOOGLE_CLIENT_ID/SECRET are not configured."""

    app: GoogleApp
    box: TokenBox
    base_url: str  # PUBLIC_BASE_URL: Google redirects and pushes notifications here

    @property
    def redirect_uri(self) -> str:
        return f"{self.base_url}/google/oauth/callback"

    @property
    def notifications_url(self) -> str:
        return f"{self.base_url}/google/notifications"


def reconnect_text(problem: str) -> str:
    return (
        "⚠️ Google Calendar refused Interview Desk's access to your calendar "
        f"({problem}). Interviews you host keep their times; their calendar updates wait until you "
        "connect again with `/interviews connect`."
    )


class CalendarAccess:
    def __init__(self, db: Database, clock: Clock, google: GoogleSetup | None) -> None:
        self.db = db
        self.clock = clock
        self.google = google

    @property
    def configured(self) -> bool:
        return self.google is not None

    # ------------------------------------------------------------------ reads

    @staticmethod
    def connected(session: Session, member_ids: Collection[int]) -> set[int]:
        """Which of these team members have a working calendar connection."""
        if not member_ids:
            return set()
        return set(session.scalars(
            select(CalendarConnection.member_id).where(
                CalendarConnection.member_id.in_(member_ids),
                CalendarConnection.status == ConnectionStatus.ACTIVE,
            )
        ))

    @staticmethod
    def connection_of(session: Session, member_id: int | None) -> CalendarConnection | None:
        if member_id is None:
            return None
        return session.scalars(
            select(CalendarConnection).where(CalendarConnection.member_id == member_id)
        ).one_or_none()

    def grant(self, connection: CalendarConnection) -> Grant:
        """The connection's tokens, opened; ``TokenUnreadable`` if SECRET_KEY changed."""
        box = self._setup().box
        return Grant(
            access_token=box.open(connection.access_token),
            refresh_token=box.open(connection.refresh_token),
            expires_at=connection.access_expires_at,
            scopes=tuple(connection.scopes.split()),
        )

    def client(self, connection: CalendarConnection) -> GoogleCalendar:
        return self._setup().app.calendar(self.grant(connection))

    # ------------------------------------------------------------------ writes

    def store_grant(self, session: Session, member: TeamMember, grant: Grant, now: datetime) -> CalendarConnection:
        """Connect (or reconnect) ``member``'s calendar with a fresh grant."""
        box = self._setup().box
        connection = self.connection_of(session, member.id)
        if connection is None:
            connection = CalendarConnection(member_id=member.id, created_at=now)
            session.add(connection)
        else:
            # The grant may be for another Google account: sync and busy time start afresh (an old
            # push channel's notifications then find no connection and expire with it).
            connection.channel_id = connection.channel_resource_id = connection.channel_token_hash = None
            connection.channel_expires_at = connection.sync_token = connection.synced_at = None
            connection.busy_checked_at = None
            session.execute(delete(CalendarBusy).where(CalendarBusy.connection_id == connection.id))
        connection.status = ConnectionStatus.ACTIVE
        connection.problem = None
        connection.access_token = box.seal(grant.access_token)
        connection.refresh_token = box.seal(grant.refresh_token)
        connection.access_expires_at = grant.expires_at
        connection.scopes = " ".join(grant.scopes)
        connection.updated_at = now
        session.flush()
        # Calendar writes that waited for this host (a refused grant, or before they connected
        # again) go now.
        organized = select(Interview.id).where(Interview.organizer_member_id == member.id)
        outbox.wake(session, kind=OutboxKind.CALENDAR, interview_ids=organized, now=now)
        return connection

    def keep_refreshed(self, session: Session, connection_id: int, calendar: GoogleCalendar) -> None:
        """Store the access token google-auth refreshed during ``calendar``'s calls, if it did."""
        grant = calendar.grant
        connection = session.get(CalendarConnection, connection_id)
        if connection is None or connection.access_expires_at == grant.expires_at:
            return
        connection.access_token = self._setup().box.seal(grant.access_token)
        connection.access_expires_at = grant.expires_at

    @staticmethod
    def refused(session: Session, connection_id: int, problem: str, now: datetime) -> bool:
        """Google refused the grant (revoked, expired, or unreadable after a key change): the
        connection waits for the host to reconnect, and they are asked to in a direct message.
        True the first time, so whoever noticed (a calendar write, the sync, the busy refresh)
        asks only once."""
        connection = session.get(CalendarConnection, connection_id, with_for_update=True)
        if connection is None or connection.status is ConnectionStatus.NEEDS_RECONNECT:
            return False
        connection.status = ConnectionStatus.NEEDS_RECONNECT
        connection.problem = problem[:PROBLEM_LENGTH]
        connection.updated_at = now
        member = session.get(TeamMember, connection.member_id)
        if member is not None:
            outbox.enqueue(
                session, key=f"calendar:reconnect:{connection.id}:{now.timestamp():.6f}", kind=OutboxKind.SLACK_POST,
                payload={"channel": member.slack_user_id, "text": reconnect_text(problem)}, now=now,
                ordering_key=f"slack:{member.slack_user_id}",
            )
        return True

    @staticmethod
    def forget(session: Session, connection: CalendarConnection, now: datetime) -> int:
        """Delete a connection (its busy blocks go with it). The organizer's upcoming interviews go
        back to emailed invites, under the UID Google gave their events, so a later change still
        updates attendees' copies; calendar writes still waiting are dropped. Returns how many
        interviews went back."""
        member_id = connection.member_id
        session.delete(connection)
        ids = list(session.scalars(select(Interview.id).where(
            Interview.organizer_member_id == member_id, Interview.calendar_provider == CalendarProvider.GOOGLE,
            Interview.status == InterviewStatus.UPCOMING,
        )))
        if ids:
            session.execute(update(Interview).where(Interview.id.in_(ids)).values(calendar_provider=CalendarProvider.EMAIL))
            session.execute(
                update(OutboxItem).where(
                    OutboxItem.kind == OutboxKind.CALENDAR, OutboxItem.status == OutboxStatus.PENDING,
                    OutboxItem.interview_id.in_(ids),
                    (OutboxItem.locked_until.is_(None)) | (OutboxItem.locked_until < now),
                ).values(status=OutboxStatus.DROPPED, last_error="The organizer disconnected Google Calendar."),
                execution_options={"synchronize_session": False},
            )
        return len(ids)

    def release(self, connection_id: int, stamp: Any, held: datetime, previous: datetime | None) -> None:
        """Put a claim's stamp (``CalendarConnection.busy_checked_at`` or ``synced_at``) back as it
        was, unless another server claimed the connection since: Google could not be asked, so the
        connection is due again as before."""
        with self.db.transaction() as session:
            session.execute(
                update(CalendarConnection)
                .where(CalendarConnection.id == connection_id, stamp == held)
                .values({stamp: previous})
            )

    def answered(
        self, ask: Callable[[], T | None], *, connection_id: int, member_id: int, release: Callable[[], None],
        tally: "Troubles", now: datetime, doing: str,
    ) -> T | None:
        """``ask()`` Google about one connection a background job claimed; on trouble, None,
        settled the one way every job does: unreachable, ``release`` the claim for another try
        soon; the grant refused, the connection waits for the host to reconnect (asked once);
        the request refused, the claim stands and it is tried again when it ends."""
        try:
            return ask()
        except GoogleUnavailable as error:
            log.info("calendar connection %s: %s not done: %s", connection_id, doing, error)
            release()
            tally.unavailable += 1
        except (GrantRevoked, TokenUnreadable) as error:
            if self.refused_now(connection_id, error, now):
                tally.needs_reconnect.append(member_id)
        except GoogleRejected as error:
            log.warning("Google refused %s for calendar connection %s: %s", doing, connection_id, error)
        return None

    def refused_now(self, connection_id: int, error: Exception, now: datetime) -> bool:
        """``refused`` in a transaction of its own, with the problem taken from Google's error."""
        problem = str(error) or "The stored Google tokens can't be read any more (SECRET_KEY changed)."
        with self.db.transaction() as session:
            return self.refused(session, connection_id, problem, now)

    def _setup(self) -> GoogleSetup:
        if self.google is None:
            raise RuntimeError("Google Calendar is not configured (GOOGLE_CLIENT_ID, GOOGLE_CLIENT_SECRET)")
        return self.google


__all__ = ["CalendarAccess", "GoogleSetup", "TokenUnreadable"]
