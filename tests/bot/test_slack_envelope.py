"""The envelope check refuses exactly the payloads Bolt cannot read, before Bolt reads them."""

import copy
from collections.abc import Callable
from typing import Any

import pytest
from slack_bolt import BoltContext
from slack_bolt.request.internals import build_context
from slack_bolt.request.payload_utils import to_action, to_step

from bot.slack_envelope import problem
from tests.reliability.slack_fuzz import payload_of
from tests.support import slack_requests

SUBMISSION = payload_of(slack_requests.view_submission("cancel", state_values={}, private_metadata="",
                                                       user_id="U0ADA", team_id="T0WORK"))
CLICK = payload_of(slack_requests.block_actions("interview.more", value="v", user_id="U0ADA", team_id="T0WORK",
                                                channel_id="C0STUDY", response_url="https://hooks.slack.com/r"))
MESSAGE_CHANGED = {
    "type": "event_callback", "team_id": "T0WORK",
    "authorizations": [{"enterprise_id": None, "team_id": "T0WORK", "user_id": "U0BOT", "is_bot": True}],
    "event": {"type": "message", "subtype": "message_changed", "channel": "C0STUDY",
              "message": {"user": "U0ADA", "text": "new"}, "previous_message": {"user": "U0ADA", "text": "old"}},
}


def bolt_reads(payload: dict[str, Any]) -> None:
    """What Bolt does with a request before any listener: its context, a middleware's arguments."""
    build_context(BoltContext({}), payload)
    to_action(payload)
    to_step(payload)


@pytest.mark.parametrize("payload", [SUBMISSION, CLICK, MESSAGE_CHANGED], ids=["submission", "click", "event"])
def test_slack_shapes_pass(payload: dict[str, Any]) -> None:
    assert problem(payload) is None
    bolt_reads(payload)


def _without_user(**fields: Any) -> Callable[[dict[str, Any]], None]:
    def spoil(payload: dict[str, Any]) -> None:
        payload.pop("user")
        payload.update(fields)
    return spoil


SPOILED: dict[str, Callable[[dict[str, Any]], Any]] = {
    "enterprise is a boolean": lambda p: p.update(enterprise=True),
    "response_urls is null": lambda p: p.update(response_urls=None),
    "response_urls holds a string": lambda p: p.update(response_urls=["https://hooks.slack.com/x"]),
    "message.user is a number": _without_user(message={"user": 7}),
    "event.user is a boolean": _without_user(event={"type": "x", "user": True}),
    "previous_message.user has no id": _without_user(previous_message={"user": {"name": "ada"}}),
    "previous_message is a list": lambda p: p.update(previous_message=[]),
    "authorizations[0].team is a number": lambda p: (p.pop("team"), p.update(authorizations=[{"team": 1}])),
    "event.channel is a list": lambda p: p.update(event={"type": "x", "channel": ["C1"]}),
    "view without type": lambda p: p["view"].pop("type"),
    "view.callback_id is a number": lambda p: p["view"].update(callback_id=1),
    "a workflow step without workflow_step": lambda p: p["view"].update(type="workflow_step"),
}


@pytest.mark.parametrize("spoil", SPOILED.values(), ids=SPOILED.keys())
def test_wrong_typed_fields_are_named(spoil: Callable[[dict[str, Any]], Any]) -> None:
    payload = copy.deepcopy(SUBMISSION)
    spoil(payload)
    assert problem(payload)


def test_types_that_need_a_part_without_it_are_named() -> None:
    assert problem({"type": "block_actions"}) == "payload: Value error, block_actions without actions"
    assert problem({"type": "interactive_message", "callback_id": "c"})
    assert problem({"type": "workflow_step_edit", "callback_id": "c"})
    assert problem({"type": "view_closed"})
    assert problem({"type": "event_callback"})
    assert problem([]) == "the payload is not an object"
