"""The durable outbox: enqueue once, claim atomically, deliver, retry with backoff, keep failures."""

import json
import random
import threading
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from bot.cli.outbox import outbox as outbox_command
from bot.cli.runtime import Runtime
from bot.composition import build_outbox_worker
from bot.jobs.outbox_worker import (
    DeliveryError,
    OutboxWorker,
    RetryPolicy,
    channel_pace,
    default_worker_id,
)
from bot.services import Services
from bot.services.errors import Conflict, NotFound
from bot.settings import ConfigError, Settings, load_settings
from storage import outbox
from storage.db import Database
from storage.enums import ActivityKind, OutboxKind, OutboxStatus
from storage.models import ActivityEvent, OutboxItem
from storage.outbox import Pace
from tests.conftest import ADA, CLI, T0, MovableClock, Seed, berlin
from tests.support.mail import messages
from tests.support.smtp_servers import HOST as SMTP_HOST
from tests.support.smtp_servers import SmtpServer
from tests.support.smtp_servers import free_port as free_smtp_port


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


def test_a_kind_this_server_cannot_deliver_is_left_to_one_that_can(db: Database, clock: MovableClock) -> None:
    _add(db, clock, "calendar", kind=OutboxKind.CALENDAR)
    assert _worker(db, clock, Recorder()).drain().handled == 0
    untouched = _item(db, "calendar")
    assert (untouched.status, untouched.attempts, untouched.locked_by) == (OutboxStatus.PENDING, 0, None)  # no attempt used up

    calendar = Recorder()
    assert OutboxWorker(db, clock, {OutboxKind.CALENDAR: calendar}).drain().sent == 1
    assert calendar.delivered == [{"n": "calendar"}]


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


# ---------------------------------------------------------------- pacing per channel


def _posts(db: Database, clock: MovableClock, channel: str, count: int) -> None:
    for n in range(count):
        _add(db, clock, f"{channel}-{n}", kind=OutboxKind.SLACK_POST, ordering_key=f"slack:{channel}",
             payload={"channel": channel, "n": n})


def _sent_times(db: Database, channel: str) -> list[datetime]:
    with db.transaction() as session:
        return list(session.scalars(
            select(OutboxItem.sent_at).where(OutboxItem.ordering_key == f"slack:{channel}", OutboxItem.status == OutboxStatus.SENT)
            .order_by(OutboxItem.id)
        ))


def test_a_channel_gets_at_most_one_post_per_second(db: Database, clock: MovableClock) -> None:
    _posts(db, clock, "C1", 3)
    _posts(db, clock, "C2", 1)
    recorder = Recorder()
    worker = _worker(db, clock, recorder, pace=Pace(1, timedelta(seconds=1)))

    assert worker.drain().sent == 2  # C1's first post and C2's: other channels are not held up
    assert worker.drain().sent == 0
    clock.advance(seconds=0.9)
    assert worker.drain().sent == 0
    clock.advance(seconds=0.1)
    assert worker.drain().sent == 1
    clock.advance(seconds=1)
    assert worker.drain().sent == 1
    assert [(p["channel"], p["n"]) for p in recorder.delivered] == [("C1", 0), ("C2", 0), ("C1", 1), ("C1", 2)]
    assert _sent_times(db, "C1") == [T0, T0 + timedelta(seconds=1), T0 + timedelta(seconds=2)]


def test_a_burst_goes_out_together_and_the_average_stays_one_per_second(db: Database, clock: MovableClock) -> None:
    _posts(db, clock, "C1", 8)
    worker = _worker(db, clock, Recorder(), pace=channel_pace(1.0, burst=3))
    for _ in range(40):  # ten seconds, a tick every quarter second
        worker.drain()
        clock.advance(seconds=0.25)
    times = _sent_times(db, "C1")
    assert len(times) == 8
    assert times[:3] == [T0] * 3  # e.g. a card edit and its note, back to back
    assert all(later - earlier >= timedelta(seconds=3) for earlier, later in zip(times, times[3:], strict=False))


def test_the_pace_holds_across_servers(db: Database, clock: MovableClock) -> None:
    _posts(db, clock, "C1", 6)
    pace = Pace(2, timedelta(seconds=2))
    recorders = [Recorder(), Recorder()]
    workers = [_worker(db, clock, r, pace=pace, worker_id=f"server-{n}") for n, r in enumerate(recorders)]
    totals = []
    for _ in range(3):
        for worker in workers:  # both servers tick at the same instant: together, one burst
            worker.drain()
        totals.append(sum(len(r.delivered) for r in recorders))
        clock.advance(seconds=2)
    assert totals == [2, 4, 6]
    assert sorted(p["n"] for r in recorders for p in r.delivered) == [0, 1, 2, 3, 4, 5]
    assert _sent_times(db, "C1") == [T0 + timedelta(seconds=s) for s in (0, 0, 2, 2, 4, 4)]


