"""Observer room, observer bot and screener responses from Slack: signed requests to the real app,
the fake Slack Web API, and a real local notetaker server that checks nothing itself."""

import json
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from blocks.ids import ActionChoice
from blocks.screener_responses import screener_view
from bot.actions import InterviewAction
from bot.composition import build_outbox_worker
from bot.integrations.notetaker import verify
from bot.services import Services
from bot.settings import Settings
from storage.db import Database
from storage.enums import ActivityKind, InterviewStatus, OutboxKind
from storage.models import ActivityEvent, Interview, OutboxItem, Participant, Study
from tests.conftest import ADA, CLI, OUTSIDER, MovableClock, Seed, SlackClient, berlin
from tests.support.blockkit import MAX_VIEW_BLOCKS, assert_valid_message, assert_valid_view
from tests.support.fake_notetaker import FakeNotetaker

SECRET = "notetaker-shared-secret"
MEETING = "https://meet.example.com/ada"


@pytest.fixture
def notetaker_secret(request: pytest.FixtureRequest) -> str | None:
    return getattr(request, "param", SECRET)


@pytest.fixture
def settings(settings: Settings, notetaker_secret: str | None) -> Settings:
    return settings.model_copy(update={"notetaker_secret": SecretStr(notetaker_secret) if notetaker_secret else None})


@pytest.fixture
def notetaker() -> Iterator[FakeNotetaker]:
    with FakeNotetaker() as fake:
        yield fake


def _book(services: Services, seed: Seed, email: str = "nora@example.com") -> int:
    return services.booking.book(study_ref=seed.study_id, participant_email=email, starts_at=berlin(6, 10), host_id=ADA, actor=CLI).interview_id


def _set_study(db: Database, seed: Seed, **values: Any) -> None:
    with db.transaction() as session:
        study = session.get(Study, seed.study_id)
        for name, value in values.items():
            setattr(study, name, value)


def _choose(slack: SlackClient, action: InterviewAction, interview_id: int, *, user: str = ADA, seen_hour: int = 10, **kw: Any) -> None:
    choice = ActionChoice(action=action, interview_id=interview_id, seen_start=int(berlin(6, seen_hour).timestamp()),
                          seen_status=InterviewStatus.UPCOMING).encode()
    response = slack.action("interview.more", user=user, action_type="static_select", selected_option_value=choice, **kw)
    assert response.status_code == 200


def _text(payload: Any) -> str:
    return json.dumps(payload, ensure_ascii=False)


def _notetaker_items(db: Database) -> list[OutboxItem]:
    with db.transaction() as session:
        return list(session.scalars(select(OutboxItem).where(OutboxItem.kind == OutboxKind.NOTETAKER)))


def _bot_events(db: Database) -> list[ActivityEvent]:
    with db.transaction() as session:
        return list(session.scalars(select(ActivityEvent).where(ActivityEvent.kind == ActivityKind.OBSERVER_BOT_SENT).order_by(ActivityEvent.id)))


# ---------------------------------------------------------------- observer room


def test_observer_room_link_is_shown_only_to_the_teammate(slack: SlackClient, services: Services, seeded: Seed, db: Database) -> None:
    _set_study(db, seeded, observer_url="https://observe.example.com/checkout?room=1&x=2")
    interview_id = _book(services, seeded)

    _choose(slack, InterviewAction.OBSERVER_ROOM, interview_id)

    reply = slack.fake.wait_for("response_url")[0].params
    assert reply["response_type"] == "ephemeral" and reply["replace_original"] is False
    assert_valid_message(reply["blocks"])
    [button] = [b["accessory"] for b in reply["blocks"] if "accessory" in b]
    assert button["url"] == "https://observe.example.com/checkout?room=1&x=2"
    assert button["action_id"] == "interview.observer_room_link"
    assert slack.fake.calls_to("chat.postMessage") == []  # nothing in the channel

    # The link button still sends an action: it is acknowledged, and nothing else happens.
    assert slack.action("interview.observer_room_link", value=button["value"]).status_code == 200


