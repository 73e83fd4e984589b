"""Delivering the outbox: claim due items, perform each side effect, settle it.

Delivery happens outside any database transaction (an SMTP server may take seconds), between a
short transaction that leases the items and one that settles each. A side effect that fails for
a passing reason is retried with exponential backoff and jitter; one that fails for good, or
too often, is kept as failed with its last error, so nothing is silently lost.

Posts to one Slack channel share an ordering key: they go out one at a time, in order, and no
faster than the worker's ``pace`` (Slack allows about one ``chat.postMessage`` per second per
channel). Both rules are part of the database claim, so they hold across several servers.
"""

import itertools
import logging
import os
import random
import secrets
import socket
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.domain import SideEffectState
from bot.integrations.email import Mailbox
from storage import outbox
from storage.db import Database
from storage.enums import OutboxKind
from storage.models import ActivityEvent, OutboxItem
from storage.outbox import Pace

log = logging.getLogger(__name__)


class DeliveryError(Exception):
    """A side effect did not happen. ``temporary``: trying again later may succeed."""

    def __init__(self, message: str, *, temporary: bool, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.temporary = temporary
        self.retry_after = retry_after  # seconds the other side asked us to wait (HTTP 429)


class Gate(Protocol):
    def __call__(self, session: Session, items: Sequence[OutboxItem], now: datetime) -> Mapping[int, str]:
        """Among just-claimed items, those no longer wanted: item id → why. Checked inside the
        claim's transaction, so what changed up to the moment of delivery counts."""


class Deliverer(Protocol):
    def deliver(self, payload: Mapping[str, Any]) -> None:
        """Perform the side effect, or raise ``DeliveryError``."""


@dataclass(frozen=True)
class RetryPolicy:
    first_delay: timedelta = timedelta(seconds=30)
    max_delay: timedelta = timedelta(hours=1)
    max_attempts: int = 12  # about seven hours of trying with the defaults

    def delay(self, attempts: int, rng: random.Random) -> timedelta:
        """Exponential in the attempts made, with "equal jitter" so retries spread out."""
        ceiling = min(self.max_delay, self.first_delay * 2 ** max(0, attempts - 1))
        return ceiling / 2 + ceiling / 2 * rng.random()


def _state(item: OutboxItem) -> SideEffectState:
    return SideEffectState(item.id, item.kind, item.status, item.last_error, _recipient_names(item))


def _recipient_names(item: OutboxItem) -> tuple[str, ...]:
    """An email's recipients by name (by address when nameless); nothing for other items."""
    to = item.payload.get("to") if isinstance(item.payload, dict) else None
    if not isinstance(to, list):
        return ()
    return tuple(mailbox.name or mailbox.address for mailbox in map(Mailbox.from_json, to))


@dataclass
class DrainResult:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    dropped: int = 0  # no longer wanted when their turn came (see ``Gate``)

    @property
    def handled(self) -> int:
        return self.sent + self.retried + self.failed + self.dropped


@dataclass(frozen=True)
class _Claimed:
    """What a worker needs of a leased item, read inside the claim's transaction."""

    id: int
    kind: OutboxKind
    payload: dict[str, Any]
    attempts: int
    interview_id: int | None
    holder: str


def channel_pace(seconds_per_post: float, burst: int) -> Pace | None:
    """Slack's per-channel limit as a ``Pace``: ``burst`` posts in any ``burst × seconds_per_post``.

    Slack allows about one ``chat.postMessage`` per second per channel, with short bursts; a burst
    of a few lets a card edit and its note go out together. ``seconds_per_post`` 0: no pacing.
    """
    if seconds_per_post <= 0:
        return None
    return Pace(burst, timedelta(seconds=seconds_per_post * burst))


def default_worker_id() -> str:
    """Unique per process, even for containers that all run as pid 1 on a reused hostname."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


@dataclass
class OutboxWorker:
    db: Database
    clock: Clock
    deliverers: Mapping[OutboxKind, Deliverer]
    worker_id: str = field(default_factory=default_worker_id)
    lease: timedelta = timedelta(minutes=5)
    batch_size: int = 20
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    rng: random.Random = field(default_factory=random.Random)
    pace: Pace | None = None  # for ordered items (channel posts); see ``channel_pace``
    gates: Sequence[Gate] = ()
    _claims: Iterator[int] = field(default_factory=itertools.count, init=False, repr=False)

    def drain(self, max_items: int = 1000) -> DrainResult:
        """Deliver what is due now, batch after batch, until nothing is due or ``max_items``."""
        result = DrainResult()
        while result.handled < max_items:
            if not self._claim_and_deliver(min(self.batch_size, max_items - result.handled), result):
                break
        return result

    def deliver_now(self, ids: Sequence[int], *, kinds: Collection[OutboxKind] | None = None) -> list[SideEffectState]:
        """Deliver these items right away (``kinds``: only those of these kinds), so a user waiting
        in Slack sees the outcome; returns the state of all of them.

        Only items that are due and first in their line are taken (the claim is the same atomic
        lease as the tick's, so nothing is sent twice); the tick delivers the rest.
        """
        only = tuple(ids)
        if only:
            result = DrainResult()
            while self._claim_and_deliver(len(only), result, only=only, kinds=kinds):
                pass  # a card's note becomes claimable once the card before it is settled
        with self.db.transaction() as session:
            return [_state(item) for item in outbox.states(session, only)]

    def _claim_and_deliver(
        self, limit: int, result: DrainResult, *, only: tuple[int, ...] | None = None,
        kinds: Collection[OutboxKind] | None = None,
    ) -> bool:
        # One holder name per claim: two threads of this process never mistake each other's leases.
        holder = f"{self.worker_id}#{next(self._claims)}"
        now = self.clock()
        lease_until = now + self.lease
        with self.db.transaction() as session:
            items = outbox.claim(
                session, worker=holder, now=now, lease_until=lease_until, limit=limit, only=only,
                pace=self.pace, kinds=tuple(k for k in self.deliverers if kinds is None or k in kinds),
            )
            unwanted = self._unwanted(session, items, holder, now)
            claimed = [
                _Claimed(i.id, i.kind, dict(i.payload), i.attempts, i.interview_id, holder)
                for i in items if i.id not in unwanted
            ]
        held = {item.id for item in claimed}
        result.dropped += len(unwanted)
        for n, item in enumerate(claimed):
            if self.clock() > lease_until - self.lease / 2:
                # Slow deliveries ate half the lease: renew what is left of the batch, so each
                # delivery starts with at least half a lease and none outlives it (the lease is
                # set well above the longest delivery); what another worker took meanwhile is its.
                lease_until = self.clock() + self.lease
                held = self._renew(claimed[n:], holder, lease_until)
            if item.id in held:
                self._deliver_one(item, result)
        return bool(items)

    def _unwanted(self, session: Session, items: Sequence[OutboxItem], holder: str, now: datetime) -> set[int]:
        """Drop the claimed items a gate says are no longer wanted; returns their ids."""
        reasons: dict[int, str] = {}
        for gate in self.gates:
            reasons.update(gate(session, items, now))
        for reason in set(reasons.values()):
            outbox.mark_dropped(session, [i for i, r in reasons.items() if r == reason], worker=holder, reason=reason)
        return set(reasons)

    def _renew(self, items: list[_Claimed], holder: str, lease_until: datetime) -> set[int]:
        with self.db.transaction() as session:
            held = outbox.renew(session, [i.id for i in items], worker=holder, lease_until=lease_until)
        for lost in sorted({i.id for i in items} - held):
            log.warning("outbox item %s passed to another worker before its turn in this batch", lost)
        return held

    def _deliver_one(self, item: _Claimed, result: DrainResult) -> None:
        try:
            self.deliverers[item.kind].deliver(item.payload)
        except DeliveryError as error:
            self._settle_failure(item, error, result)
            return
        except Exception as error:  # a bug in a deliverer must not stop the queue
            log.exception("outbox item %s (%s) failed unexpectedly", item.id, item.kind.value)
            self._settle_failure(item, DeliveryError(repr(error), temporary=True), result)
            return
        with self.db.transaction() as session:
            now = self.clock()
            if outbox.mark_sent(session, item.id, worker=item.holder, now=now):
                timeline = item.payload.get("timeline")
                if timeline and item.interview_id is not None:
                    session.add(
                        ActivityEvent(
                            interview_id=item.interview_id, kind=timeline["kind"],
                            actor_kind=timeline.get("actor_kind", "system"),
                            actor_slack_user_id=timeline.get("actor_slack_user_id"),
                            actor_name=timeline.get("actor_name"), occurred_at=now,
                            details=timeline.get("details", {}),
                        )
                    )
                result.sent += 1
            else:
                log.warning("outbox item %s was delivered after its lease passed to another worker", item.id)

    def _settle_failure(self, item: _Claimed, error: DeliveryError, result: DrainResult) -> None:
        message = str(error) or error.__class__.__name__
        with self.db.transaction() as session:
            if error.temporary and item.attempts < self.policy.max_attempts:
                wait = self.policy.delay(item.attempts, self.rng)
                if error.retry_after is not None:
                    wait = max(wait, timedelta(seconds=error.retry_after))
                outbox.mark_retry(session, item.id, worker=item.holder, error=message, retry_at=self.clock() + wait)
                result.retried += 1
                log.info("outbox item %s (%s) will be retried in %s: %s", item.id, item.kind.value, wait, message)
            else:
                outbox.mark_failed(session, item.id, worker=item.holder, error=message)
                result.failed += 1
                log.error("outbox item %s (%s) failed for good after %s attempts: %s",
                          item.id, item.kind.value, item.attempts, message)
