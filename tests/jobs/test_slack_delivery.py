"""Channel posts through the real WebClient to the fake Slack Web API: what each failure means
for the outbox, and the proof that with 429s and 500s every post still goes out once, in order
per channel, and no faster than the channel's pace."""

import time
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from blocks.interview_card import thread_note
from bot.composition import build_outbox_worker
from bot.jobs.outbox_worker import DeliveryError, OutboxWorker, RetryPolicy, channel_pace
from bot.services import Services
from bot.settings import Settings
from storage.db import Database
from storage.enums import OutboxKind, OutboxStatus
from storage.models import Interview, OutboxItem, Participant
from tests.conftest import ADA, CHANNEL, CLI, MovableClock, Seed, berlin
from tests.support.fake_slack import Call, FakeSlackAPI
from tests.support.live_server import free_port

SECOND = "C0SECOND"


@pytest.fixture
def worker(settings: Settings, services: Services) -> OutboxWorker:
    """The production worker (the composition's WebClient and deliverers), retrying quickly."""
    built = build_outbox_worker(settings, services)
    return replace(built, policy=RetryPolicy(first_delay=timedelta(seconds=1), max_attempts=5))


def _post(services: Services, text: str, channel: str = CHANNEL) -> int:
    services.announcements.post(key=text, channel_id=channel, text=text)
    with services.db.transaction() as session:
        return session.scalars(select(OutboxItem.id).where(OutboxItem.idempotency_key == f"slack_post:{text}")).one()


def _item(db: Database, item_id: int) -> OutboxItem:
    with db.transaction() as session:
        item = session.get(OutboxItem, item_id)
        assert item is not None
        return item


# ---------------------------------------------------------------- what each answer means


def test_a_429_waits_at_least_retry_after(services: Services, worker: OutboxWorker, fake_slack: FakeSlackAPI, clock: MovableClock) -> None:
    item_id = _post(services, "hello")
    fake_slack.fail_next("chat.postMessage", status=429, retry_after=90)
    worker.drain()
    waiting = _item(services.db, item_id)
    assert waiting.status is OutboxStatus.PENDING and waiting.last_error == "Slack: ratelimited"
    assert waiting.available_at - clock() >= timedelta(seconds=90)
    clock.advance(seconds=89)
    assert worker.drain().handled == 0
    clock.advance(seconds=1)
    assert worker.drain().sent == 1


@pytest.mark.parametrize(("status", "body", "error"), [
    (500, None, "Slack: HTTP 500"),
    (503, "<html><body>Service Unavailable</body></html>", "Slack: HTTP 503"),  # a proxy's page
    (200, None, "Slack: fatal_error"),  # an error we do not know: worth another try
])
def test_server_errors_are_retried_with_a_short_reason(
    services: Services, worker: OutboxWorker, fake_slack: FakeSlackAPI, clock: MovableClock,
    status: int, body: str | None, error: str,
) -> None:
    item_id = _post(services, "hello")
    fake_slack.fail_next("chat.postMessage", status=status, text_body=body, error="fatal_error" if status == 200 else "internal_error")
    assert worker.drain().retried == 1
    assert _item(services.db, item_id).last_error == error
    clock.advance(seconds=2)
    assert worker.drain().sent == 1
    assert [c.failed for c in fake_slack.calls_to("chat.postMessage")] == [True, False]


def test_an_error_a_retry_cannot_fix_is_kept_as_failed(services: Services, worker: OutboxWorker, fake_slack: FakeSlackAPI) -> None:
    item_id = _post(services, "hello")
    fake_slack.fail_next("chat.postMessage", status=200, error="channel_not_found")
    assert worker.drain().failed == 1
    failed = _item(services.db, item_id)
    assert failed.status is OutboxStatus.FAILED and failed.last_error == "Slack: channel_not_found"


def test_slack_out_of_reach_is_retried(settings: Settings, services: Services, clock: MovableClock) -> None:
    away = settings.model_copy(update={"slack_api_url": f"http://127.0.0.1:{free_port()}/api/"})
    worker = build_outbox_worker(away, services)
    item_id = _post(services, "hello")
    assert worker.drain().retried == 1
    assert (_item(services.db, item_id).last_error or "").startswith("Slack unreachable:")


def test_retry_after_is_read_in_any_letter_case() -> None:
    from bot.jobs.deliverers import _retry_after

    assert _retry_after({"retry-after": "30"}) == 30.0
    assert _retry_after({"Retry-After": ["7"]}) == 7.0
    assert _retry_after({"Retry-After": "Wed, 21 Oct 2030 07:28:00 GMT"}) is None  # the backoff applies
    assert _retry_after({}) is None
    assert DeliveryError("x", temporary=True).retry_after is None


# ---------------------------------------------------------------- the proof


class RealTimeFrom:
    """Real time passing, starting at the test's T0: the pace is measured in real seconds, so
    it can be compared with when the fake Slack API received each call."""

    def __init__(self, start: datetime) -> None:
        self.start = start
        self.started = time.monotonic()

    def __call__(self) -> datetime:
        return self.start + timedelta(seconds=time.monotonic() - self.started)


def _token(services: Services, email: str) -> str:
    with services.db.transaction() as session:
        participant_id = session.scalars(select(Participant.id).where(Participant.email == email)).one()
    return services.participants.scheduling_link(participant_id).rsplit("/", 1)[-1]