def test_observer_room_inside_the_details_modal_is_pushed_on_top(slack: SlackClient, services: Services, seeded: Seed, db: Database) -> None:
    _set_study(db, seeded, observer_url="https://observe.example.com/checkout")
    interview_id = _book(services, seeded)
    details = {"id": "V0DETAILS", "type": "modal", "callback_id": "interview_details", "blocks": []}

    _choose(slack, InterviewAction.OBSERVER_ROOM, interview_id, channel=None, view=details)

    pushed = slack.fake.wait_for("views.push")[0].params["view"]
    assert_valid_view(pushed)
    assert "https://observe.example.com/checkout" in _text(pushed)


def test_without_an_observer_room_the_teammate_is_told_how_to_add_one(slack: SlackClient, services: Services, seeded: Seed) -> None:
    interview_id = _book(services, seeded)

    _choose(slack, InterviewAction.OBSERVER_ROOM, interview_id)

    text = slack.fake.wait_for("response_url")[0].params["text"]
    assert "has no observer room yet" in text and "/interviews setup" in text and f"--study {seeded.study_id} --observer-url" in text


# ---------------------------------------------------------------- observer bot


def test_observer_bot_is_sent_with_a_signed_request_and_the_outcome_is_shown(slack: SlackClient, services: Services, seeded: Seed, db: Database, notetaker: FakeNotetaker, settings: Settings) -> None:
    _set_study(db, seeded, notetaker_url=notetaker.url)
    interview_id = _book(services, seeded)

    _choose(slack, InterviewAction.SEND_OBSERVER_BOT, interview_id)

    working = slack.fake.wait_for("views.open")[0].params["view"]
    assert_valid_view(working)
    assert "Sending the notetaker's bot" in _text(working) and "⏳ Sending 1 update" in _text(working)
    [update] = [c.params for c in slack.fake.wait_for("views.update")]
    assert update["view_id"]  # the "working…" modal, now showing the outcome
    assert_valid_view(update["view"])
    assert "✓ The notetaker took the request" in _text(update["view"])

    [request] = notetaker.received
    assert verify(SECRET, request.headers, request.body)
    body = request.json
    assert body["meeting_url"] == MEETING and body["interview"]["participants"] == ["Nora Quist"]
    assert body["interview"]["study"] == "Checkout redesign" and body["requested_by"]["slack_user_id"] == ADA
    assert "@example.com" not in request.body.decode()

    [event] = _bot_events(db)
    assert event.details == {"ok": True} and event.actor_slack_user_id == ADA

    build_outbox_worker(settings, services).drain()  # the tick: the card, then the note in its thread
    note = slack.fake.calls_to("chat.postMessage")[-1]
    with db.transaction() as session:
        assert note.params["thread_ts"] == session.get(Interview, interview_id).slack_card_ts
    assert note.params["text"] == f"The observer bot was sent to the meeting by <@{ADA}>."


def test_a_double_click_sends_the_bot_once(slack: SlackClient, services: Services, seeded: Seed, db: Database, notetaker: FakeNotetaker) -> None:
    _set_study(db, seeded, notetaker_url=notetaker.url)
    interview_id = _book(services, seeded)

    _choose(slack, InterviewAction.SEND_OBSERVER_BOT, interview_id)
    slack.fake.wait_for("views.update")
    _choose(slack, InterviewAction.SEND_OBSERVER_BOT, interview_id)

    again = slack.fake.wait_for("response_url")[0].params["text"]
    assert "already sent to this meeting" in again and "nothing was sent again" in again
    assert len(notetaker.received) == 1 and len(_notetaker_items(db)) == 1 and len(_bot_events(db)) == 1
    assert len(slack.fake.calls_to("views.open")) == 1


