"""`/interviews book`: the modal, inline refusals from the shared booking checks, and the channel post."""

import json
from datetime import datetime

from slack_sdk import WebClient
from sqlalchemy import func, select

from blocks.ids import ChannelRef
from bot.jobs.deliverers import SlackPostDeliverer
from bot.jobs.outbox_worker import OutboxWorker
from bot.services import Services
from storage.db import Database
from storage.enums import OutboxKind
from storage.models import Interview
from tests.conftest import (
    ADA,
    BO,
    BOT_TOKEN,
    CHANNEL,
    CLI,
    OUTSIDER,
    WORKSPACE,
    MovableClock,
    Seed,
    SlackClient,
    berlin,
)
from tests.support import slack_requests
from tests.support.blockkit import assert_valid_view


def _submit(slack: SlackClient, seed: Seed, *, participant: str | None, when: datetime | None, host: str | None, override: bool = False, user: str = ADA, view_id: str = "V0BOOK") -> dict:
    def select_value(value: str | None) -> dict:
        return {"type": "static_select", "selected_option": {"value": value, "text": {"type": "plain_text", "text": value}} if value else None}

    state = {
        "book.participant": {"value": select_value(participant)},
        "book.when": {"value": {"type": "datetimepicker", "selected_date_time": int(when.timestamp()) if when else None}},
        "book.host": {"value": select_value(host)},
        "book.override": {"value": {"type": "checkboxes", "selected_options": [{"value": "override_availability"}] if override else []}},
    }
    body = slack_requests.view_submission(
        "book_interview", user_id=user, team_id=WORKSPACE, view_id=view_id, state_values=state,
        private_metadata=ChannelRef(channel_id=CHANNEL, study_id=seed.study_id).encode(),
    )
    response = slack.post(body)
    assert response.status_code == 200
    return response.json() if response.content else {}


def _interviews(db: Database) -> int:
    with db.transaction() as session:
        return session.scalar(select(func.count()).select_from(Interview)) or 0


def test_book_opens_a_modal_listing_participants_without_an_interview(slack: SlackClient, services: Services, seeded: Seed) -> None:
    services.booking.book(study_ref=seeded.study_id, participant_email="otto@example.com", starts_at=berlin(6, 10), host_id=ADA, actor=CLI)
    slack.command("book")
    view = slack.fake.wait_for("views.open")[0].params["view"]
    assert_valid_view(view)
    text = json.dumps(view)
    assert "nora@example.com" in text and "otto@example.com" not in text
    assert "datetimepicker" in text


def test_a_valid_submission_books_and_posts_the_card_to_the_channel(slack: SlackClient, seeded: Seed, db: Database, clock: MovableClock) -> None:
    when = berlin(6, 10)
    assert _submit(slack, seeded, participant="nora@example.com", when=when, host=ADA) == {}
    assert _submit(slack, seeded, participant="nora@example.com", when=when, host=ADA)["response_action"] == "errors"  # a second booking
    assert _interviews(db) == 1
    client = WebClient(token=BOT_TOKEN, base_url=slack.fake.api_url)
    OutboxWorker(db, clock, {OutboxKind.SLACK_POST: SlackPostDeliverer(client, db, clock)}).drain()
    [card] = slack.fake.calls_to("chat.postMessage")
    assert card.params["channel"] == CHANNEL
    blocks = json.dumps(card.params["blocks"])
    assert f"<!date^{int(when.timestamp())}^" in blocks and "Nora Quist" in blocks


def test_refusals_appear_next_to_the_field_and_book_nothing(slack: SlackClient, seeded: Seed, db: Database) -> None:
    outside = _submit(slack, seeded, participant="nora@example.com", when=berlin(6, 20), host=ADA)
    assert "outside the study's availability" in outside["errors"]["book.when"]
    past = _submit(slack, seeded, participant="nora@example.com", when=berlin(1, 10), host=ADA)
    assert "already passed" in past["errors"]["book.when"]
    missing = _submit(slack, seeded, participant=None, when=None, host=BO)
    assert set(missing["errors"]) == {"book.participant", "book.when"}
    not_a_host = _submit(slack, seeded, participant="nora@example.com", when=berlin(6, 10), host="U0NOTHOST")
    assert "not a host" in not_a_host["errors"]["book.host"]
    assert _interviews(db) == 0
    assert _submit(slack, seeded, participant="nora@example.com", when=berlin(6, 20), host=ADA, override=True) == {}
    assert _interviews(db) == 1


def test_outsiders_cannot_book_even_with_a_crafted_submission(slack: SlackClient, seeded: Seed, db: Database) -> None:
    assert "Only the research team" in slack.command("book", user=OUTSIDER).json()["text"]
    crafted = _submit(slack, seeded, participant="nora@example.com", when=berlin(6, 10), host=ADA, user=OUTSIDER)
    assert crafted["response_action"] == "errors"
    assert _interviews(db) == 0
