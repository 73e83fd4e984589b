"""The outbox table's queries: enqueue once, claim atomically, settle.

Several server processes may drain one outbox. A claim is one ``UPDATE ... RETURNING`` whose
sub-select takes due rows with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL (SQLite has a single
writer, so the statement is atomic there as it is). A claim is a lease: a worker that dies
mid-delivery leaves rows that another worker may take once ``locked_until`` has passed.

Items that share an ordering key (a Slack channel) form one line: delivered one at a time in id
order, and no faster than a ``Pace``. Both rules are conditions of the claim itself, so they hold
across any number of servers.
"""

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, or_, select, true, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, aliased

from storage.enums import OutboxKind, OutboxStatus
from storage.models import OutboxItem


def enqueue(
    session: Session,
    *,
    key: str,
    kind: OutboxKind,
    payload: dict[str, Any],
    now: datetime,
    available_at: datetime | None = None,
    ordering_key: str | None = None,
    interview_id: int | None = None,
) -> bool:
    """Add a side effect unless one with the same idempotency key exists; True if added.

    Runs in the caller's transaction, so the side effect exists exactly when the change that
    causes it was committed.
    """
    values = {
        "idempotency_key": key,
        "kind": kind,
        "payload": payload,
        "ordering_key": ordering_key,
        "interview_id": interview_id,
        "status": OutboxStatus.PENDING,
        "attempts": 0,
        "available_at": available_at or now,
        "created_at": now,
    }
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        insert(OutboxItem)
        .values(**values)
        .on_conflict_do_nothing(index_elements=[OutboxItem.idempotency_key])
        .returning(OutboxItem.id)  # no row when the key existed (rowcount is not reliable here)
    )
    item_id = session.execute(statement).scalar_one_or_none()
    if item_id is None:
        return False
    session.info.setdefault(_NEW_IDS, []).append(item_id)
    return True


_NEW_IDS = "outbox_new_ids"


def added_in(session: Session) -> tuple[int, ...]:
    """The items this session's transaction enqueued, so the caller can deliver them at once."""
    return tuple(session.info.get(_NEW_IDS, ()))


@dataclass(frozen=True)
class Pace:
    """At most ``items`` deliveries of one ordering key in any ``per`` (a sliding window).

    ``Pace(1, 1s)`` is a strict one per second; ``Pace(3, 3s)`` keeps the same average but lets a
    card edit and its note go out back to back, as Slack's own limit allows short bursts.
    """

    items: int
    per: timedelta

    def __post_init__(self) -> None:
        if self.items < 1 or self.per <= timedelta(0):
            raise ValueError("a pace needs at least one item per positive time window")


def _paced_out(pace: Pace, now: datetime) -> Any:
    """True for an ordered item whose line already had ``pace.items`` deliveries in the window.

    The ``items``-th latest delivery of the line is found by id on the ``(ordering_key, status,
    id)`` index: a line delivers in id order, so that is also the ``items``-th latest in time.
    """
    sent = aliased(OutboxItem)
    nth_latest = (
        select(sent.sent_at)
        .where(sent.ordering_key == OutboxItem.ordering_key, sent.status == OutboxStatus.SENT)
        .order_by(sent.id.desc())
        .offset(pace.items - 1)
        .limit(1)
        .correlate(OutboxItem)
        .scalar_subquery()
    )
    return and_(nth_latest.is_not(None), nth_latest > now - pace.per)


