"""The durable outbox: enqueue once, claim atomically, deliver, retry with backoff, keep failures."""

import random
import threading
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.jobs.outbox_worker import DeliveryError, OutboxWorker, RetryPolicy
from bot.services import Services
from storage import outbox
from storage.db import Database
from storage.enums import ActivityKind, OutboxKind, OutboxStatus
from storage.models import ActivityEvent, OutboxItem
from tests.conftest import ADA, CLI, MovableClock, Seed, berlin


class Recorder:
    """A deliverer that records payloads and fails as told: ``script`` holds errors to raise first."""

    def __init__(self, *script: DeliveryError) -> None:
        self.delivered: list[dict[str, Any]] = []
        self.script = list(script)
        self.lock = threading.Lock()

    def deliver(self, payload: Mapping[str, Any]) -> None:
        with self.lock:
            if self.script:
                raise self.script.pop(0)
            self.delivered.append(dict(payload))


def _add(db: Database, clock: MovableClock, key: str, **kw: Any) -> None:
    with db.transaction() as session:
        outbox.enqueue(session, key=key, kind=kw.pop("kind", OutboxKind.EMAIL), payload=kw.pop("payload", {"n": key}), now=clock(), **kw)


def _item(db: Database, key: str) -> OutboxItem:
    with db.transaction() as session:
        return session.scalars(select(OutboxItem).where(OutboxItem.idempotency_key == key)).one()


def _worker(db: Database, clock: MovableClock, deliverer: Recorder, **kw: Any) -> OutboxWorker:
    return OutboxWorker(db, clock, {OutboxKind.EMAIL: deliverer, OutboxKind.SLACK_POST: deliverer}, rng=random.Random(7), **kw)


def test_enqueue_is_idempotent(db: Database, clock: MovableClock) -> None:
    _add(db, clock, "confirmation:1")
    _add(db, clock, "confirmation:1", payload={"n": "changed"})
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(OutboxItem)) == 1
    assert _item(db, "confirmation:1").payload == {"n": "confirmation:1"}


def test_worker_delivers_due_items_once_and_leaves_future_ones(db: Database, clock: MovableClock) -> None:
    _add(db, clock, "a")
    _add(db, clock, "later", available_at=clock() + timedelta(hours=1))
    recorder = Recorder()
    worker = _worker(db, clock, recorder)

    assert worker.drain().sent == 1
    assert worker.drain().handled == 0
    clock.advance(hours=1)
    assert worker.drain().sent == 1
    assert [p["n"] for p in recorder.delivered] == ["a", "later"]
    assert _item(db, "a").status is OutboxStatus.SENT and _item(db, "a").sent_at is not None


def test_temporary_failures_back_off_then_succeed(db: Database, clock: MovableClock) -> None:
    _add(db, clock, "mail")
    recorder = Recorder(DeliveryError("451 try later", temporary=True), DeliveryError("connection refused", temporary=True))
    worker = _worker(db, clock, recorder, policy=RetryPolicy(first_delay=timedelta(seconds=30)))

    assert worker.drain().retried == 1
    first = _item(db, "mail")
    assert first.status is OutboxStatus.PENDING and first.last_error == "451 try later"
    assert timedelta(seconds=15) <= first.available_at - clock() <= timedelta(seconds=30)
    assert worker.drain().handled == 0  # not due yet

    clock.advance(seconds=30)
    assert worker.drain().retried == 1
    second = _item(db, "mail")
    assert timedelta(seconds=30) <= second.available_at - clock() <= timedelta(seconds=60)  # doubled

    clock.advance(seconds=60)
    assert worker.drain().sent == 1
    assert len(recorder.delivered) == 1 and _item(db, "mail").attempts == 3


def test_retry_after_from_the_other_side_is_honoured(db: Database, clock: MovableClock) -> None:
    _add(db, clock, "post", kind=OutboxKind.SLACK_POST)
    worker = _worker(db, clock, Recorder(DeliveryError("ratelimited", temporary=True, retry_after=600)))
    worker.drain()
    assert _item(db, "post").available_at - clock() >= timedelta(seconds=600)


