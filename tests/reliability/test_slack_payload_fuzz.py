"""Every Slack payload shape the app takes, fuzzed, against the real app over signed HTTP.

Slash commands, ``block_actions`` of every action id family in ``blocks/ids.py``,
``view_submission`` of every callback id, ``view_closed`` and events, each built the way Slack
builds it and then mutated (fields removed, retyped, filled with very long, non-Latin or hostile
text); plus bodies that are not Slack payloads at all, under every content type. Signed
correctly, so each reaches the app's own parsing. For every one of them:

* the app never answers 5xx: 200 (with a friendly ephemeral answer, a modal or inline errors),
  400 for an envelope it cannot read, or Bolt's 404 where no listener matches at all;
* nothing changes in the database (whole-database snapshots, checked again once every
  listener has finished), and nothing is posted to a channel: refusals only reach the person.

The requests are ones that must change nothing: those of people outside the research team, from
another workspace, or carrying a stale view; payloads of the team's own members only read.
One app and one database serve all examples of a test.
"""

import json
from typing import Any
from urllib.parse import urlencode

import httpx
from hypothesis import given
from hypothesis import strategies as st

from blocks.email_modals import PREVIEW_ACTION
from blocks.ids import (
    ActionChoice,
    ActionId,
    ActionModalState,
    CalendarRef,
    CallbackId,
    ChannelRef,
    InterviewRef,
    ListPosition,
    SetupTarget,
    TimelinePosition,
    action_button_id,
)
from bot.actions import InterviewAction
from bot.server import MAX_SLACK_BODY
from tests.conftest import ADA, CHANNEL, OUTSIDER, WORKSPACE
from tests.reliability import Snapshot, assert_unchanged, fuzz_settings
from tests.reliability.slack_fuzz import (
    ACTION_MODALS,
    form_fields,
    form_payload,
    hostile_text,
    junk,
    mutated,
    payload_of,
    state_values,
)
from tests.reliability.world import RunningApp, signed
from tests.support import slack_requests
from tests.support.blockkit import view_errors
from tests.support.fake_slack import RESPONSE_URL_METHOD, FakeSlackAPI

OTHER_WORKSPACE = "T0OTHER"
UNHANDLED = {"error": "unhandled request"}  # Bolt's answer when no listener matches
SUBMISSION_ANSWERS = {"errors", "update", "push", "clear"}

# Who sends a request that must change nothing: not on the team, or on it in another workspace.
STRANGERS = [(OUTSIDER, WORKSPACE), (ADA, OTHER_WORKSPACE)]


# ---------------------------------------------------------------- what the app must answer


def assert_within_contract(response: httpx.Response) -> None:
    """No 5xx; 200 with an answer Slack understands, 400 for a bad envelope, or Bolt's 404
    (413 for a body larger than any Slack sends)."""
    assert response.status_code < 500, f"{response.status_code}: {response.text[:500]}"
    if len(response.request.content) > MAX_SLACK_BODY:
        assert response.status_code == 413
        return
    assert response.status_code in (200, 400, 404), f"{response.status_code}: {response.text[:500]}"
    if response.status_code == 404:
        assert response.json() == UNHANDLED
    if response.status_code != 200 or not response.content:
        return
    answer = response.json()
    if "response_action" in answer:
        assert answer["response_action"] in SUBMISSION_ANSWERS, answer
        if answer["response_action"] == "errors":
            assert answer["errors"] and all(isinstance(v, str) and v for v in answer["errors"].values())
        if "view" in answer:
            assert view_errors(answer["view"]) == [], answer["view"]
    if "response_type" in answer:
        assert answer["response_type"] == "ephemeral", answer


def assert_only_the_sender_was_told(fake: FakeSlackAPI) -> None:
    """Refusals and read-only answers reach the person who asked, never a channel."""
    assert fake.calls_to("chat.postMessage") == [] and fake.calls_to("chat.update") == []
    for call in fake.calls_to(RESPONSE_URL_METHOD):
        assert call.params.get("response_type", "ephemeral") == "ephemeral" or call.params.get("replace_original"), call.params


def assert_settled_and_unchanged(app: RunningApp, before: Snapshot) -> None:
    app.settle()
    assert_unchanged(app.db, before)
    assert_only_the_sender_was_told(app.fake)
    assert app.fake.block_errors == []


# ---------------------------------------------------------------- payloads as Slack sends them


def choice(app: RunningApp, action: InterviewAction, *, stale: bool = False) -> ActionChoice:
    # A stale view: the interview as shown a day later than it is, which every action refuses.
    seen = app.seen_start + (86_400 if stale else 0)
    return ActionChoice(action=action, interview_id=app.interview_id, seen_start=seen)