def test_a_notetaker_failure_is_retried_later_and_the_outcome_says_so(slack: SlackClient, services: Services, seeded: Seed, db: Database, notetaker: FakeNotetaker, settings: Settings, clock: MovableClock) -> None:
    _set_study(db, seeded, notetaker_url=notetaker.url)
    interview_id = _book(services, seeded)
    notetaker.answer_next(500)

    _choose(slack, InterviewAction.SEND_OBSERVER_BOT, interview_id)

    outcome = _text(slack.fake.wait_for("views.update")[0].params["view"])
    assert "did not take it yet" in outcome and "HTTP 500" in outcome and "try again automatically" in outcome
    assert _bot_events(db) == []

    clock.advance(minutes=5)
    build_outbox_worker(settings, services).drain()  # the tick, once the retry is due
    assert len(notetaker.received) == 2 and verify(SECRET, notetaker.received[1].headers, notetaker.received[1].body)
    assert [e.details["ok"] for e in _bot_events(db)] == [True]
    assert slack.fake.calls_to("chat.postMessage")[-1].params["text"].startswith("The observer bot was sent")


def test_a_refusal_is_told_in_the_modal_the_timeline_and_the_thread(slack: SlackClient, services: Services, seeded: Seed, db: Database, notetaker: FakeNotetaker, settings: Settings) -> None:
    _set_study(db, seeded, notetaker_url=notetaker.url)
    interview_id = _book(services, seeded)
    notetaker.answer_next(403, body="bad <signature>")

    _choose(slack, InterviewAction.SEND_OBSERVER_BOT, interview_id)

    outcome = _text(slack.fake.wait_for("views.update")[0].params["view"])
    assert "✗ The bot could not be sent" in outcome and "HTTP 403" in outcome and "bad &lt;signature&gt;" in outcome
    [event] = _bot_events(db)
    assert event.details["ok"] is False and "HTTP 403" in event.details["error"]
    build_outbox_worker(settings, services).drain()
    assert "could not be sent to the meeting (the notetaker refused" in slack.fake.calls_to("chat.postMessage")[-1].params["text"]


def test_without_a_notetaker_the_teammate_is_told_what_to_configure(slack: SlackClient, services: Services, seeded: Seed, db: Database) -> None:
    interview_id = _book(services, seeded)

    _choose(slack, InterviewAction.SEND_OBSERVER_BOT, interview_id)

    text = slack.fake.wait_for("response_url")[0].params["text"]
    assert "No notetaker is set up" in text and "--notetaker-url" in text
    assert _notetaker_items(db) == [] and slack.fake.calls_to("views.open") == []


@pytest.mark.parametrize("notetaker_secret", [None], indirect=True)
def test_without_the_secret_nothing_is_queued(slack: SlackClient, services: Services, seeded: Seed, db: Database, notetaker: FakeNotetaker) -> None:
    _set_study(db, seeded, notetaker_url=notetaker.url)
    interview_id = _book(services, seeded)

    _choose(slack, InterviewAction.SEND_OBSERVER_BOT, interview_id)

    assert "NOTETAKER_SECRET" in slack.fake.wait_for("response_url")[0].params["text"]
    assert _notetaker_items(db) == [] and notetaker.received == []


def test_an_outsider_cannot_send_the_bot(slack: SlackClient, services: Services, seeded: Seed, db: Database, notetaker: FakeNotetaker) -> None:
    _set_study(db, seeded, notetaker_url=notetaker.url)
    interview_id = _book(services, seeded)

    _choose(slack, InterviewAction.SEND_OBSERVER_BOT, interview_id, user=OUTSIDER)

    assert "Only the research team" in slack.fake.wait_for("response_url")[0].params["text"]
    assert _notetaker_items(db) == [] and notetaker.received == [] and slack.fake.calls_to("views.open") == []


def test_a_stale_view_says_what_changed_and_sends_nothing(slack: SlackClient, services: Services, seeded: Seed, db: Database, notetaker: FakeNotetaker) -> None:
    _set_study(db, seeded, notetaker_url=notetaker.url)
    interview_id = _book(services, seeded)

    _choose(slack, InterviewAction.SEND_OBSERVER_BOT, interview_id, seen_hour=9)  # shown before a move to 10:00

    assert "was moved" in slack.fake.wait_for("response_url")[0].params["text"]
    assert _notetaker_items(db) == [] and notetaker.received == []