def test_permanent_failure_and_exhausted_retries_are_kept_with_their_error(db: Database, clock: MovableClock) -> None:
    _add(db, clock, "bounced")
    _add(db, clock, "flaky")
    recorder = Recorder(DeliveryError("550 no such user", temporary=False), *[DeliveryError("down", temporary=True)] * 3)
    worker = _worker(db, clock, recorder, policy=RetryPolicy(max_attempts=3))
    for _ in range(4):
        worker.drain()
        clock.advance(hours=2)
    assert _item(db, "bounced").status is OutboxStatus.FAILED and _item(db, "bounced").last_error == "550 no such user"
    flaky = _item(db, "flaky")
    assert flaky.status is OutboxStatus.FAILED and flaky.attempts == 3 and flaky.last_error == "down"
    with db.transaction() as session:
        assert [i.idempotency_key for i in outbox.unsettled(session)] == ["bounced", "flaky"]
        assert outbox.retry_now(session, flaky.id, now=clock())
    assert worker.drain().sent == 1


def test_items_with_one_ordering_key_go_out_in_order(db: Database, clock: MovableClock) -> None:
    for n in range(3):
        _add(db, clock, f"post-{n}", kind=OutboxKind.SLACK_POST, ordering_key="slack:C1", payload={"n": n})
    _add(db, clock, "other", kind=OutboxKind.SLACK_POST, ordering_key="slack:C2", payload={"n": "other"})
    with db.transaction() as session:
        first = outbox.claim(session, worker="w1", now=clock(), lease_until=clock() + timedelta(minutes=5), limit=10)
    assert [i.payload["n"] for i in first] == [0, "other"]  # post-1 waits behind post-0

    recorder = Recorder(DeliveryError("500", temporary=True))
    worker = _worker(db, clock, recorder, lease=timedelta(minutes=5))
    clock.advance(minutes=6)  # w1's lease ran out; our worker takes over
    worker.drain()
    assert recorder.delivered == [{"n": "other"}]  # post-0 failed once; nothing behind it moved
    clock.advance(hours=1)
    worker.drain()
    assert [p["n"] for p in recorder.delivered] == ["other", 0, 1, 2]


def test_a_lease_keeps_other_workers_away_until_it_expires(db: Database, clock: MovableClock) -> None:
    _add(db, clock, "x")
    with db.transaction() as session:
        assert len(outbox.claim(session, worker="w1", now=clock(), lease_until=clock() + timedelta(minutes=5), limit=5)) == 1
    with db.transaction() as session:
        assert outbox.claim(session, worker="w2", now=clock(), lease_until=clock() + timedelta(minutes=5), limit=5) == []
    clock.advance(minutes=6)
    with db.transaction() as session:
        again = outbox.claim(session, worker="w2", now=clock(), lease_until=clock() + timedelta(minutes=5), limit=5)
        assert [i.locked_by for i in again] == ["w2"]
        # w1 comes back late: it may not settle what it no longer holds.
        assert not outbox.mark_sent(session, again[0].id, worker="w1", now=clock())


