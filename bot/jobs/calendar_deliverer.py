"""Delivering CALENDAR outbox items: an interview's event on its organizer's Google Calendar.

The event is written from the interview as it is at delivery (like the channel card), so a
burst of changes ends in one event that shows the last of them, and a retry never writes an old
state. Google sends the invitations and updates (``sendUpdates=all``).

Failures:
- Google unreachable, 5xx, 429: retried with the outbox's backoff (``Retry-After`` honoured);
- the grant refused (revoked, expired, or unreadable after a SECRET_KEY change): the host is
  asked in Slack to reconnect, and the write waits (retried slowly; reconnecting sends it at once);
- Google refusing the write itself, or the last retry failing: the interview's thread is told.
"""

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from bot.integrations.google_values import (
    GoogleRejected,
    GoogleUnavailable,
    GrantRevoked,
)
from bot.integrations.token_crypto import TokenUnreadable
from bot.jobs.outbox_worker import DeliveryError
from bot.services.calendar_events import CalendarEventService, CalendarWrite
from storage.db import Database
from storage.models import OutboxItem

# How long a write waits for the host to reconnect before it is tried again.
RECONNECT_WAIT = timedelta(hours=1)


class CalendarDeliverer:
    def __init__(self, events: CalendarEventService, db: Database, *, max_attempts: int) -> None:
        self.events = events
        self.db = db
        self.max_attempts = max_attempts  # the worker's: the attempt that fails at this count is the last

    def deliver(self, payload: Mapping[str, Any]) -> None:
        write = self.events.plan(int(payload["interview_id"]))
        if write.kind == "nothing":
            return
        if write.waiting_for is not None:
            raise DeliveryError(f"waiting: {write.waiting_for}", temporary=True,
                                retry_after=RECONNECT_WAIT.total_seconds())
        key = str(payload.get("change") or "")
        try:
            calendar = self.events.calendar(write)
            event = self._write(calendar, write, key, new_meet=bool(payload.get("new_meet")))
        except (GrantRevoked, TokenUnreadable) as error:
            self.events.grant_refused(write, str(error))
            raise DeliveryError(f"Google refused the grant: {error}", temporary=True,
                                retry_after=RECONNECT_WAIT.total_seconds()) from error
        except GoogleUnavailable as error:
            self._maybe_give_up(write, payload, str(error), temporary=True)
            raise DeliveryError(str(error), temporary=True, retry_after=error.retry_after) from error
        except GoogleRejected as error:
            self._maybe_give_up(write, payload, str(error), temporary=False)
            raise DeliveryError(str(error), temporary=False) from error
        self.events.written(write, event, calendar)

    @staticmethod
    def _write(calendar: Any, write: CalendarWrite, key: str, *, new_meet: bool) -> Any:
        if write.kind == "delete":
            calendar.delete_event(write.event_id)
            return None
        assert write.body is not None
        if write.kind == "insert":
            # The interview fixes the event id and the Meet request: a retry finds them again.
            return calendar.insert_event(write.body, request_id=f"interview-{write.interview_id}", meet=write.meet)
        meet_request = f"interview-{write.interview_id}-{key}" if new_meet and write.meet else None
        return calendar.update_event(write.event_id, write.body, new_meet_request_id=meet_request)

    def _maybe_give_up(self, write: CalendarWrite, payload: Mapping[str, Any], error: str, *, temporary: bool) -> None:
        """On the last attempt (or a refusal no retry fixes), the thread hears it."""
        if temporary and self._attempts(payload) < self.max_attempts:
            return
        self.events.gave_up(write, error)

    def _attempts(self, payload: Mapping[str, Any]) -> int:
        key = f"calendar:{payload['interview_id']}:{payload.get('change')}"
        with self.db.transaction() as session:
            return session.scalar(select(OutboxItem.attempts).where(OutboxItem.idempotency_key == key)) or 0
