"""View details: the modal, its timeline paging, and what crafted or stale payloads get."""

import json
from datetime import timedelta
from typing import Any

from blocks.ids import ActionChoice, InterviewRef, TimelinePosition
from bot.domain import Actor
from bot.services import Services, activity
from storage.db import Database
from storage.enums import ActivityKind, InviteStatus
from storage.models import Attendee, Interview
from tests.conftest import ADA, BO, CLI, OUTSIDER, Seed, SlackClient, berlin
from tests.support.blockkit import assert_valid_view


def _book(services: Services, seed: Seed, email: str = "nora@example.com") -> int:
    return services.booking.book(study_ref=seed.study_id, participant_email=email, starts_at=berlin(6, 10), host_id=ADA, actor=CLI).interview_id


def _opened_view(slack: SlackClient, method: str = "views.open") -> dict[str, Any]:
    view = slack.fake.wait_for(method)[0].params["view"]
    assert_valid_view(view)
    return view


def _text(view: dict[str, Any]) -> str:
    return json.dumps(view["blocks"], ensure_ascii=False)


def test_view_details_opens_a_modal_with_everything_about_the_interview(slack: SlackClient, services: Services, seeded: Seed, db: Database) -> None:
    interview_id = _book(services, seeded)
    with db.transaction() as session:
        interview = session.get(Interview, interview_id)
        interview.description = "We walk through the new checkout <b>flow</b>."
        nora = next(a for a in interview.attendees if a.participant_id)
        nora.invite_status = InviteStatus.ACCEPTED
        interview.attendees.append(Attendee(role="guest", slack_user_id=BO, display_name="Bo"))
        activity.record(session, interview, ActivityKind.RSVP_CHANGED, Actor.system("x"), services.clock() + timedelta(minutes=5), attendee="Nora Quist", status="accepted")

    response = slack.action("interview.view_details", value=InterviewRef(interview_id=interview_id).encode())

    assert response.status_code == 200
    view = _opened_view(slack)
    assert view["type"] == "modal" and view["title"]["text"] == "Interview details"
    text = _text(view)
    assert "https://meet.example.com/ada" in text and "`s3cret`" in text
    assert "&lt;b&gt;flow&lt;/b&gt;" in text
    assert "Nora Quist · Participant · ✓ Accepted" in text
    assert f"<@{ADA}> · Host (organizer) · … Awaiting reply" in text
    assert f"<@{BO}> · Guest" in text
    assert "Europe/Berlin" in text
    # Newest first: the RSVP comes before the booking.
    assert text.index("Nora Quist accepted the invite") < text.index("An admin (command line) booked Nora Quist")


def test_actions_menu_view_details_opens_the_same_modal(slack: SlackClient, services: Services, seeded: Seed) -> None:
    interview_id = _book(services, seeded)
    slack.action("interview.more", action_type="static_select", selected_option_value=ActionChoice(action="view_details", interview_id=interview_id).encode())
    assert "Nora Quist" in _text(_opened_view(slack))


def test_join_meeting_link_click_is_acknowledged_without_a_modal(slack: SlackClient, services: Services, seeded: Seed) -> None:
    interview_id = _book(services, seeded)
    response = slack.action("interview.join_meeting", value=InterviewRef(interview_id=interview_id).encode())
    assert response.status_code == 200
    assert slack.fake.calls_to("views.open") == []


