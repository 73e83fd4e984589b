"""`/interviews invite`: the modal, its inline errors, and the channel post through the outbox."""

import json

from slack_sdk import WebClient
from sqlalchemy import func, select

from blocks.ids import ChannelRef
from bot.jobs.deliverers import SlackPostDeliverer
from bot.jobs.outbox_worker import OutboxWorker
from bot.services import Services
from storage.db import Database
from storage.enums import OutboxKind
from storage.models import OutboxItem, Participant
from tests.conftest import (
    ADA,
    BOT_TOKEN,
    CHANNEL,
    OUTSIDER,
    WORKSPACE,
    MovableClock,
    Seed,
    SlackClient,
)
from tests.support import slack_requests
from tests.support.blockkit import assert_valid_view


def _submit(slack: SlackClient, people: str, *, send_email: bool = True, view_id: str = "V0INVITE", user: str = ADA) -> dict:
    options = {"selected_options": [{"value": "send_email", "text": {"type": "plain_text", "text": "Email"}}] if send_email else []}
    body = slack_requests.view_submission(
        "invite_participants", user_id=user, team_id=WORKSPACE, view_id=view_id,
        private_metadata=ChannelRef(channel_id=CHANNEL).encode(),
        state_values={"invite.people": {"people": {"type": "plain_text_input", "value": people}},
                      "invite.options": {"options": {"type": "checkboxes", **options}}},
    )
    response = slack.post(body)
    assert response.status_code == 200
    return response.json() if response.content else {}


def _participants(db: Database) -> int:
    with db.transaction() as session:
        return session.scalar(select(func.count()).select_from(Participant)) or 0


def test_invite_opens_a_modal_with_the_email_preview(slack: SlackClient, seeded: Seed) -> None:
    assert slack.command("invite").status_code == 200
    view = slack.fake.wait_for("views.open")[0].params["view"]
    assert_valid_view(view)
    text = json.dumps(view)
    assert "Checkout redesign" in text and "Alex" in text and "/s/" in text


def test_outsiders_and_channels_without_a_study_get_a_reply_not_a_modal(slack: SlackClient, seeded: Seed) -> None:
    assert "Only the research team" in slack.command("invite", user=OUTSIDER).json()["text"]
    assert "no study yet" in slack.command("invite", channel="C0ELSEWHERE").json()["text"]
    assert slack.fake.calls_to("views.open") == []


def test_submission_adds_people_and_posts_once_to_the_channel(slack: SlackClient, seeded: Seed, db: Database, clock: MovableClock, services: Services) -> None:
    people = "Ava Lind <ava@example.com>\nnora@example.com\nnot-an-email\n"
    assert _submit(slack, people) == {}
    assert _submit(slack, people) == {}  # Slack retried the same submission
    assert _participants(db) == 3

    client = WebClient(token=BOT_TOKEN, base_url=slack.fake.api_url)
    worker = OutboxWorker(db, clock, {OutboxKind.SLACK_POST: SlackPostDeliverer(client, db, clock)})
    worker.drain()
    [post] = slack.fake.calls_to("chat.postMessage")
    assert post.params["channel"] == CHANNEL
    # Nora was already in the study but had never been emailed her link: she gets it too.
    assert f"<@{ADA}> added 1 participant to *Checkout redesign* and emailed 2 their scheduling links." in post.params["text"]
    assert "1 was already in the study" in post.params["text"] and "not-an-email" in post.params["text"]
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(OutboxItem).where(OutboxItem.kind == OutboxKind.EMAIL)) == 2


def test_nothing_readable_gets_an_inline_error_and_changes_nothing(slack: SlackClient, seeded: Seed, db: Database) -> None:
    reply = _submit(slack, "bob at example dot com")
    assert reply["response_action"] == "errors" and "valid email" in reply["errors"]["invite.people"]
    assert _submit(slack, "   ")["errors"]["invite.people"] == "Add at least one email address."
    assert _participants(db) == 2


def test_a_crafted_submission_from_an_outsider_adds_no_one(slack: SlackClient, seeded: Seed, db: Database) -> None:
    reply = _submit(slack, "eve@example.com", user=OUTSIDER)
    assert reply["response_action"] == "errors" and "Only the research team" in reply["errors"]["invite.people"]
    assert _participants(db) == 2