def test_channel_pace_from_the_settings() -> None:
    assert channel_pace(0, burst=3) is None
    assert channel_pace(1.0, burst=3) == Pace(3, timedelta(seconds=3))
    with pytest.raises(ValueError):
        Pace(0, timedelta(seconds=1))


def test_outbox_settings_have_safe_defaults_and_say_what_is_wrong(monkeypatch: pytest.MonkeyPatch) -> None:
    defaults = Settings(_env_file=None)  # type: ignore[call-arg]
    assert (defaults.outbox_tick_seconds, defaults.outbox_lease_seconds) == (2.0, 300.0)
    assert channel_pace(defaults.slack_channel_pace_seconds, defaults.slack_channel_burst) == Pace(3, timedelta(seconds=3))
    monkeypatch.setenv("OUTBOX_LEASE_SECONDS", "0")
    with pytest.raises(ConfigError, match=r"^invalid configuration: OUTBOX_LEASE_SECONDS: .*greater than 0"):
        load_settings(_env_file=None)


# ---------------------------------------------------------------- leases


class Slow(Recorder):
    """Each delivery takes ``minutes`` on the clock; ``meanwhile`` runs during the first."""

    def __init__(self, db: Database, clock: MovableClock, minutes: float, meanwhile: Callable[[], None] = lambda: None) -> None:
        super().__init__()
        self.db = db
        self.clock = clock
        self.minutes = minutes
        self.meanwhile = meanwhile
        self.leases: list[datetime | None] = []

    def deliver(self, payload: Mapping[str, Any]) -> None:
        self.leases.append(_item(self.db, payload["n"]).locked_until)
        self.clock.advance(minutes=self.minutes)
        if not self.delivered:
            self.meanwhile()
        super().deliver(payload)


def test_a_lease_is_renewed_before_half_of_it_is_used(db: Database, clock: MovableClock) -> None:
    for key in ("a", "b", "c", "d"):
        _add(db, clock, key)
    slow = Slow(db, clock, minutes=2)
    assert _worker(db, clock, slow, lease=timedelta(minutes=5)).drain().sent == 4
    # Each delivery started with at least half a lease left: the rest of the batch was renewed
    # at minute 4 (past half of the claim's lease), not item by item.
    assert slow.leases == [T0 + timedelta(minutes=m) for m in (5, 5, 9, 9)]


def test_items_whose_lease_ran_out_during_a_too_slow_delivery_are_left_to_the_other_worker(db: Database, clock: MovableClock) -> None:
    for key in ("first", "second", "third"):
        _add(db, clock, key)
    taken: list[OutboxItem] = []

    def other_server_claims() -> None:  # six minutes in: the batch's lease has run out
        with db.transaction() as session:
            taken.extend(outbox.claim(session, worker="other", now=clock(), lease_until=clock() + timedelta(minutes=5), limit=5))

    slow = Slow(db, clock, minutes=6, meanwhile=other_server_claims)
    _worker(db, clock, slow, lease=timedelta(minutes=5)).drain()
    assert [i.idempotency_key for i in taken] == ["first", "second", "third"]
    assert [p["n"] for p in slow.delivered] == ["first"]  # the rest is the other server's to send
    assert {_item(db, key).locked_by for key in ("first", "second", "third")} == {"other"}  # ours could not settle it


def test_an_operator_retry_leaves_an_item_being_delivered_alone(db: Database, clock: MovableClock) -> None:
    _add(db, clock, "busy")
    with db.transaction() as session:
        [held] = outbox.claim(session, worker="w1", now=clock(), lease_until=clock() + timedelta(minutes=5), limit=1)
        assert not outbox.retry_now(session, held.id, now=clock())
    assert _item(db, "busy").locked_by == "w1"
    clock.advance(minutes=6)  # w1 died: its lease ran out, so the retry may take it
    with db.transaction() as session:
        assert outbox.retry_now(session, held.id, now=clock())


def test_worker_ids_differ_between_processes_on_one_host() -> None:
    assert default_worker_id() != default_worker_id()


# ---------------------------------------------------------------- the command line


def _cli(db: Database, services: Services, *args: str) -> Any:
    runtime = Runtime()
    runtime.__dict__.update(db=db, services=services)  # this test's database and clock
    return CliRunner().invoke(outbox_command, list(args), obj=runtime)


