"""The calendar tick: what connected Google Calendars make due, a few connections at a time.

Each tick first syncs the calendars that were notified of a change or are due a poll (renewing
their push channels on the way), then refreshes the busy blocks that are stale or were flagged
by that sync or a notification. Every connection is claimed in its own short transaction and
Google is called outside any transaction (see ``calendar_sync`` and ``calendar_busy`` for how
several servers share the work). Google being down leaves the connection due for the next tick;
a refused grant marks the connection as needing to be reconnected.
"""

import logging
from dataclasses import dataclass

from bot.services import Services
from bot.services.calendar_busy import BusyTimes
from bot.services.calendar_changes import CalendarChanges
from bot.services.calendar_sync import CalendarSync, push_possible

log = logging.getLogger(__name__)

BATCH = 5  # connections of each kind per tick: a tick stays short even with Google slow


@dataclass(frozen=True)
class CalendarTickResult:
    """What one tick did, for the log (and ``needs_reconnect`` for telling the hosts)."""

    synced: int = 0
    applied: int = 0  # changes recorded on interviews
    channels: int = 0  # push channels opened or renewed
    busy_refreshed: int = 0
    unavailable: int = 0  # Google could not be reached: tried again next tick
    needs_reconnect: tuple[int, ...] = ()  # team members whose grant Google just refused

    @property
    def anything(self) -> bool:
        return any((self.synced, self.applied, self.channels, self.busy_refreshed, self.unavailable,
                    self.needs_reconnect))


class CalendarTick:
    """Syncs and refreshes a few due connections each time the scheduler calls ``tick``."""

    def __init__(self, sync: CalendarSync, busy: BusyTimes, *, batch: int = BATCH) -> None:
        self.sync = sync
        self.busy = busy
        self.batch = batch

    @property
    def configured(self) -> bool:
        return self.sync.calendars.configured

    def tick(self) -> CalendarTickResult:
        synced = self.sync.sync_due(self.batch)
        refreshed = self.busy.refresh_due(self.batch)  # after the sync, which may flag some
        return CalendarTickResult(
            synced=synced.synced, applied=synced.applied, channels=synced.channels,
            busy_refreshed=refreshed.refreshed, unavailable=synced.unavailable + refreshed.unavailable,
            needs_reconnect=tuple(synced.needs_reconnect + refreshed.needs_reconnect),
        )


def build_calendar_tick(services: Services, *, push: bool | None = None) -> CalendarTick:
    """The tick over the services' Google setup; push channels when PUBLIC_BASE_URL is https
    (``push`` overrides that, for a test server Google's fake can reach over plain http)."""
    calendars = services.calendars
    if push is None:
        push = calendars.google is not None and push_possible(calendars.google.notifications_url)
    applier = CalendarChanges(services.db, services.attendance, services.changes, services.outcomes)
    sync = CalendarSync(services.db, services.clock, calendars, applier, push=push)
    return CalendarTick(sync, services.busy_times)


def run_tick(tick: CalendarTick) -> None:
    """One tick from the scheduler: failures are logged, and the next tick tries again."""
    try:
        done = tick.tick()
    except Exception:  # the database may be away for a moment
        log.exception("calendar tick failed")
        return
    if done.needs_reconnect:
        log.warning("Google refused the calendar access of team members %s: they must connect again",
                    ", ".join(map(str, done.needs_reconnect)))
    if done.anything:
        log.info("calendars: %s synced (%s changes applied), %s channels opened, %s busy refreshed, %s unavailable",
                 done.synced, done.applied, done.channels, done.busy_refreshed, done.unavailable)
