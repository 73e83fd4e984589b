"""Delivering NOTETAKER outbox items: the signed webhook that sends a notetaker's bot to a meeting.

The outcome is told where the team looks: on success the worker writes the OBSERVER_BOT_SENT
event (the item's ``timeline``, settled with it) and this queues a note for the card's thread;
when the request fails for good (refused, the meeting is over, or out of retries) this writes
the event with the error and the note itself, then lets the worker keep the item as failed.
A passing failure writes nothing: the item is retried, and the person who asked was told so.
"""

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from bot.clock import Clock
from bot.domain import Actor
from bot.integrations.notetaker import NotetakerClient, NotetakerError
from bot.jobs.outbox_worker import DeliveryError
from bot.services import activity
from bot.services.notifications import Notifier
from bot.services.observers import NotetakerJob
from storage.db import Database
from storage.enums import ActivityKind, InterviewStatus
from storage.models import Interview, OutboxItem


class NotetakerDeliverer:
    def __init__(self, client: NotetakerClient, db: Database, clock: Clock, notifier: Notifier, *, max_attempts: int) -> None:
        self.client = client
        self.db = db
        self.clock = clock
        self.notifier = notifier
        self.max_attempts = max_attempts  # the worker's: the attempt that fails at this count is the last

    def deliver(self, payload: Mapping[str, Any]) -> None:
        job = NotetakerJob.model_validate(dict(payload))
        try:
            self._still_wanted(job)
            self.client.send(job.url, job.body, delivery_id=job.key)
        except NotetakerError as error:
            attempts = self._attempts(job.key)
            final = not error.temporary or attempts >= self.max_attempts
            if final:
                self._tell(job, attempts, error=str(error))
            raise DeliveryError(str(error), temporary=not final, retry_after=error.retry_after) from error
        self._tell(job, self._attempts(job.key), error=None)

    def _still_wanted(self, job: NotetakerJob) -> None:
        """A bot for a meeting that is over, canceled or moved to another link would be wrong."""
        with self.db.transaction() as session:
            interview = session.get(Interview, job.interview_id)
            if interview is None:
                raise NotetakerError("the interview was deleted", temporary=False)
            if interview.status is not InterviewStatus.UPCOMING:
                raise NotetakerError(f"the interview is {interview.status.value.replace('_', '-')}", temporary=False)
            if interview.conferencing_url != job.meeting_url:
                raise NotetakerError("the meeting link changed since; send the bot again", temporary=False)
            if interview.ends_at <= self.clock():
                raise NotetakerError("the interview had ended", temporary=False)

    def _attempts(self, key: str) -> int:
        with self.db.transaction() as session:
            return session.scalar(select(OutboxItem.attempts).where(OutboxItem.idempotency_key == key)) or 0

    def _tell(self, job: NotetakerJob, attempts: int, *, error: str | None) -> None:
        """The card's thread hears the outcome; a failure also goes in the timeline (a success's
        event is written by the worker as the item is settled)."""
        now = self.clock()
        with self.db.transaction() as session:
            interview = session.get(Interview, job.interview_id)
            if interview is None:
                return
            note: dict[str, Any] = {"kind": "observer_bot", "ok": error is None, "by": job.asked_by}
            if error is not None:
                asker = Actor.slack_user(job.workspace_id or "", job.asked_by) if job.asked_by else Actor.system("notetaker")
                activity.record(session, interview, ActivityKind.OBSERVER_BOT_SENT, asker, now, ok=False, error=error)
                note["error"] = error
            # One note per outcome: a request asked again after failing gets a note of its own.
            outcome = "sent" if error is None else f"failed:{attempts}"
            self.notifier.card(session, interview, now, f"observer_bot:{job.key}:{outcome}", note=note)