def block_action(app: RunningApp, action_id: str, value: str | None, sender: tuple[str, str], *,
                 menu: bool = False, view: dict[str, Any] | None = None) -> dict[str, Any]:
    user, team = sender
    body = slack_requests.block_actions(
        action_id, value=value, user_id=user, team_id=team, channel_id=None if view else CHANNEL,
        response_url=None if view else app.response_url(), view=view,
        action_type="static_select" if menu else "button",
    )
    return payload_of(body)


def action_payloads(app: RunningApp) -> list[dict[str, Any]]:
    """One ``block_actions`` of every action id family, from people who may not act or who only read."""
    details_view = {"id": "V0DETAILS", "type": "modal", "callback_id": CallbackId.INTERVIEW_DETAILS, "hash": "h1",
                    "blocks": [], "private_metadata": "", "state": {"values": {}}}
    compose = ActionModalState(choice=choice(app, InterviewAction.CUSTOM_EMAIL)).encode()
    compose_view = {"id": "V0COMPOSE", "type": "modal", "callback_id": CallbackId.COMPOSE_EMAIL, "hash": "h2",
                    "blocks": [], "private_metadata": compose, "state": {"values": {}}}
    setup = SetupTarget(channel_id=CHANNEL, study_id=app.people.study_id).encode()
    setup_view = {"id": "V0SETUP", "type": "modal", "callback_id": CallbackId.STUDY_SETUP, "hash": "h3",
                  "blocks": [], "private_metadata": setup, "state": {"values": {}}}
    me = (ADA, WORKSPACE)
    payloads = [
        *(block_action(app, nav, ListPosition(tab=tab).encode(), me)
          for nav, tab in [(ActionId.LIST_SHOW_UPCOMING, "upcoming"), (ActionId.LIST_SHOW_PAST, "past"),
                           (ActionId.LIST_NEXT, "upcoming"), (ActionId.LIST_PREVIOUS, "past")]),
        block_action(app, ActionId.VIEW_DETAILS, InterviewRef(interview_id=app.interview_id).encode(), me),
        *(block_action(app, nav, TimelinePosition(interview_id=app.interview_id).encode(), me, view=details_view)
          for nav in (ActionId.TIMELINE_NEWER, ActionId.TIMELINE_OLDER)),
        *(block_action(app, link, "https://meet.example.com/ada", me)
          for link in (ActionId.JOIN_MEETING, ActionId.OBSERVER_ROOM_LINK, ActionId.CALENDAR_CONSENT)),
        block_action(app, ActionId.SETUP_HOSTS, None, me, view=setup_view),
        block_action(app, PREVIEW_ACTION, "preview", me, view=compose_view),
        block_action(app, ActionId.CALENDAR_DISCONNECT, CalendarRef(team_id=app.people.team_id).encode(), STRANGERS[0]),
        block_action(app, ActionId.CALENDAR_DISCONNECT, CalendarRef(team_id=app.people.team_id).encode(), STRANGERS[1]),
    ]
    for action in InterviewAction:
        for sender in STRANGERS:
            value = choice(app, action).encode()
            payloads.append(block_action(app, ActionId.INTERVIEW_MORE, value, sender, menu=True))
            payloads.append(block_action(app, action_button_id(action), value, sender))
        stale = choice(app, action, stale=True).encode()
        payloads.append(block_action(app, action_button_id(action), stale, me, view=details_view))
    return payloads


def submission(callback_id: str, metadata: str, sender: tuple[str, str]) -> dict[str, Any]:
    user, team = sender
    body = slack_requests.view_submission(
        callback_id, state_values={}, private_metadata=metadata, user_id=user, team_id=team,
    )
    return payload_of(body)


def submission_payloads(app: RunningApp) -> list[dict[str, Any]]:
    """A ``view_submission`` of every callback id, from strangers, or from Ada on a stale view."""
    payloads = []
    for callback_id, action in ACTION_MODALS.items():
        current = ActionModalState(choice=choice(app, action)).encode()
        stale = ActionModalState(choice=choice(app, action, stale=True)).encode()
        payloads += [submission(callback_id, current, sender) for sender in STRANGERS]
        payloads.append(submission(callback_id, stale, (ADA, WORKSPACE)))
    channel = ChannelRef(channel_id=CHANNEL, study_id=app.people.study_id).encode()
    setup = SetupTarget(channel_id=CHANNEL, study_id=app.people.study_id).encode()
    for callback_id, metadata in [(CallbackId.INVITE, channel), (CallbackId.BOOK, channel),
                                  (CallbackId.STUDY_SETUP, setup)]:
        payloads += [submission(callback_id, metadata, sender) for sender in STRANGERS]
    # No listener: the details modal has no submit button, the outcome view is the result.
    payloads += [submission(CallbackId.INTERVIEW_DETAILS, "", (ADA, WORKSPACE)),
                 submission(CallbackId.OUTCOME, "", (ADA, WORKSPACE))]
    return payloads


