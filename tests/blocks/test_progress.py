"""The views that follow a submission: the form again, with a banner above what was typed."""

from typing import Any

from blocks.progress import BANNER_BLOCK, SAVING, form_again
from tests.support.blockkit import assert_valid_view

SUBMITTED: dict[str, Any] = {
    "id": "V0FORM", "team_id": "T0", "type": "modal", "callback_id": "interview.reschedule",
    "title": {"type": "plain_text", "text": "Reschedule", "emoji": True},
    "submit": {"type": "plain_text", "text": "Reschedule", "emoji": True},
    "close": {"type": "plain_text", "text": "Cancel", "emoji": True},
    "private_metadata": '{"choice": 1}', "hash": "1.abc", "state": {"values": {}},
    "blocks": [
        {"type": "section", "block_id": "intro", "text": {"type": "mrkdwn", "text": "Move *Nora*"}},
        {"type": "input", "block_id": "reschedule.when", "label": {"type": "plain_text", "text": "New time"},
         "element": {"type": "datetimepicker", "action_id": "value"}},
        {"type": "input", "block_id": "reschedule.reason", "optional": True,
         "label": {"type": "plain_text", "text": "Reason"},
         "element": {"type": "plain_text_input", "action_id": "value"}},
    ],
}


def test_the_form_again_keeps_its_fields_ids_and_routing_with_the_banner_on_top() -> None:
    view = form_again(SUBMITTED, SAVING)

    assert_valid_view(view)
    assert view["blocks"][0]["block_id"] == BANNER_BLOCK
    assert view["blocks"][0]["elements"][0]["text"] == SAVING
    assert [b["block_id"] for b in view["blocks"][1:]] == ["intro", "reschedule.when", "reschedule.reason"]
    assert [b.get("element", {}).get("action_id") for b in view["blocks"][2:]] == ["value", "value"]
    assert (view["callback_id"], view["private_metadata"]) == ("interview.reschedule", '{"choice": 1}')
    assert view["submit"]["text"] == "Reschedule"
    assert not {"id", "hash", "state", "team_id"} & view.keys()  # Slack's own fields are not sent back


def test_a_new_banner_replaces_the_old_one() -> None:
    saving = form_again(SUBMITTED, SAVING)
    again = form_again({**SUBMITTED, "blocks": saving["blocks"]}, "⚠️ That time has passed")

    banners = [b for b in again["blocks"] if b["block_id"] == BANNER_BLOCK]
    assert len(banners) == 1 and banners[0]["elements"][0]["text"] == "⚠️ That time has passed"
    assert len(again["blocks"]) == len(saving["blocks"])


def test_a_form_that_cannot_be_rebuilt_becomes_the_banner_alone() -> None:
    broken = {**SUBMITTED, "blocks": [{"type": "input", "block_id": "x"}]}  # no label, no element

    view = form_again(broken, "⚠️ Please try again")

    assert_valid_view(view)
    assert view["title"]["text"] == "Reschedule"
    assert "Please try again" in str(view["blocks"])
    assert all(b["type"] != "input" for b in view["blocks"])