def test_concurrent_claims_never_hand_out_an_item_twice(db: Database, clock: MovableClock) -> None:
    for n in range(200):
        _add(db, clock, f"k{n}")
    taken: list[list[int]] = []
    lock = threading.Lock()

    def claimer(name: str) -> None:
        mine: list[int] = []
        while True:
            with db.transaction() as session:
                batch = outbox.claim(session, worker=name, now=clock(), lease_until=clock() + timedelta(minutes=5), limit=7)
                if not batch:
                    break
                mine += [i.id for i in batch]
        with lock:
            taken.append(mine)

    threads = [threading.Thread(target=claimer, args=(f"w{n}",)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    every = [i for mine in taken for i in mine]
    assert len(every) == 200 and len(set(every)) == 200


def test_delivery_records_the_timeline_event(db: Database, clock: MovableClock, services: Services, seeded: Seed) -> None:
    booked = services.booking.book(study_ref=seeded.study_id, participant_email="nora@example.com", starts_at=berlin(6, 10), host_id=ADA, actor=CLI)
    timeline = {"kind": ActivityKind.EMAIL_SENT.value, "details": {"template": "booking_confirmation", "to": "Nora Quist"}}
    _add(db, clock, "confirmation", interview_id=booked.interview_id, payload={"timeline": timeline})
    _worker(db, clock, Recorder()).drain()
    with db.transaction() as session:
        kinds = session.scalars(select(ActivityEvent.kind).where(ActivityEvent.interview_id == booked.interview_id)).all()
    assert ActivityKind.EMAIL_SENT in kinds


def test_an_unknown_kind_waits_for_a_server_that_can_deliver_it(db: Database, clock: MovableClock) -> None:
    _add(db, clock, "calendar", kind=OutboxKind.CALENDAR)
    assert _worker(db, clock, Recorder()).drain().retried == 1
    assert "no deliverer" in (_item(db, "calendar").last_error or "")


@pytest.mark.parametrize("attempts", [1, 2, 5, 12, 40])
def test_backoff_grows_and_is_capped(attempts: int) -> None:
    policy = RetryPolicy(first_delay=timedelta(seconds=30), max_delay=timedelta(hours=1))
    delays = [policy.delay(attempts, random.Random(seed)) for seed in range(50)]
    ceiling = min(timedelta(hours=1), timedelta(seconds=30) * 2 ** (attempts - 1))
    assert all(ceiling / 2 <= d <= ceiling for d in delays)
    assert len(set(delays)) > 1  # jittered


def test_enqueue_says_whether_it_added(db: Database, clock: MovableClock) -> None:
    with db.transaction() as session:
        assert outbox.enqueue(session, key="once", kind=OutboxKind.EMAIL, payload={}, now=clock()) is True
    with db.transaction() as session:
        assert outbox.enqueue(session, key="once", kind=OutboxKind.EMAIL, payload={}, now=clock()) is False


# ---------------------------------------------------------------- delivering at once


def _ids(db: Database, clock: MovableClock, *keys: str, **kw: Any) -> tuple[int, ...]:
    with db.transaction() as session:
        for key in keys:
            outbox.enqueue(session, key=key, kind=OutboxKind.EMAIL, payload={"n": key, "to": [f"{key}@example.com"]}, now=clock(), **kw)
        return outbox.added_in(session)


def test_a_transaction_knows_the_items_it_added_but_not_repeats(db: Database, clock: MovableClock) -> None:
    first = _ids(db, clock, "x", "y")
    assert len(first) == 2
    assert _ids(db, clock, "x") == ()  # already there: nothing new to deliver


def test_deliver_now_sends_only_the_given_items_and_reports_them(db: Database, clock: MovableClock) -> None:
    _add(db, clock, "someone-elses")
    mine = _ids(db, clock, "mine")
    recorder = Recorder()
    states = _worker(db, clock, recorder).deliver_now(mine)
    assert [p["n"] for p in recorder.delivered] == ["mine"]
    [state] = states
    assert state.status is OutboxStatus.SENT and state.recipients == ("mine@example.com",)
    assert _item(db, "someone-elses").status is OutboxStatus.PENDING


def test_deliver_now_reports_a_retry_with_its_reason(db: Database, clock: MovableClock) -> None:
    mine = _ids(db, clock, "mine")
    [state] = _worker(db, clock, Recorder(DeliveryError("mail server unreachable", temporary=True))).deliver_now(mine)
    assert state.status is OutboxStatus.PENDING and state.last_error == "mail server unreachable"


def test_deliver_now_waits_its_turn_behind_an_earlier_item_of_the_same_channel(db: Database, clock: MovableClock) -> None:
    _add(db, clock, "earlier", ordering_key="slack:C1", available_at=clock() + timedelta(minutes=5))
    mine = _ids(db, clock, "mine", ordering_key="slack:C1")
    recorder = Recorder()
    [state] = _worker(db, clock, recorder).deliver_now(mine)
    assert recorder.delivered == [] and state.status is OutboxStatus.PENDING


def test_deliver_now_takes_a_card_and_then_its_note(db: Database, clock: MovableClock) -> None:
    mine = _ids(db, clock, "card", "note", ordering_key="slack:C1")
    recorder = Recorder()
    states = _worker(db, clock, recorder).deliver_now(mine)
    assert [p["n"] for p in recorder.delivered] == ["card", "note"]
    assert all(s.status is OutboxStatus.SENT for s in states)