def closed_payloads(app: RunningApp) -> list[dict[str, Any]]:
    """``view_closed`` (the app never asks for it, so no listener takes it)."""
    payloads = []
    for callback_id in [*ACTION_MODALS, CallbackId.INTERVIEW_DETAILS, CallbackId.STUDY_SETUP]:
        closed = submission(callback_id, "", (ADA, WORKSPACE))
        closed["type"] = "view_closed"
        closed["is_cleared"] = False
        payloads.append(closed)
    return payloads


def command_fields(app: RunningApp, text: str, sender: tuple[str, str]) -> dict[str, str]:
    user, team = sender
    return form_fields(slack_requests.slash_command(
        "/interviews", text, user_id=user, team_id=team, channel_id=CHANNEL, response_url=app.response_url(),
    ))


def event_payloads() -> list[dict[str, Any]]:
    home = {"type": "app_home_opened", "user": ADA, "channel": "D0ADA", "tab": "home",
            "event_ts": "1700000000.000100", "view": {"id": "V0HOME", "type": "home"}}
    return [
        json.loads(slack_requests.event_callback(home, team_id=WORKSPACE)),
        json.loads(slack_requests.event_callback({**home, "user": OUTSIDER}, team_id=WORKSPACE)),
        json.loads(slack_requests.event_callback({**home, "tab": "messages"}, team_id=OTHER_WORKSPACE)),
        json.loads(slack_requests.event_callback(
            {"type": "message", "user": ADA, "text": "hi", "channel": CHANNEL, "ts": "1.2"}, team_id=WORKSPACE,
        )),
        {"token": "x", "challenge": "c-1", "type": "url_verification"},
    ]


# ---------------------------------------------------------------- wrong-typed fields


# Each is a signed payload Slack would never send, with a field of the wrong type that Bolt reads
# assuming Slack's type before any listener runs (slack_bolt/request/internals.py:build_context,
# payload_utils.to_step), or that the listener matching reads (view.callback_id).
WRONG_TYPED = {
    "view without type": lambda p: p["view"].pop("type"),
    "view.type is a number": lambda p: p["view"].update(type=3),
    "view.callback_id is a number": lambda p: p["view"].update(callback_id=3),
    "callback_id is a list": lambda p: p.update(callback_id=["cancel"]),
    "a workflow step without workflow_step": lambda p: p["view"].update(type="workflow_step"),
    "enterprise is a boolean": lambda p: p.update(enterprise=True),
    "response_urls is null": lambda p: p.update(response_urls=None),
    "response_urls holds a string": lambda p: p.update(response_urls=["https://hooks.slack.com/x"]),
    "message.user is a number, no user": lambda p: (p.pop("user"), p.update(message={"user": 7})),
    "event.user is a boolean, no user": lambda p: (p.pop("user"), p.update(event={"type": "x", "user": True})),
    "previous_message is a string": lambda p: p.update(previous_message="hi"),
    "previous_message.user has no id, no user": lambda p: (p.pop("user"), p.update(previous_message={"user": {}})),
    "authorizations[0].enterprise is a number": lambda p: p.update(authorizations=[{"enterprise": 1}]),
}


def test_wrong_typed_fields_bolt_reads_get_a_400(app: RunningApp) -> None:
    answers = {}
    for name, spoil in WRONG_TYPED.items():
        payload = submission(CallbackId.CANCEL, "", (ADA, WORKSPACE))
        spoil(payload)
        body = form_payload(payload).encode()
        # A fresh connection each: uvicorn drops the connection of a request that failed.
        answers[name] = httpx.post(app.http.base_url.join("/slack/events"), content=body,
                                   headers=signed(body, slack_requests.FORM_CONTENT_TYPE)).status_code

    assert_settled_and_unchanged(app, app.initial)
    assert answers == dict.fromkeys(WRONG_TYPED, 400)


# ---------------------------------------------------------------- the properties


def test_every_payload_shape_unfuzzed_is_handled(app: RunningApp) -> None:
    """The fuzzing below starts from shapes that reach a listener: each is answered 200 (the ones
    with no listener by design excepted), and changes nothing."""
    shapes = [*action_payloads(app), *submission_payloads(app)]
    for payload in shapes:
        response = app.post(form_payload(payload))
        assert_within_contract(response)
        unhandled = payload["type"] == "view_submission" and payload["view"]["callback_id"] in (
            CallbackId.INTERVIEW_DETAILS, CallbackId.OUTCOME,
        )
        assert response.status_code == (404 if unhandled else 200), (payload, response.text)
    for fields in (command_fields(app, text, sender) for text in ["", "past", "help", "nonsense"] for sender in STRANGERS):
        response = app.post(urlencode(fields))
        assert response.status_code == 200 and response.json()["response_type"] == "ephemeral"
    for event in event_payloads()[:3]:
        assert app.post(json.dumps(event), content_type=slack_requests.JSON_CONTENT_TYPE).status_code == 200
    assert_settled_and_unchanged(app, app.initial)
    # Every refusal was answered where the person is: ephemeral replies or small modals.
    told = app.fake.calls_to(RESPONSE_URL_METHOD) + app.fake.calls_to("views.open") + app.fake.calls_to("views.push")
    assert len(told) >= len(STRANGERS) * len(InterviewAction)
    replies = " ".join(c.params.get("text", "") for c in app.fake.calls_to(RESPONSE_URL_METHOD))
    assert "Only the research team" in replies


