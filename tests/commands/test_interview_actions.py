"""The one route of every interview action: decoding, answering where the click came from, refusing
what is not ours."""

import json

from blocks.ids import ActionChoice
from bot.actions import InterviewAction
from bot.services import Services
from commands import action_handlers
from storage.enums import InterviewStatus
from tests.conftest import ADA, CLI, OUTSIDER, Seed, SlackClient, berlin
from tests.support.blockkit import assert_valid_view


def _book(services: Services, seed: Seed) -> int:
    return services.booking.book(study_ref=seed.study_id, participant_email="nora@example.com", starts_at=berlin(8, 10), host_id=ADA, actor=CLI).interview_id


def test_every_action_has_exactly_one_handler() -> None:
    assert set(action_handlers()) == set(InterviewAction)


def test_garbage_and_unknown_actions_get_a_friendly_reply_and_change_nothing(slack: SlackClient, services: Services, seeded: Seed) -> None:
    interview_id = _book(services, seeded)
    slack.action("interview.more", action_type="static_select", selected_option_value="{not json")
    slack.action("interview.act.reschedule", value=json.dumps({"action": "explode", "interview_id": interview_id}))
    slack.action("interview.more", action_type="static_select", selected_option_value=json.dumps({"action": "copy_link", "interview_id": 0}))
    replies = [c.params["text"] for c in slack.fake.wait_for("response_url", count=3)]
    assert all("out of date" in r for r in replies)
    assert slack.fake.calls_to("views.open") == [] and slack.fake.calls_to("chat.postMessage") == []


def test_an_outsider_choosing_an_action_is_refused(slack: SlackClient, services: Services, seeded: Seed) -> None:
    interview_id = _book(services, seeded)
    choice = ActionChoice(action=InterviewAction.COPY_LINK, interview_id=interview_id).encode()
    slack.action("interview.more", user=OUTSIDER, action_type="static_select", selected_option_value=choice)
    reply = slack.fake.wait_for("response_url")[0].params
    assert "Only the research team" in reply["text"] and reply["response_type"] == "ephemeral"


def test_inside_a_modal_the_answer_is_pushed_on_top(slack: SlackClient, services: Services, seeded: Seed) -> None:
    interview_id = _book(services, seeded)
    choice = ActionChoice(action=InterviewAction.COPY_LINK, interview_id=interview_id, seen_status=InterviewStatus.UPCOMING).encode()
    modal = {"id": "V0DETAILS", "type": "modal", "callback_id": "interview_details", "blocks": []}
    slack.action("interview.more", channel=None, action_type="static_select", selected_option_value=choice, view=modal)
    pushed = slack.fake.wait_for("views.push")[0].params["view"]
    assert_valid_view(pushed)
    assert "Nora Quist" in json.dumps(pushed) and "/s/" in json.dumps(pushed)


def test_from_the_home_tab_a_modal_is_opened_not_pushed(slack: SlackClient, services: Services, seeded: Seed) -> None:
    interview_id = _book(services, seeded)
    choice = ActionChoice(action=InterviewAction.VIEW_DETAILS, interview_id=interview_id).encode()
    home = {"id": "V0HOME", "type": "home", "blocks": []}
    slack.action("interview.more", channel=None, action_type="static_select", selected_option_value=choice, view=home)
    opened = slack.fake.wait_for("views.open")[0].params["view"]
    assert opened["title"]["text"] == "Interview details"
    assert slack.fake.calls_to("views.push") == []


def test_a_refusal_right_after_the_ack_still_answers_200_at_once(slack: SlackClient, services: Services, seeded: Seed) -> None:
    """Bolt resets an ack whose listener then raises; the refusal must not cost a 404 or a wait."""
    interview_id = _book(services, seeded)
    choice = ActionChoice(action=InterviewAction.CANCEL, interview_id=interview_id).encode()
    for _ in range(5):
        response = slack.action("interview.act.cancel", user=OUTSIDER, value=choice)
        assert response.status_code == 200 and response.elapsed.total_seconds() < 2
    assert len(slack.fake.wait_for("response_url", count=5)) == 5
