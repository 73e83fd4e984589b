"""Interview cards in the study channel: posted once, edited in place, changes told in the thread."""

import json
from datetime import timedelta

import pytest
from slack_sdk import WebClient
from sqlalchemy import select

from bot.jobs.deliverers import SlackPostDeliverer
from bot.jobs.outbox_worker import OutboxWorker
from bot.services import Services
from storage.db import Database
from storage.enums import OutboxKind, OutboxStatus
from storage.models import Interview, OutboxItem, Participant
from tests.conftest import BOT_TOKEN, CHANNEL, MovableClock, Seed
from tests.support.fake_slack import FakeSlackAPI


@pytest.fixture
def worker(db: Database, clock: MovableClock, fake_slack: FakeSlackAPI) -> OutboxWorker:
    client = WebClient(token=BOT_TOKEN, base_url=fake_slack.api_url)
    return OutboxWorker(db, clock, {OutboxKind.SLACK_POST: SlackPostDeliverer(client, db, clock)})


def _nora_books(services: Services, clock: MovableClock) -> tuple[str, int]:
    clock.now = clock.now.replace(hour=6)
    with services.db.transaction() as session:
        nora_id = session.scalars(select(Participant.id).where(Participant.email == "nora@example.com")).one()
    token = services.participants.scheduling_link(nora_id).rsplit("/", 1)[-1]
    booking = services.portal.book(token, services.portal.slots(token)[0].start, "Europe/Berlin")
    return token, booking.interview_id


def test_booking_posts_one_card_and_stores_where_it_is(services: Services, seeded: Seed, clock: MovableClock, worker: OutboxWorker, fake_slack: FakeSlackAPI, db: Database) -> None:
    _, interview_id = _nora_books(services, clock)
    worker.drain()
    [post] = fake_slack.calls_to("chat.postMessage")
    assert post.params["channel"] == CHANNEL
    card = json.dumps(post.params["blocks"], ensure_ascii=False)
    assert "Checkout redesign" in card and "Nora Quist" in card and "View details" in card and "Join meeting" in card
    with db.transaction() as session:
        interview = session.get(Interview, interview_id)
        assert interview.slack_card_channel_id == CHANNEL and interview.slack_card_ts


def test_reschedule_edits_the_card_and_tells_the_thread(services: Services, seeded: Seed, clock: MovableClock, worker: OutboxWorker, fake_slack: FakeSlackAPI, db: Database) -> None:
    token, interview_id = _nora_books(services, clock)
    worker.drain()
    new_start = services.portal.slots(token)[4].start
    services.portal.reschedule(token, new_start, "Europe/Berlin", None)
    worker.drain()

    with db.transaction() as session:
        ts = session.get(Interview, interview_id).slack_card_ts
    [update] = fake_slack.calls_to("chat.update")
    assert update.params["ts"] == ts and f"<!date^{int(new_start.timestamp())}^" in json.dumps(update.params["blocks"])
    note = fake_slack.calls_to("chat.postMessage")[-1]
    assert note.params["thread_ts"] == ts and "Nora Quist rescheduled to" in note.params["text"]


def test_cancellation_strikes_the_card_through_and_removes_its_buttons(services: Services, seeded: Seed, clock: MovableClock, worker: OutboxWorker, fake_slack: FakeSlackAPI) -> None:
    token, _ = _nora_books(services, clock)
    worker.drain()
    services.portal.cancel(token, "Moving house")
    worker.drain()
    blocks = fake_slack.calls_to("chat.update")[-1].params["blocks"]
    text = json.dumps(blocks, ensure_ascii=False)
    assert "~*" in text and "Canceled" in text and "Moving house" in text
    assert not any(b["type"] == "actions" for b in blocks)
    assert "Nora Quist canceled: “Moving house”" in fake_slack.calls_to("chat.postMessage")[-1].params["text"]


def test_slack_errors_are_retried_without_a_second_card(services: Services, seeded: Seed, clock: MovableClock, worker: OutboxWorker, fake_slack: FakeSlackAPI, db: Database) -> None:
    _nora_books(services, clock)

    def card_item() -> OutboxItem:
        with db.transaction() as session:
            return session.scalars(select(OutboxItem).where(OutboxItem.kind == OutboxKind.SLACK_POST)).one()

    fake_slack.fail_next("chat.postMessage", status=500)
    worker.drain()
    assert card_item().status is OutboxStatus.PENDING and card_item().attempts == 1
    fake_slack.fail_next("chat.postMessage", status=429, retry_after=120)
    clock.advance(minutes=10)
    worker.drain()
    waiting = card_item()
    assert waiting.available_at - clock() >= timedelta(seconds=120) and waiting.last_error == "Slack: ratelimited"
    clock.advance(minutes=5)
    worker.drain()
    assert card_item().status is OutboxStatus.SENT
    assert len([c for c in fake_slack.calls_to("chat.postMessage") if not c.failed]) == 1


def test_a_channel_the_bot_cannot_post_in_fails_for_good_with_the_reason(services: Services, seeded: Seed, clock: MovableClock, worker: OutboxWorker, fake_slack: FakeSlackAPI, db: Database) -> None:
    _nora_books(services, clock)
    fake_slack.fail_next("chat.postMessage", status=200, error="not_in_channel")
    worker.drain()
    with db.transaction() as session:
        item = session.scalars(select(OutboxItem).where(OutboxItem.kind == OutboxKind.SLACK_POST)).one()
        assert item.status is OutboxStatus.FAILED and item.last_error == "Slack: not_in_channel"