def test_fuzzed_actions_and_submissions_are_answered_and_change_nothing(app: RunningApp) -> None:
    @fuzz_settings(60)
    @given(data=st.data())
    def fuzz(data: st.DataObject) -> None:
        shape = data.draw(st.sampled_from(["action", "submission", "closed"]), label="shape")
        if shape == "action":
            base = data.draw(st.sampled_from(action_payloads(app)), label="base")
        elif shape == "submission":
            base = data.draw(st.sampled_from(submission_payloads(app)), label="base")
            base["view"]["state"]["values"] = data.draw(state_values(), label="state")
        else:
            base = data.draw(st.sampled_from(closed_payloads(app)), label="base")
        payload = data.draw(st.just(base) | mutated(base), label="payload")

        assert_within_contract(app.post(form_payload(payload)))
        assert_unchanged(app.db, app.initial)

    fuzz()
    assert_settled_and_unchanged(app, app.initial)


def test_fuzzed_slash_commands_are_answered_and_change_nothing(app: RunningApp) -> None:
    words = st.sampled_from(["", "past", "upcoming", "help", "?", "setup", "invite", "book", "connect", "disconnect"])

    @fuzz_settings(30)
    @given(data=st.data())
    def fuzz(data: st.DataObject) -> None:
        text = data.draw(st.tuples(words, hostile_text).map(" ".join) | hostile_text, label="text")
        sender = data.draw(st.sampled_from([(ADA, WORKSPACE), *STRANGERS]), label="sender")
        fields: dict[str, Any] = command_fields(app, text, sender)
        for _ in range(data.draw(st.integers(0, 3), label="changes")):
            name = data.draw(st.sampled_from(sorted(fields)), label="field")
            if data.draw(st.booleans(), label="remove"):
                del fields[name]
            else:
                fields[name] = data.draw(hostile_text, label="value")
            if not fields:
                break

        assert_within_contract(app.post(urlencode(fields)))
        assert_unchanged(app.db, app.initial)

    fuzz()
    assert_settled_and_unchanged(app, app.initial)


def test_fuzzed_events_are_answered_and_change_nothing(app: RunningApp) -> None:
    @fuzz_settings(25)
    @given(data=st.data())
    def fuzz(data: st.DataObject) -> None:
        base = data.draw(st.sampled_from(event_payloads()), label="base")
        payload = data.draw(mutated(base), label="payload")

        assert_within_contract(app.post(json.dumps(payload), content_type=slack_requests.JSON_CONTENT_TYPE))
        assert_unchanged(app.db, app.initial)

    fuzz()
    assert_settled_and_unchanged(app, app.initial)


CONTENT_TYPES = [
    slack_requests.FORM_CONTENT_TYPE, slack_requests.JSON_CONTENT_TYPE, "text/plain", "application/xml",
    "multipart/form-data; boundary=xyz", "application/x-www-form-urlencoded; charset=latin-1", "",
]

not_slack_bodies = st.one_of(
    st.binary(max_size=200),
    hostile_text,
    junk.map(json.dumps),
    junk.map(lambda value: "payload=" + json.dumps(value)),
    junk.map(lambda value: form_payload({"type": "block_actions", "actions": value})),
    junk.map(lambda value: form_payload({"type": "view_submission", "view": value})),
    junk.map(lambda value: json.dumps({"type": "event_callback", "event": value})),
    st.sampled_from(["{", "payload=", "payload={", "payload=%7B%22type%22", "command=/interviews&command=/x",
                     "command=%2Finterviews&text=%FF", "\ufeffpayload={}"]),
)


def test_bodies_that_are_not_slack_payloads_get_4xx_and_change_nothing(app: RunningApp) -> None:
    @fuzz_settings(40)
    @given(body=not_slack_bodies, content_type=st.sampled_from(CONTENT_TYPES))
    def fuzz(body: str | bytes, content_type: str) -> None:
        response = app.post(body, content_type=content_type)

        assert_within_contract(response)
        assert_unchanged(app.db, app.initial)

    fuzz()
    assert_settled_and_unchanged(app, app.initial)