def _busy_channels(services: Services, seeded: Seed) -> None:
    """Cards, notes in their threads and plain posts, in two channels, in a known order."""
    second = services.studies.create(
        team_ref=seeded.team_id, name="Onboarding", channel_id=SECOND, timezone="Europe/Berlin",
        duration_minutes=30, host_ids=[ADA],
    )
    services.studies.set_host_conferencing(second.id, ADA, "https://meet.example.com/ada", None)
    services.participants.add(second.id, "pia@example.com", "Pia Lund")
    for study, email, day in [(seeded.study_id, "nora@example.com", 11), (seeded.study_id, "otto@example.com", 12), (second.id, "pia@example.com", 13)]:
        services.booking.book(study_ref=study, participant_email=email, starts_at=berlin(day, 10), host_id=ADA, actor=CLI)
    for n in range(3):
        _post(services, f"{CHANNEL} post {n}")
        _post(services, f"{SECOND} post {n}", SECOND)
    nora = _token(services, "nora@example.com")
    services.portal.reschedule(nora, services.portal.slots(nora)[3].start, "Europe/Berlin", None)
    services.portal.cancel(_token(services, "otto@example.com"), "Moving house")
    services.portal.cancel(_token(services, "pia@example.com"), None)
    _post(services, f"{CHANNEL} last post")


def _expected(db: Database, channel: str) -> list[tuple[str, Any]]:
    """What should reach the channel, in outbox order: (method, text or the card's interview)."""
    expected: list[tuple[str, Any]] = []
    posted_cards: set[int] = set()
    with db.transaction() as session:
        items = session.scalars(select(OutboxItem).where(OutboxItem.ordering_key == f"slack:{channel}").order_by(OutboxItem.id)).all()
        for item in items:
            payload = item.payload
            if "card" in payload:
                first = payload["card"] not in posted_cards
                posted_cards.add(payload["card"])
                expected.append(("chat.postMessage" if first else "chat.update", ("card", payload["card"])))
            elif "note" in payload:  # in the thread of its interview's card
                expected.append(("chat.postMessage", ("note", payload["interview_id"], thread_note(payload["note"]))))
            else:
                expected.append(("chat.postMessage", payload["text"]))
    return expected


def test_with_429s_and_500s_every_post_goes_out_once_in_order_and_paced(
    services: Services, seeded: Seed, settings: Settings, fake_slack: FakeSlackAPI, db: Database,
) -> None:
    _busy_channels(services, seeded)
    pace = channel_pace(0.1, burst=2)  # two posts in any 0.2 s: the same rule, faster for a test
    worker = replace(
        build_outbox_worker(settings, services), clock=RealTimeFrom(services.clock()), pace=pace,
        policy=RetryPolicy(first_delay=timedelta(seconds=0.2), max_delay=timedelta(seconds=1), max_attempts=10),
    )
    fake_slack.fail_next("chat.postMessage", status=429, retry_after=1, channel=CHANNEL)
    fake_slack.fail_next("chat.postMessage", status=500, times=2, channel=SECOND)
    fake_slack.fail_next("chat.update", status=503, text_body="<html>Service Unavailable</html>", channel=CHANNEL)
    fake_slack.fail_next("chat.postMessage", status=429, retry_after=1, channel=SECOND)

    deadline = time.monotonic() + 30
    while _unsent(db) and time.monotonic() < deadline:
        worker.drain()
        time.sleep(0.02)
    assert not _unsent(db), "every post is sent"

    for channel in (CHANNEL, SECOND):
        calls = [c for c in fake_slack.calls if c.params.get("channel") == channel and c.method in ("chat.postMessage", "chat.update")]
        delivered = [c for c in calls if not c.failed]
        assert any(c.failed for c in calls), f"{channel}: the scripted failures happened"
        assert _signature(db, delivered) == _expected(db, channel), f"{channel}: each post once, in order"
        assert pace is not None
        window = pace.per.total_seconds()
        for earlier, later in zip(delivered, delivered[pace.items:], strict=False):
            assert later.at - earlier.at >= window - 0.01, f"{channel}: more than {pace.items} posts in {window} s"
        for n, call in enumerate(calls[:-1]):
            if call.error == "ratelimited":
                assert calls[n + 1].at - call.at >= 1.0, f"{channel}: Retry-After honoured"


def _unsent(db: Database) -> int:
    with db.transaction() as session:
        statuses = session.scalars(select(OutboxItem.status).where(OutboxItem.kind == OutboxKind.SLACK_POST)).all()
    assert OutboxStatus.FAILED not in statuses
    return sum(s is OutboxStatus.PENDING for s in statuses)


def _signature(db: Database, calls: list[Call]) -> list[tuple[str, Any]]:
    """Each delivered call as ``_expected`` describes it, from what reached the fake."""
    with db.transaction() as session:
        card_of = {ts: interview_id for interview_id, ts in session.execute(select(Interview.id, Interview.slack_card_ts)) if ts}
    signature: list[tuple[str, Any]] = []
    for call in calls:
        if "thread_ts" in call.params:
            signature.append((call.method, ("note", card_of.get(call.params["thread_ts"]), call.params["text"])))
        elif call.ts in card_of:  # the card's first post, or an edit of it
            signature.append((call.method, ("card", card_of[call.ts])))
        else:
            signature.append((call.method, call.params["text"]))
    return signature
