"""Tests for the test-support fakes: the fake Web API, Block Kit checks and request builders."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs

import pytest
from slack_bolt import App, BoltRequest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.webhook import WebhookClient

from tests.support.blockkit import (
    assert_valid_message,
    assert_valid_view,
    message_block_errors,
    view_errors,
)
from tests.support.fake_slack import FakeSlackAPI
from tests.support.slack_requests import (
    block_actions,
    event_callback,
    sign,
    sign_json,
    slash_command,
    view_submission,
)

SIGNING_SECRET = "test-signing-secret"
TEAM_ID = "T0TEST"
USER = {"user_id": "U1", "team_id": TEAM_ID}


def _option(value: str) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": value.title()}, "value": value}


def _overflow(count: int) -> dict[str, Any]:
    return {"type": "overflow", "action_id": "row_menu", "options": [_option(f"opt{i}") for i in range(count)]}


def _button(text: str = "Schedule") -> dict[str, Any]:
    return {
        "type": "button",
        "action_id": "schedule",
        "text": {"type": "plain_text", "text": text},
        "style": "primary",
        "value": "new",
    }


def _section(text: str, block_id: str | None = None) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "section", "text": {"type": "mrkdwn", "text": text}}
    if block_id is not None:
        block["block_id"] = block_id
    return block


VALID_BLOCKS: list[dict[str, Any]] = [
    {"type": "header", "text": {"type": "plain_text", "text": "Upcoming interviews"}},
    {**_section("*Ada* — Tue 10:00", "row_1"), "accessory": _overflow(3)},
    {
        "type": "actions",
        "block_id": "actions",
        "elements": [_button()],
    },
    {"type": "context", "elements": [{"type": "mrkdwn", "text": "2 interviews this week"}]},
]

VALID_MODAL: dict[str, Any] = {
    "type": "modal",
    "callback_id": "schedule_interview",
    "title": {"type": "plain_text", "text": "Schedule interview"},
    "submit": {"type": "plain_text", "text": "Schedule"},
    "close": {"type": "plain_text", "text": "Cancel"},
    "private_metadata": json.dumps({"channel": "C1"}),
    "blocks": [
        {
            "type": "input",
            "block_id": "participant",
            "label": {"type": "plain_text", "text": "Participant"},
            "element": {"type": "users_select", "action_id": "user"},
        }
    ],
}


@pytest.fixture
def fake() -> Iterator[FakeSlackAPI]:
    with FakeSlackAPI() as api:
        yield api


@pytest.fixture
def client(fake: FakeSlackAPI) -> WebClient:
    return WebClient(base_url=fake.api_url, token=fake.bot_token)


# ---------------------------------------------------------------------------
# Fake Web API
# ---------------------------------------------------------------------------


def test_urls(fake: FakeSlackAPI) -> None:
    assert fake.api_url == f"http://127.0.0.1:{fake.port}/api/"
    assert fake.response_url("cmd") == f"http://127.0.0.1:{fake.port}/response/cmd"


def test_auth_test(fake: FakeSlackAPI, client: WebClient) -> None:
    response = client.auth_test()
    assert response["team_id"] == "T0TEST"
    assert (response["user_id"], response["bot_id"]) == ("U0BOT", "B0BOT")
    assert fake.calls_to("auth.test")[0].headers["Authorization"] == "Bearer xoxb-test-token"


def test_post_message_with_valid_blocks_is_recorded(fake: FakeSlackAPI, client: WebClient) -> None:
    first = client.chat_postMessage(channel="C123", text="Interviews", blocks=VALID_BLOCKS)
    second = client.chat_postMessage(channel="C123", text="again")

    assert first["channel"] == "C123"
    assert first["ts"] == "1700000000.000100"
    assert float(second["ts"]) > float(first["ts"])
    assert first["message"]["blocks"] == VALID_BLOCKS
    [call, _] = fake.calls_to("chat.postMessage")
    assert call.params["blocks"] == VALID_BLOCKS
    assert call.params["channel"] == "C123"
    assert not call.failed
    assert fake.block_errors == []


def test_form_encoded_json_fields_are_decoded(fake: FakeSlackAPI, client: WebClient) -> None:
    client.api_call("chat.postMessage", params={"channel": "C1", "blocks": json.dumps(VALID_BLOCKS)})
    client.api_call("chat.update", data={"channel": "C1", "ts": "1.2", "text": "x"})

    assert fake.calls_to("chat.postMessage")[0].params["blocks"] == VALID_BLOCKS
    assert fake.calls_to("chat.update")[0].params == {"channel": "C1", "ts": "1.2", "text": "x"}


def test_users_and_conversations_info(fake: FakeSlackAPI, client: WebClient) -> None:
    fake.add_user("U1", real_name="Ada Lovelace", email="ada@example.com")

    user = client.users_info(user="U1")["user"]
    other = client.users_info(user="U2")["user"]
    channel = client.conversations_info(channel="C9")["channel"]

    assert (user["id"], user["real_name"], user["profile"]["email"]) == ("U1", "Ada Lovelace", "ada@example.com")
    assert other["tz"] == "Europe/Berlin"
    assert other["profile"]["email"]
    assert channel["id"] == "C9" and channel["is_channel"]
    assert fake.calls_to("users.info")[0].params["user"] == "U1"


def test_overflow_with_six_options_is_refused(fake: FakeSlackAPI, client: WebClient) -> None:
    blocks = [{**_section("row"), "accessory": _overflow(6)}]

    with pytest.raises(SlackApiError) as raised:
        client.chat_postMessage(channel="C1", text="x", blocks=blocks)

    assert raised.value.response["error"] == "invalid_blocks"
    assert raised.value.response["errors"]
    assert any("overflow" in problem for problem in fake.block_errors)
    assert fake.calls_to("chat.postMessage")[0].failed


def test_more_than_fifty_blocks_are_refused(fake: FakeSlackAPI, client: WebClient) -> None:
    blocks = [_section(f"line {i}") for i in range(51)]

    with pytest.raises(SlackApiError) as raised:
        client.chat_update(channel="C1", ts="1700000000.000100", text="x", blocks=blocks)

    assert raised.value.response["error"] == "invalid_blocks"
    assert any("at most 50 blocks" in problem for problem in fake.block_errors)


def test_wrong_token_is_invalid_auth(fake: FakeSlackAPI) -> None:
    client = WebClient(base_url=fake.api_url, token="xoxb-wrong")

    with pytest.raises(SlackApiError) as raised:
        client.chat_postMessage(channel="C1", text="hi")

    assert raised.value.response["error"] == "invalid_auth"
    assert fake.calls_to("chat.postMessage")[0].error == "invalid_auth"


def test_app_token_only_opens_socket_connections(fake: FakeSlackAPI) -> None:
    fake.socket_mode_url = "ws://127.0.0.1:9/link"
    app_client = WebClient(base_url=fake.api_url, token=fake.app_token)

    assert app_client.apps_connections_open(app_token=fake.app_token)["url"] == "ws://127.0.0.1:9/link"
    with pytest.raises(SlackApiError) as raised:
        app_client.chat_postMessage(channel="C1", text="hi")
    assert raised.value.response["error"] == "not_allowed_token_type"


def test_unknown_method_is_recorded(fake: FakeSlackAPI, client: WebClient) -> None:
    with pytest.raises(SlackApiError) as raised:
        client.api_call("interviews.teleport", json={"where": "mars"})

    assert raised.value.response["error"] == "unknown_method"
    assert fake.calls_to("interviews.teleport")[0].params == {"where": "mars"}


def test_rate_limited_call_is_retried(fake: FakeSlackAPI) -> None:
    client = WebClient(
        base_url=fake.api_url,
        token=fake.bot_token,
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)],
    )
    fake.fail_next("chat.postMessage", status=429, retry_after=1)

    response = client.chat_postMessage(channel="C1", text="hi")

    assert response["ok"]
    first, second = fake.calls_to("chat.postMessage")
    assert (first.failed, first.error) == (True, "ratelimited")
    assert not second.failed


def test_injected_failures_are_consumed(fake: FakeSlackAPI, client: WebClient) -> None:
    fake.fail_next("views.open", status=500, times=2)
    fake.fail_next("chat.postMessage", status=200, error="channel_not_found")

    for _ in range(2):
        with pytest.raises(SlackApiError) as raised:
            client.views_open(trigger_id="t", view=VALID_MODAL)
        assert raised.value.response.status_code == 500
    assert client.views_open(trigger_id="t", view=VALID_MODAL)["ok"]
    with pytest.raises(SlackApiError, match="channel_not_found"):
        client.chat_postMessage(channel="C1", text="hi")
    assert [c.failed for c in fake.calls_to("views.open")] == [True, True, False]


def test_views_open_with_valid_modal(fake: FakeSlackAPI, client: WebClient) -> None:
    response = client.views_open(trigger_id="123.456.abc", view=VALID_MODAL)
    pushed = client.views_push(trigger_id="123.456.abc", view=VALID_MODAL)
    updated = client.views_update(view_id=response["view"]["id"], view=VALID_MODAL)

    assert response["view"]["id"] == "V0001"
    assert response["view"]["hash"]
    assert response["view"]["callback_id"] == "schedule_interview"
    assert pushed["view"]["id"] == "V0002"
    assert updated["view"]["id"] == "V0001"
    assert fake.calls_to("views.open")[0].params["view"] == VALID_MODAL
    assert fake.block_errors == []


def test_views_publish_home(client: WebClient) -> None:
    response = client.views_publish(user_id="U1", view={"type": "home", "blocks": VALID_BLOCKS})
    assert response["view"]["type"] == "home"


def test_invalid_modal_is_refused(fake: FakeSlackAPI, client: WebClient) -> None:
    modal = {**VALID_MODAL, "title": {"type": "plain_text", "text": "A title that is far too long"}}

    with pytest.raises(SlackApiError) as raised:
        client.views_open(trigger_id="t", view=modal)

    assert raised.value.response["error"] == "invalid_arguments"
    assert any("title" in problem for problem in fake.block_errors)


def test_response_url_posts_are_recorded(fake: FakeSlackAPI) -> None:
    webhook = WebhookClient(fake.response_url("interviews"))

    response = webhook.send(text="Done", blocks=VALID_BLOCKS, replace_original=True)

    assert (response.status_code, response.body) == (200, "ok")
    [call] = fake.calls_to("response_url")
    assert call.params["_name"] == "interviews"
    assert call.params["blocks"] == VALID_BLOCKS
    assert call.params["replace_original"] is True


def test_invalid_response_url_blocks_are_refused(fake: FakeSlackAPI) -> None:
    blocks = [_section("a", "dup"), _section("b", "dup")]
    response = WebhookClient(fake.response_url("x")).send(text="x", blocks=blocks)

    assert response.status_code == 400
    assert json.loads(response.body)["error"] == "invalid_blocks"
    assert any("duplicates" in problem for problem in fake.block_errors)


def test_wait_for_returns_calls_from_other_threads(fake: FakeSlackAPI, client: WebClient) -> None:
    timer = threading.Timer(0.1, lambda: client.chat_postMessage(channel="C1", text="later"))
    timer.start()
    try:
        [call] = fake.wait_for("chat.postMessage", timeout=5)
    finally:
        timer.join()
    assert call.params["text"] == "later"


def test_wait_for_times_out_with_assertion(fake: FakeSlackAPI, client: WebClient) -> None:
    client.auth_test()
    started = time.monotonic()

    with pytest.raises(AssertionError, match=r"chat\.postMessage.*auth\.test"):
        fake.wait_for("chat.postMessage", timeout=0.2)

    assert time.monotonic() - started < 2


def test_reset_clears_everything(fake: FakeSlackAPI, client: WebClient) -> None:
    fake.fail_next("auth.test")
    with pytest.raises(SlackApiError):
        client.chat_postMessage(channel="C1", text="x", blocks=[{"type": "bogus"}])

    fake.reset()

    assert fake.calls == [] and fake.block_errors == []
    assert client.auth_test()["ok"]


# ---------------------------------------------------------------------------
# Block Kit checks
# ---------------------------------------------------------------------------


def test_valid_blocks_and_views_pass() -> None:
    assert_valid_message(VALID_BLOCKS)
    assert_valid_view(VALID_MODAL)
    assert_valid_view({"type": "home", "blocks": VALID_BLOCKS})


@pytest.mark.parametrize(
    ("blocks", "expected"),
    [
        ([{**_section("x"), "accessory": _overflow(0)}], "1-5 options"),
        ([{"type": "actions", "elements": [_button("b" * 76)]}], "maximum is 75"),
        ([_section("x" * 3001)], "maximum is 3000"),
        ([_section("x", "b" * 256)], "maximum is 255"),
        ([{**_section("x"), "accessory": {**_overflow(1), "options": [_option("v" * 151)]}}], "maximum is 150"),
        ([{"type": "section", "text": "plain string"}], "must be a text object"),
        ([{"type": "carousel_of_dreams"}], "unknown block type"),
    ],
)
def test_message_block_problems(blocks: list[dict[str, Any]], expected: str) -> None:
    problems = message_block_errors(blocks)
    assert any(expected in problem for problem in problems), problems
    with pytest.raises(AssertionError, match="invalid message blocks"):
        assert_valid_message(blocks)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"private_metadata": "x" * 3001}, "private_metadata is 3001 characters"),
        ({"submit": {"type": "plain_text", "text": "s" * 25}}, "view.submit.text is 25 characters"),
        ({"close": {"type": "mrkdwn", "text": "Cancel"}}, "view.close.type must be plain_text"),
        ({"blocks": [_section("x")] * 101}, "at most 100 blocks"),
    ],
)
def test_view_problems(changes: dict[str, Any], expected: str) -> None:
    problems = view_errors({**VALID_MODAL, **changes})
    assert any(expected in problem for problem in problems), problems


def test_modal_with_inputs_needs_submit() -> None:
    modal = {key: value for key, value in VALID_MODAL.items() if key != "submit"}
    assert any("submit is required" in problem for problem in view_errors(modal))


# ---------------------------------------------------------------------------
# Request builders
# ---------------------------------------------------------------------------


def test_signed_body_verifies_and_tampered_body_does_not() -> None:
    body = slash_command(text="list", user_id="U1", team_id=TEAM_ID, channel_id="C1", response_url="https://x")
    headers = sign(body, SIGNING_SECRET)
    verifier = SignatureVerifier(SIGNING_SECRET)

    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert verifier.is_valid_request(body, headers)
    assert not verifier.is_valid_request(body.replace("list", "wipe"), headers)
    assert not SignatureVerifier("other-secret").is_valid_request(body, headers)


def test_old_timestamp_is_rejected() -> None:
    body = "token=x"
    headers = sign(body, SIGNING_SECRET, timestamp=int(time.time()) - 3600)
    assert not SignatureVerifier(SIGNING_SECRET).is_valid_request(body, headers)


def test_slash_command_fields() -> None:
    body = slash_command("/interviews", "new Ada", **USER, channel_id="C1", response_url="https://r")
    fields = {key: values[0] for key, values in parse_qs(body, keep_blank_values=True).items()}

    assert list(fields) == [
        "token", "team_id", "team_domain", "channel_id", "channel_name", "user_id", "user_name",
        "command", "text", "api_app_id", "is_enterprise_install", "response_url", "trigger_id",
    ]  # fmt: skip
    assert (fields["command"], fields["text"], fields["is_enterprise_install"]) == ("/interviews", "new Ada", "false")


def _payload(body: str) -> dict[str, Any]:
    return json.loads(parse_qs(body)["payload"][0])


def test_block_actions_payloads() -> None:
    button = _payload(block_actions("schedule", value="42", **USER, channel_id="C1", response_url="https://r"))
    overflow = _payload(block_actions("row_menu", value="cancel", action_type="overflow", **USER, channel_id="C1"))
    modal = _payload(
        block_actions(
            "pick", selected_option_value="a", action_type="static_select", **USER, view={"id": "V9", "type": "modal"}
        )
    )

    assert button["type"] == "block_actions"
    assert button["container"]["type"] == "message"
    assert button["message"]["ts"] == button["container"]["message_ts"]
    assert button["actions"][0]["value"] == "42" and button["response_url"] == "https://r"
    assert overflow["actions"][0]["selected_option"]["value"] == "cancel"
    assert "value" not in overflow["actions"][0]
    assert modal["container"] == {"type": "view", "view_id": "V9"}
    assert "message" not in modal and modal["view"]["id"] == "V9"


def test_view_submission_payload() -> None:
    values = {"participant": {"user": {"type": "users_select", "selected_user": "U2"}}}
    payload = _payload(view_submission("schedule_interview", state_values=values, private_metadata="{}", **USER))

    assert payload["type"] == "view_submission"
    assert payload["view"]["callback_id"] == "schedule_interview"
    assert payload["view"]["state"]["values"] == values


def test_event_callback_is_signed_as_json() -> None:
    body = event_callback({"type": "app_home_opened", "user": "U1", "tab": "home"}, team_id=TEAM_ID)
    headers = sign_json(body, SIGNING_SECRET)

    assert json.loads(body)["event"]["type"] == "app_home_opened"
    assert headers["Content-Type"] == "application/json"
    assert SignatureVerifier(SIGNING_SECRET).is_valid_request(body, headers)


# ---------------------------------------------------------------------------
# Everything together: a Bolt app fed by the builders, talking to the fake
# ---------------------------------------------------------------------------


def test_bolt_app_round_trip(fake: FakeSlackAPI, client: WebClient) -> None:
    app = App(client=client, signing_secret=SIGNING_SECRET)

    @app.command("/interviews")
    def interviews(ack: Any, respond: Any) -> None:
        ack()
        respond(text="Interviews", blocks=VALID_BLOCKS)

    @app.action("row_menu")
    def row_menu(ack: Any, body: dict[str, Any], client: WebClient) -> None:
        ack()
        choice = body["actions"][0]["selected_option"]["value"]
        client.chat_postMessage(channel=body["channel"]["id"], text=choice)

    command = slash_command(**USER, channel_id="C1", response_url=fake.response_url("cmd"))
    action = block_actions("row_menu", value="cancel", action_type="overflow", **USER, channel_id="C1")

    assert app.dispatch(BoltRequest(body=command, headers=sign(command, SIGNING_SECRET))).status == 200
    assert app.dispatch(BoltRequest(body=action, headers=sign(action, SIGNING_SECRET))).status == 200
    tampered = command.replace("U1", "U2")
    assert app.dispatch(BoltRequest(body=tampered, headers=sign(command, SIGNING_SECRET))).status == 401

    [response] = fake.wait_for("response_url")
    [posted] = fake.wait_for("chat.postMessage")
    assert response.params["_name"] == "cmd" and response.params["blocks"] == VALID_BLOCKS
    assert posted.params["text"] == "cancel"
    assert fake.block_errors == []