def claim(
    session: Session, *, worker: str, now: datetime, lease_until: datetime, limit: int,
    only: tuple[int, ...] | None = None, pace: Pace | None = None, kinds: Collection[OutboxKind] | None = None,
) -> list[OutboxItem]:
    """Lease up to ``limit`` due items to ``worker``, oldest first (``only``: of these ids;
    ``kinds``: of the kinds this worker can deliver, leaving the others to servers that can).

    Items sharing an ordering key are delivered one at a time in id order: only the oldest
    pending item of a key is ever claimable, and with a ``pace`` only once its line has room.
    """
    earlier = aliased(OutboxItem)
    waiting_behind = exists().where(
        earlier.ordering_key == OutboxItem.ordering_key,
        earlier.status == OutboxStatus.PENDING,
        earlier.id < OutboxItem.id,
    )
    line_ready = ~waiting_behind if pace is None else and_(~waiting_behind, ~_paced_out(pace, now))
    due = (
        select(OutboxItem.id)
        .where(
            OutboxItem.status == OutboxStatus.PENDING,
            OutboxItem.available_at <= now,
            or_(OutboxItem.locked_until.is_(None), OutboxItem.locked_until < now),
            or_(OutboxItem.ordering_key.is_(None), line_ready),
            OutboxItem.id.in_(only) if only is not None else true(),
            OutboxItem.kind.in_(kinds) if kinds is not None else true(),
        )
        .order_by(OutboxItem.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    claimed = session.scalars(
        update(OutboxItem)
        .where(OutboxItem.id.in_(due.scalar_subquery()))
        .values(locked_by=worker, locked_until=lease_until, attempts=OutboxItem.attempts + 1)
        .returning(OutboxItem),
        execution_options={"synchronize_session": False},
    ).all()
    return sorted(claimed, key=lambda item: item.id)


def _held_by(item_id: int, worker: str) -> Any:
    return and_(OutboxItem.id == item_id, OutboxItem.locked_by == worker)


def renew(session: Session, item_ids: Collection[int], *, worker: str, lease_until: datetime) -> set[int]:
    """Extend ``worker``'s lease on items it is about to deliver; returns those still its own.

    Still held (``locked_by``) means no one else has claimed them, even if the lease ran out.
    """
    if not item_ids:
        return set()
    renewed = session.scalars(
        update(OutboxItem)
        .where(OutboxItem.id.in_(item_ids), OutboxItem.locked_by == worker, OutboxItem.status == OutboxStatus.PENDING)
        .values(locked_until=lease_until)
        .returning(OutboxItem.id),
        execution_options={"synchronize_session": False},
    )
    return set(renewed)


def mark_sent(session: Session, item_id: int, *, worker: str, now: datetime) -> bool:
    """Settle a delivered item; False if the lease was lost to another worker meanwhile."""
    result = session.execute(
        update(OutboxItem)
        .where(_held_by(item_id, worker))
        .values(status=OutboxStatus.SENT, sent_at=now, locked_by=None, locked_until=None, last_error=None)
    )
    return bool(result.rowcount)


def mark_retry(session: Session, item_id: int, *, worker: str, error: str, retry_at: datetime) -> bool:
    result = session.execute(
        update(OutboxItem)
        .where(_held_by(item_id, worker))
        .values(available_at=retry_at, locked_by=None, locked_until=None, last_error=error[:4000])
    )
    return bool(result.rowcount)


def mark_failed(session: Session, item_id: int, *, worker: str, error: str) -> bool:
    result = session.execute(
        update(OutboxItem)
        .where(_held_by(item_id, worker))
        .values(status=OutboxStatus.FAILED, locked_by=None, locked_until=None, last_error=error[:4000])
    )
    return bool(result.rowcount)


def mark_dropped(session: Session, item_ids: Collection[int], *, worker: str, reason: str) -> int:
    """Settle items ``worker`` holds that are no longer wanted (e.g. a reminder for a time the
    interview no longer has): kept, with the reason, and never sent."""
    if not item_ids:
        return 0
    result = session.execute(
        update(OutboxItem)
        .where(OutboxItem.id.in_(item_ids), OutboxItem.locked_by == worker)
        .values(status=OutboxStatus.DROPPED, locked_by=None, locked_until=None, last_error=reason[:4000]),
        execution_options={"synchronize_session": False},
    )
    return int(result.rowcount or 0)


def wake(session: Session, *, kind: OutboxKind, interview_ids: Any, now: datetime) -> int:
    """Make the pending or failed items of ``kind`` for these interviews (ids or a select) due
    now, with their attempts counted afresh: what waited for something that is now fixed (a host
    reconnected their calendar). Items a worker holds are left to it."""
    result = session.execute(
        update(OutboxItem)
        .where(
            OutboxItem.kind == kind,
            OutboxItem.status.in_([OutboxStatus.PENDING, OutboxStatus.FAILED]),
            OutboxItem.interview_id.in_(interview_ids),
            or_(OutboxItem.locked_until.is_(None), OutboxItem.locked_until < now),
        )
        .values(status=OutboxStatus.PENDING, available_at=now, attempts=0, locked_by=None, locked_until=None),
        execution_options={"synchronize_session": False},
    )
    return int(result.rowcount or 0)


def retry_now(session: Session, item_id: int, *, now: datetime) -> bool:
    """Make a failed item, or one waiting for its next attempt, due now (an operator's retry).

    An item a worker holds right now is left alone: clearing its lease would let a second worker
    deliver it too. A failed item gets one more attempt; if that fails it is failed again.
    """
    result = session.execute(
        update(OutboxItem)
        .where(
            OutboxItem.id == item_id,
            OutboxItem.status.in_([OutboxStatus.FAILED, OutboxStatus.PENDING]),
            or_(OutboxItem.locked_until.is_(None), OutboxItem.locked_until < now),
        )
        .values(status=OutboxStatus.PENDING, available_at=now, locked_by=None, locked_until=None)
    )
    return bool(result.rowcount)


def get(session: Session, item_id: int) -> OutboxItem | None:
    return session.get(OutboxItem, item_id)


def unsettled(session: Session, *, limit: int = 200) -> list[OutboxItem]:
    """Pending and failed items, oldest first: what an operator looks at."""
    return list(
        session.scalars(
            select(OutboxItem)
            .where(OutboxItem.status.in_([OutboxStatus.PENDING, OutboxStatus.FAILED]))
            .order_by(OutboxItem.id)
            .limit(limit)
        )
    )


def count_by_status(session: Session) -> dict[OutboxStatus, int]:
    rows = session.execute(select(OutboxItem.status, func.count()).group_by(OutboxItem.status))
    return {status: count for status, count in rows}


def states(session: Session, ids: tuple[int, ...]) -> list[OutboxItem]:
    """The given items as they are now, in id order."""
    if not ids:
        return []
    return list(session.scalars(select(OutboxItem).where(OutboxItem.id.in_(ids)).order_by(OutboxItem.id)))