# ---------------------------------------------------------------- screener responses


def _screen_nora(services: Services, db: Database, seed: Seed) -> None:
    _set_study(db, seed, immediate_scheduling=True, participant_limit=2, screener=[
        {"id": "q1", "question": "How often do you shop online?", "choices": ["Weekly", "Rarely"], "qualifying": ["Weekly"]},
        {"id": "q2", "question": "What annoys you <most>?", "choices": [], "qualifying": []},
    ])
    with db.transaction() as session:
        nora_id = session.scalars(select(Participant.id).where(Participant.email == "nora@example.com")).one()
    token = services.participants.scheduling_link(nora_id).rsplit("/", 1)[-1]
    services.screener.submit(token, {"q1": "Weekly", "q2": "Forms that <b>forget</b> me & *my* <@U0ADA> card"})


def test_screener_responses_are_pushed_over_the_details_escaped(slack: SlackClient, services: Services, seeded: Seed, db: Database) -> None:
    _screen_nora(services, db, seeded)
    interview_id = _book(services, seeded)
    _set_study(db, seeded, immediate_scheduling=False)
    _book(services, seeded, "otto@example.com")  # the same group slot, booked without the screener
    details = {"id": "V0DETAILS", "type": "modal", "callback_id": "interview_details", "blocks": []}

    _choose(slack, InterviewAction.SCREENER_RESPONSES, interview_id, channel=None, view=details)

    view = slack.fake.wait_for("views.push")[0].params["view"]
    assert_valid_view(view)
    assert view["title"]["text"] == "Screener responses"
    text = _text(view)
    assert "*Nora Quist* · ✓ Qualified" in text and "*How often do you shop online?*\\nWeekly" in text
    assert "What annoys you &lt;most&gt;?" in text
    assert "Forms that &lt;b&gt;forget&lt;/b&gt; me &amp; *my* &lt;@U0ADA&gt; card" in text and "<b>" not in text
    assert "*Otto Berg* · not answered" in text and "No screener answers yet." in text


def test_screener_responses_from_a_message_open_a_modal_and_outsiders_see_nothing(slack: SlackClient, services: Services, seeded: Seed, db: Database) -> None:
    _screen_nora(services, db, seeded)
    interview_id = _book(services, seeded)

    _choose(slack, InterviewAction.SCREENER_RESPONSES, interview_id, user=OUTSIDER)
    assert "Only the research team" in slack.fake.wait_for("response_url")[0].params["text"]
    assert slack.fake.calls_to("views.open") == []

    _choose(slack, InterviewAction.SCREENER_RESPONSES, interview_id)
    assert "Weekly" in _text(slack.fake.wait_for("views.open")[0].params["view"])


def test_many_long_answers_are_cut_to_fit_one_modal() -> None:
    answer = SimpleNamespace(question="Q? " * 400, answer="<long> " * 1000)
    people = [SimpleNamespace(name=f"Person {i}", qualified=True, answers=[answer] * 5) for i in range(40)]
    data = SimpleNamespace(study_name="Study", session_name="Session", starts_at=berlin(6, 10), participants=people)

    view = screener_view(data).to_dict()

    assert_valid_view(view)
    assert len(view["blocks"]) <= MAX_VIEW_BLOCKS
    text = _text(view)
    assert "…and " in text and "more participants, not shown here" in text and "<long>" not in text
    one = screener_view(SimpleNamespace(study_name="S", session_name="S", starts_at=berlin(6, 10),
                                        participants=[SimpleNamespace(name="P", qualified=False, answers=[answer] * 150)])).to_dict()
    assert len(one["blocks"]) <= MAX_VIEW_BLOCKS and "more answers, not shown here" in _text(one)
    assert_valid_view(one)