def test_outbox_command_lists_pending_and_failed_items_with_their_errors(db: Database, clock: MovableClock, services: Services) -> None:
    _add(db, clock, "bounced", payload={"to": ["nora@example.com"]})
    _add(db, clock, "sent", payload={"to": ["otto@example.com"]})
    _add(db, clock, "post", kind=OutboxKind.SLACK_POST, ordering_key="slack:C0STUDY", payload={"text": "hi"})
    recorder = Recorder(DeliveryError("550 5.1.1 No such user here", temporary=False))
    OutboxWorker(db, clock, {OutboxKind.EMAIL: recorder}, rng=random.Random(7)).drain()

    listed = _cli(db, services)
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    assert lines[0] == "Outbox: 1 failed, 1 pending, 1 sent."
    [bounced] = [line for line in lines if "nora@example.com" in line]
    assert "failed" in bounced and "attempts 1" in bounced
    assert "last error: 550 5.1.1 No such user here" in listed.output
    assert any("slack_post" in line and "C0STUDY" in line and "due" in line for line in lines)
    assert "otto@example.com" not in listed.output  # sent: nothing to look at
    assert "interview-desk outbox retry ID" in lines[-1]

    data = json.loads(_cli(db, services, "--json").output)
    assert data["counts"] == {"failed": 1, "pending": 1, "sent": 1}
    assert [(i["key"], i["state"]) for i in data["items"]] == [("bounced", "failed"), ("post", "due")]


def test_outbox_retry_makes_a_failed_item_due_and_explains_refusals(db: Database, clock: MovableClock, services: Services) -> None:
    _add(db, clock, "bounced")
    _add(db, clock, "fine")
    recorder = Recorder(DeliveryError("550 no such user", temporary=False))
    worker = _worker(db, clock, recorder)
    worker.drain()
    bounced, fine = _item(db, "bounced"), _item(db, "fine")

    retried = _cli(db, services, "retry", str(bounced.id))
    assert retried.exit_code == 0 and "will be delivered on the next tick" in retried.output
    assert _item(db, "bounced").status is OutboxStatus.PENDING
    assert worker.drain().sent == 1 and _item(db, "bounced").status is OutboxStatus.SENT

    again = _cli(db, services, "retry", str(fine.id))
    assert isinstance(again.exception, Conflict) and "already sent" in str(again.exception)
    missing = _cli(db, services, "retry", "999")
    assert isinstance(missing.exception, NotFound) and "no outbox item 999" in str(missing.exception)


# ---------------------------------------------------------------- a mail server that is down for a while


def test_smtp_down_for_a_while_then_up_delivers_every_email_once(
    settings: Settings, services: Services, seeded: Seed, clock: MovableClock, start_smtp: Callable[..., SmtpServer],
) -> None:
    port = free_smtp_port()  # nothing listens here yet: the mail server is down
    worker = build_outbox_worker(settings.model_copy(update={"smtp_host": SMTP_HOST, "smtp_port": port, "smtp_starttls": False}), services)
    people = ["nora@example.com", "otto@example.com"]
    for n in range(4):
        people.append(services.participants.add(seeded.study_id, f"p{n}@example.com").email)
    for email, day in zip(people, (11, 12, 13, 14, 15, 18), strict=True):  # weekdays
        services.booking.book(study_ref=seeded.study_id, participant_email=email, starts_at=berlin(day, 10), host_id=ADA, actor=CLI)
    emails = _emails(services.db)
    assert len(emails) == len(people)  # each participant's confirmation with its invite

    outage = [worker.drain().retried]
    for _ in range(3):  # an hour and a half of outage: each round waits out the longest backoff
        clock.advance(minutes=30)
        outage.append(worker.drain().retried)
    assert outage == [len(emails)] * 4
    waiting = _emails(services.db)
    assert all(i.status is OutboxStatus.PENDING and i.attempts == 4 for i in waiting)
    assert all("Connection refused" in (i.last_error or "") for i in waiting)

    server = start_smtp(port=port)  # the mail server is back
    clock.advance(hours=1)
    assert worker.drain().sent == len(emails)
    clock.advance(hours=8)
    assert worker.drain().handled == 0  # nothing left, nothing sent twice
    ids = [m["Message-ID"] for m in messages(server)]
    assert len(ids) == len(emails) and set(ids) == {i.payload["message_id"] for i in emails}
    assert all(i.status is OutboxStatus.SENT and i.last_error is None for i in _emails(services.db))


def _emails(db: Database) -> list[OutboxItem]:
    with db.transaction() as session:
        return list(session.scalars(select(OutboxItem).where(OutboxItem.kind == OutboxKind.EMAIL).order_by(OutboxItem.id)))