def test_long_timeline_pages_inside_the_modal(slack: SlackClient, services: Services, seeded: Seed, db: Database) -> None:
    interview_id = _book(services, seeded)
    with db.transaction() as session:
        interview = session.get(Interview, interview_id)
        for i in range(24):
            activity.record(session, interview, ActivityKind.EMAIL_SENT, Actor.system("x"), services.clock() + timedelta(minutes=i + 1), template=f"note_{i:02d}", to="Nora")

    slack.action("interview.view_details", value=InterviewRef(interview_id=interview_id).encode())
    first = _opened_view(slack)
    assert "note 23" in _text(first) and "note 13" not in _text(first)
    older = next(e for b in first["blocks"] for e in b.get("elements", []) if e.get("action_id") == "interview_details.timeline_older")

    modal = {"id": "V0001", "hash": "h1", "type": "modal", "blocks": first["blocks"], "private_metadata": first["private_metadata"]}
    slack.action("interview_details.timeline_older", channel=None, value=older["value"], view=modal)

    update = slack.fake.wait_for("views.update")[0].params
    assert update["view_id"] == "V0001" and update["hash"] == "h1"
    assert_valid_view(update["view"])
    page_two = _text(update["view"])
    assert "note 13" in page_two and "note 23" not in page_two and "Newer" in page_two
    assert json.loads(update["view"]["private_metadata"]) == {"interview_id": interview_id, "offset": 10}


def test_outsider_with_a_crafted_payload_sees_nothing(slack: SlackClient, services: Services, seeded: Seed) -> None:
    interview_id = _book(services, seeded)
    slack.action("interview.view_details", user=OUTSIDER, value=InterviewRef(interview_id=interview_id).encode())
    reply = slack.fake.wait_for("response_url")[0].params
    assert "Only the research team" in reply["text"] and reply["response_type"] == "ephemeral"
    assert slack.fake.calls_to("views.open") == []


def test_member_of_another_team_cannot_open_this_teams_interview(slack: SlackClient, services: Services, seeded: Seed) -> None:
    interview_id = _book(services, seeded)
    services.teams.create("Other team", "T0TEST", ["U0ZED"])
    slack.action("interview.view_details", user="U0ZED", value=InterviewRef(interview_id=interview_id).encode())
    assert "Only the research team" in slack.fake.wait_for("response_url")[0].params["text"]
    assert slack.fake.calls_to("views.open") == []


def test_timeline_paging_from_an_outsider_inside_a_modal_is_refused(slack: SlackClient, services: Services, seeded: Seed) -> None:
    interview_id = _book(services, seeded)
    modal = {"id": "V0001", "hash": "h1", "type": "modal", "blocks": []}
    slack.action("interview_details.timeline_older", user=OUTSIDER, channel=None, value=TimelinePosition(interview_id=interview_id, offset=10).encode(), view=modal)
    pushed = slack.fake.wait_for("views.push")[0].params["view"]
    assert "Only the research team" in json.dumps(pushed)
    assert slack.fake.calls_to("views.update") == []


def test_deleted_interview_and_garbage_values_get_a_friendly_reply(slack: SlackClient, services: Services, seeded: Seed) -> None:
    slack.action("interview.view_details", value=InterviewRef(interview_id=999).encode())
    slack.action("interview.view_details", value="{not json")
    replies = [c.params["text"] for c in slack.fake.wait_for("response_url", count=2)]
    assert "That interview no longer exists." in replies
    assert any("out of date" in r for r in replies)
    assert slack.fake.calls_to("views.open") == []


def test_copy_scheduling_link_answers_only_the_teammate_with_a_working_link(slack: SlackClient, services: Services, seeded: Seed) -> None:
    interview_id = _book(services, seeded)
    choice = ActionChoice(action="copy_link", interview_id=interview_id).encode()

    slack.action("interview.more", action_type="static_select", selected_option_value=choice)
    reply = slack.fake.wait_for("response_url")[0].params
    assert reply["response_type"] == "ephemeral" and reply["replace_original"] is False
    url = reply["text"].split("*Nora Quist*: ")[1].strip()
    assert services.portal.state(url.rsplit("/", 1)[-1]).participant_name == "Nora Quist"

    slack.action("interview.more", user=OUTSIDER, action_type="static_select", selected_option_value=choice)
    refused = slack.fake.wait_for("response_url", count=2)[1].params["text"]
    assert "Only the research team" in refused and "/s/" not in refused
