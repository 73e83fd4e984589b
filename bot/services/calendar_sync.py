"""RSVPs and changes from hosts' Google Calendars: push channels and incremental sync.

Each connected calendar gets a push channel (events.watch to ``GoogleSetup.notifications_url``,
renewed a day before it expires). Google only posts to https, so without an https
PUBLIC_BASE_URL there are no channels and calendars are polled. A notification only marks the
connection as needing a sync (``receive_notification`` sets ``synced_at`` to NULL); the calendar
tick then lists what changed since the stored sync token (everything from a day ago when there is
none, or when Google answers 410), every 5 minutes without a channel and hourly with one as a
safety net. A connection's channel is renewed by its sync, before listing, so nothing that
happens in between is missed.

What changed is handed to ``CalendarChanges`` (``calendar_changes``), which applies it to
the interviews whose event lives in that calendar.

Several servers: a sync is claimed in the transaction that picks the connection (``FOR UPDATE
SKIP LOCKED`` on PostgreSQL; SQLite has one writer) by making it look synced until a short lease
ends (``synced_at`` moved forward); Google is called after that transaction, and the new sync
token is stored only if the stored one is still the one the sync started from. Applying a change
is idempotent, so even a second server syncing the same calendar after a lease ran out records
nothing twice.
"""

import hashlib
import logging
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, func, not_, or_, select, update

from bot.clock import Clock
from bot.integrations.google_calendar import GoogleCalendar
from bot.integrations.google_values import (
    Changes,
    GoogleRejected,
    GoogleUnavailable,
    SyncTokenExpired,
    WatchChannel,
)
from bot.services.calendar_access import CalendarAccess
from bot.services.calendar_changes import CalendarChanges
from storage.db import Database
from storage.enums import ConnectionStatus
from storage.models import CalendarConnection

log = logging.getLogger(__name__)

POLL_WITHOUT_PUSH = timedelta(minutes=5)
POLL_WITH_PUSH = timedelta(hours=1)  # a safety net for lost notifications
LEASE = timedelta(minutes=2)  # a claimed sync not finished by then is due again
RENEW_BEFORE = timedelta(days=1)  # a channel this close to expiring is replaced
CHANNEL_TTL_SECONDS = 7 * 24 * 3600  # what Google grants at most for calendar events
LOOK_BACK = timedelta(days=1)  # a full sync lists events ending after this long ago
BATCH = 5  # connections per tick
CHANGE_STATES = frozenset({"exists", "not_exists"})


def push_possible(notifications_url: str) -> bool:
    """Google posts notifications to https addresses only."""
    return notifications_url.startswith("https://")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# ---------------------------------------------------------------------- notifications


@dataclass(frozen=True)
class PushNotice:
    """A push notification's headers (``X-Goog-Channel-ID``, ``-Channel-Token``, ``-Resource-ID``,
    ``-Resource-State``)."""

    channel_id: str
    token: str
    resource_id: str
    state: str


def receive_notification(db: Database, notice: PushNotice) -> bool:
    """True if the notice comes from one of our channels: its id, the token it was given and the
    calendar it watches. A change (``exists``, ``not_exists``) marks the calendar as needing a sync
    and a busy refresh; ``sync``, a new channel's first message, only says that it works."""
    if not notice.channel_id or len(notice.channel_id) > 64 or not notice.token:
        return False
    ours = and_(
        CalendarConnection.channel_id == notice.channel_id,
        CalendarConnection.channel_token_hash == token_hash(notice.token),
        CalendarConnection.channel_resource_id == notice.resource_id,
    )
    if notice.state not in CHANGE_STATES:
        with db.transaction() as session:
            return bool(session.scalar(select(func.count()).select_from(CalendarConnection).where(ours)))
    with db.transaction() as session:  # one statement: no read-then-write for a busy endpoint
        marked = session.execute(
            update(CalendarConnection).where(ours).values(synced_at=None, busy_checked_at=None)
        )
        return bool(marked.rowcount)


# ---------------------------------------------------------------------- sync


@dataclass
class SyncRound:
    """What one round of syncs did."""

    synced: int = 0
    applied: int = 0  # changes recorded on interviews
    channels: int = 0  # push channels opened
    unavailable: int = 0  # Google down: tried again next tick
    needs_reconnect: list[int] = field(default_factory=list)  # member ids whose grant was just refused


@dataclass(frozen=True)
class _Claim:
    connection_id: int
    member_id: int
    sync_token: str | None  # as the sync started: stored over only if still the same
    lease: datetime  # synced_at as claimed
    previous: datetime | None  # synced_at before, put back if Google can't be asked
    channel_id: str | None  # as the sync started: replaced only if still the same
    old_channel: WatchChannel | None  # to stop once replaced
    renew_channel: bool


class CalendarSync:
    """Keeps push channels open and hands what changed in hosts' calendars to ``CalendarChanges``."""

    def __init__(
        self, db: Database, clock: Clock, calendars: CalendarAccess, applier: CalendarChanges, *, push: bool,
    ) -> None:
        self.db = db
        self.clock = clock
        self.calendars = calendars
        self.applier = applier
        self.push = push

    def sync_due(self, limit: int = BATCH) -> SyncRound:
        """The tick's share: up to ``limit`` connections that were notified or are due a poll."""
        done = SyncRound()
        if not self.calendars.configured:
            return done
        now = self.clock()
        for claim in self._claim(now, limit):
            try:
                self._sync(claim, now, done)
            except Exception:  # one calendar's trouble must not hold up the others; its lease ends
                log.exception("calendar connection %s: sync failed", claim.connection_id)
        return done

    # ------------------------------------------------------------------ claiming

    def _claim(self, now: datetime, limit: int) -> list[_Claim]:
        live = and_(CalendarConnection.channel_id.is_not(None), CalendarConnection.channel_expires_at > now)
        due = or_(
            CalendarConnection.synced_at.is_(None),
            and_(live, CalendarConnection.synced_at <= now - POLL_WITH_PUSH),
            and_(not_(live), CalendarConnection.synced_at <= now - POLL_WITHOUT_PUSH),
        )
        query = (
            select(CalendarConnection)
            .where(CalendarConnection.status == ConnectionStatus.ACTIVE, due)
            .order_by(CalendarConnection.synced_at.asc().nulls_first(), CalendarConnection.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        claims = []
        with self.db.transaction(write_lock=True) as session:
            for connection in session.scalars(query).all():
                expires = connection.channel_expires_at
                is_live = connection.channel_id is not None and expires is not None and expires > now
                # Looks synced until the lease ends: due again then if this server never finishes.
                lease = now - (POLL_WITH_PUSH if is_live else POLL_WITHOUT_PUSH) + LEASE
                claims.append(_Claim(
                    connection.id, connection.member_id, connection.sync_token, lease, connection.synced_at,
                    channel_id=connection.channel_id, old_channel=_channel_of(connection),
                    renew_channel=self.push and (not is_live or expires <= now + RENEW_BEFORE),
                ))
                connection.synced_at = lease
        return claims

    def _release(self, claim: _Claim) -> None:
        self.calendars.release(claim.connection_id, CalendarConnection.synced_at, claim.lease, claim.previous)

    # ------------------------------------------------------------------ one calendar

    def _sync(self, claim: _Claim, now: datetime, done: SyncRound) -> None:
        def ask() -> tuple[GoogleCalendar, Changes] | None:
            calendar = self._client(claim)
            if calendar is None:
                return None
            if claim.renew_channel and self._open_channel(calendar, claim):
                done.channels += 1
            try:
                return calendar, calendar.changes(claim.sync_token, time_min=now - LOOK_BACK)
            except SyncTokenExpired:
                return calendar, calendar.changes(None, time_min=now - LOOK_BACK)

        answer = self.calendars.answered(  # a refusal: the lease stands, tried again when it ends
            ask, connection_id=claim.connection_id, member_id=claim.member_id, release=lambda: self._release(claim),
            tally=done, now=now, doing="syncing",
        )
        if answer is None:
            return
        calendar, changes = answer
        if self._still_from(claim):  # else another server got further: it applies these
            done.applied += self.applier.apply(claim.member_id, changes.events)
        if self._finish(claim, calendar, changes, now):
            done.synced += 1

    def _client(self, claim: _Claim) -> GoogleCalendar | None:
        with self.db.transaction() as session:
            connection = session.get(CalendarConnection, claim.connection_id)
            if connection is None or connection.status is not ConnectionStatus.ACTIVE:
                return None  # disconnected meanwhile
            return self.calendars.client(connection)

    def _still_from(self, claim: _Claim) -> bool:
        with self.db.transaction() as session:
            connection = session.get(CalendarConnection, claim.connection_id)
            return connection is not None and connection.sync_token == claim.sync_token

    def _finish(self, claim: _Claim, calendar: GoogleCalendar, changes: Changes, now: datetime) -> bool:
        with self.db.transaction(write_lock=True) as session:
            connection = session.get(CalendarConnection, claim.connection_id, with_for_update=True)
            if connection is None:
                return False
            self.calendars.keep_refreshed(session, connection.id, calendar)
            if connection.sync_token != claim.sync_token:
                return False  # another server stored a newer token
            connection.sync_token = changes.next_sync_token
            if connection.synced_at == claim.lease:  # else notified meanwhile: sync again
                connection.synced_at = now
            if changes.events:  # what is busy may have changed too
                connection.busy_checked_at = None
            return True

    # ------------------------------------------------------------------ push channel

    def _open_channel(self, calendar: GoogleCalendar, claim: _Claim) -> bool:
        """A new channel, stored if nobody replaced the old one meanwhile; then the old one stops."""
        setup = self.calendars.google
        assert setup is not None
        token = secrets.token_urlsafe(32)
        try:
            channel = calendar.watch(channel_id=uuid.uuid4().hex, token=token, address=setup.notifications_url,
                                     ttl_seconds=CHANNEL_TTL_SECONDS)
        except GoogleRejected as error:  # e.g. an address Google won't post to: polling goes on
            log.warning("Google refused a push channel for calendar connection %s: %s", claim.connection_id, error)
            return False
        with self.db.transaction(write_lock=True) as session:
            connection = session.get(CalendarConnection, claim.connection_id, with_for_update=True)
            kept = connection is not None and connection.channel_id == claim.channel_id
            if connection is not None and kept:
                connection.channel_id = channel.id
                connection.channel_resource_id = channel.resource_id
                connection.channel_token_hash = token_hash(token)
                connection.channel_expires_at = channel.expires_at
        if not kept:
            _stop(calendar, channel)
            return False
        if claim.old_channel is not None:
            _stop(calendar, claim.old_channel)
        return True


def _channel_of(connection: CalendarConnection) -> WatchChannel | None:
    if connection.channel_id is None or connection.channel_resource_id is None:
        return None
    expires = connection.channel_expires_at or datetime.min.replace(tzinfo=UTC)
    return WatchChannel(connection.channel_id, connection.channel_resource_id, "", None, expires)


def _stop(calendar: GoogleCalendar, channel: WatchChannel) -> None:
    """Stop a channel we no longer use; if Google can't be told now, it expires by itself and
    its notifications find no channel of ours."""
    try:
        calendar.stop(channel)
    except (GoogleUnavailable, GoogleRejected) as error:
        log.info("push channel %s not stopped: %s", channel.id, error)
