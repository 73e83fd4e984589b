"""Crafted payloads that point at another team's interview or study, from a user of another team
(same workspace) or of another workspace: refused with the friendly "only the research team"
answer, nothing changed, and nothing of the other team's participants shown.

Every routing value a button, menu option or modal carries (``blocks/ids.py``: ``InterviewRef``,
``TimelinePosition``, ``ActionChoice`` of every action, ``ActionModalState`` of every action
modal, ``ChannelRef``, ``SetupTarget``, ``CalendarRef``) is sent with the seeded team's ids by
Cat (the design team, same workspace) and by Zed (a team in another workspace). Both databases.
"""

import json
from typing import Any

import pytest

from blocks.ids import (
    ActionChoice,
    ActionId,
    ActionModalState,
    CalendarRef,
    CallbackId,
    ChannelRef,
    InterviewRef,
    SetupTarget,
    TimelinePosition,
    action_button_id,
)
from bot.actions import InterviewAction
from bot.services import Services
from storage.enums import InterviewStatus
from tests.conftest import ADA, CHANNEL, WORKSPACE
from tests.reliability import assert_unchanged, snapshot
from tests.reliability.slack_fuzz import ACTION_MODALS
from tests.reliability.world import RunningApp
from tests.support import slack_requests
from tests.support.fake_slack import RESPONSE_URL_METHOD

OTHER_WORKSPACE = "T0OTHER"
CAT = ("U0CAT", WORKSPACE)  # on the design team, in the seeded team's workspace
ZED = ("U0ZED", OTHER_WORKSPACE)  # on a team of another workspace
REFUSAL = "Only the research team"
# Disconnect names a team, not a study or interview: the refusal says the person has none here.
FRIENDLY = (REFUSAL, "you're not on one here yet")
CHANNEL_REFUSALS = (REFUSAL, "This channel has no study yet", "This form no longer matches the channel's study")
# What the seeded team's interview would show: none of it may reach Cat or Zed.
PRIVATE = ["Nora", "nora@example.com", "meet.example.com", "/s/"]


@pytest.fixture
def other_teams(services: Services, app: RunningApp) -> None:
    """Cat's design team next door, and Zed's team in another workspace, each with a study."""
    design = services.teams.create("Design Team", WORKSPACE, [CAT[0]])
    services.studies.create(team_ref=design.id, name="Design study", channel_id="C0DESIGN",
                            timezone="Europe/Berlin", duration_minutes=30, host_ids=[CAT[0]])
    other = services.teams.create("Other Co", OTHER_WORKSPACE, [ZED[0]])
    services.studies.create(team_ref=other.id, name="Other study", channel_id="C0OTHER",
                            timezone="Europe/Berlin", duration_minutes=30, host_ids=[ZED[0]])
    app.initial = snapshot(app.db)


def choice(app: RunningApp, action: InterviewAction) -> ActionChoice:
    # The value a rating button carries, so that the rating itself is not what is refused.
    value = 4 if action is InterviewAction.RATE else None
    return ActionChoice(action=action, interview_id=app.interview_id, seen_start=app.seen_start,
                        seen_status=InterviewStatus.UPCOMING, value=value)


def actions(app: RunningApp) -> list[tuple[str, str, bool]]:
    """(action id, value, from the More… menu) of every button and option with a routing value."""
    interview = app.interview_id
    found = [
        (ActionId.VIEW_DETAILS.value, InterviewRef(interview_id=interview).encode(), False),
        (ActionId.TIMELINE_OLDER.value, TimelinePosition(interview_id=interview, offset=5).encode(), False),
        (ActionId.CALENDAR_DISCONNECT.value, CalendarRef(team_id=app.people.team_id).encode(), False),
    ]
    for action in InterviewAction:
        found.append((action_button_id(action), choice(app, action).encode(), False))
        found.append((ActionId.INTERVIEW_MORE.value, choice(app, action).encode(), True))
    return found


def submissions(app: RunningApp, setup: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(callback id, private_metadata, state) of every modal, pointing at the seeded team's study;
    ``setup`` is the setup modal's state as the team would submit it."""
    study = app.people.study_id
    found: list[tuple[str, str, dict[str, Any]]] = [
        (callback, ActionModalState(choice=choice(app, action)).encode(), filled(app).get(callback, {}))
        for callback, action in ACTION_MODALS.items()
    ]
    people = {"invite.people": {"people": {"type": "plain_text_input", "value": "Mallory <mallory@example.com>"}}}
    found += [
        (CallbackId.INVITE, ChannelRef(channel_id=CHANNEL, study_id=study).encode(), people),
        (CallbackId.BOOK, ChannelRef(channel_id="C0DESIGN", study_id=study).encode(), {
            "book.participant": {"value": {"type": "static_select", "selected_option": {"value": "otto@example.com"}}},
            "book.host": {"value": {"type": "static_select", "selected_option": {"value": "U0ADA"}}},
            "book.when": {"value": {"type": "datetimepicker", "selected_date_time": app.seen_start + 86_400}},
        }),
        (CallbackId.STUDY_SETUP, SetupTarget(channel_id=CHANNEL, study_id=study).encode(), setup),
        (CallbackId.STUDY_SETUP, SetupTarget(channel_id="C0DESIGN", study_id=study).encode(), setup),
    ]
    return found


def filled(app: RunningApp) -> dict[str, dict[str, Any]]:
    """What the team would type into each action modal, so that the input itself is fine and
    only who sends it is wrong."""
    def one(block: str, **element: Any) -> dict[str, Any]:
        return {block: {"value": element}}

    return {
        CallbackId.RESCHEDULE: one("reschedule.when", type="datetimepicker", selected_date_time=app.seen_start + 86_400),
        CallbackId.CHANGE_HOST: one("change_host.host", type="static_select", selected_option={"value": "U0BO"}),
        CallbackId.CHANGE_LIMIT: one("change_limit.limit", type="number_input", value="3"),
        CallbackId.ADD_GUEST: one("add_guest.email", type="email_text_input", value="mallory@example.com"),
        CallbackId.CONFIRM_INCENTIVE: one("incentive.confirm", type="checkboxes",
                                          selected_options=[{"value": f"{app.people.nora.participant_id}:1"}]),
    }


def as_submitted(view: dict[str, Any]) -> dict[str, Any]:
    """``view.state.values`` of a modal submitted as it was shown, its initial values kept."""
    values: dict[str, Any] = {}
    for block in view["blocks"]:
        element = block.get("element")
        if block.get("type") != "input" or not element:
            continue
        state: dict[str, Any] = {"type": element["type"]}
        for initial, submitted in [("initial_value", "value"), ("initial_option", "selected_option"),
                                   ("initial_options", "selected_options"), ("initial_users", "selected_users"),
                                   ("initial_time", "selected_time"), ("initial_date", "selected_date")]:
            if initial in element:
                state[submitted] = element[initial]
        values[block["block_id"]] = {element["action_id"]: state}
    return values


def everything_sent(app: RunningApp) -> str:
    return json.dumps([c.params for c in app.fake.calls], ensure_ascii=False)


@pytest.mark.usefixtures("other_teams")
def test_another_teams_ids_in_actions_are_refused_in_a_reply_to_the_clicker(app: RunningApp) -> None:
    sent: dict[str, tuple[str, str]] = {}  # response_url name -> (who, action id)
    for sender in (CAT, ZED):
        for action_id, value, menu in actions(app):
            name = f"{sender[0]}-{len(sent)}"
            body = slack_requests.block_actions(
                action_id, value=value, user_id=sender[0], team_id=sender[1], channel_id=CHANNEL,
                response_url=app.fake.response_url(name), action_type="static_select" if menu else "button",
            )
            assert app.post(body).status_code == 200
            sent[name] = (sender[0], action_id)

    app.settle()
    assert_unchanged(app.db, app.initial)
    replies = {c.params["_name"]: c.params for c in app.fake.calls_to(RESPONSE_URL_METHOD)}
    assert set(replies) == set(sent), set(sent) - set(replies)  # each click was answered once, in its place
    refused = {name: reply["text"] for name, reply in replies.items()
               if not any(words in reply["text"] for words in FRIENDLY)}
    assert refused == {}, {sent[name]: text for name, text in refused.items()}
    assert all(reply.get("response_type") == "ephemeral" and not reply.get("replace_original") for reply in replies.values())
    assert [c.method for c in app.fake.calls if c.method not in (RESPONSE_URL_METHOD, "auth.test")] == []
    leaked = [word for word in PRIVATE if word in everything_sent(app)]
    assert leaked == []


@pytest.mark.usefixtures("other_teams")
def test_another_teams_ids_in_modal_submissions_are_refused_next_to_the_form(app: RunningApp) -> None:
    # The setup modal of the seeded study, as Ada sees it, is what Cat and Zed submit.
    command = slack_requests.slash_command("/interviews", "setup", user_id=ADA, team_id=WORKSPACE, channel_id=CHANNEL,
                                           response_url=app.response_url())
    assert app.post(command).status_code == 200
    setup = as_submitted(app.fake.wait_for("views.open")[0].params["view"])
    app.fake.reset()
    answers: dict[tuple[str, str, str], str] = {}
    for sender in (CAT, ZED):
        for callback, metadata, state in submissions(app, setup):
            body = slack_requests.view_submission(callback, state_values=state, private_metadata=metadata,
                                                  user_id=sender[0], team_id=sender[1])
            response = app.post(body)
            assert response.status_code == 200
            answers[sender[0], callback, metadata] = response.text

    app.settle()
    assert_unchanged(app.db, app.initial)
    # An interview's modal is refused as not theirs; a channel's modal may find no study of the
    # sender's workspace there, or another study than the form was for.
    not_refused = {
        key: text[:300] for key, text in answers.items()
        if not any(words in text for words in ((REFUSAL,) if key[1] in ACTION_MODALS else CHANNEL_REFUSALS))
    }
    assert not_refused == {}
    leaked = [word for word in PRIVATE if any(word in text for text in answers.values())]
    assert leaked == [] and [word for word in PRIVATE if word in everything_sent(app)] == []


@pytest.mark.usefixtures("other_teams")
def test_the_channels_commands_are_refused_to_another_team_in_the_same_workspace(app: RunningApp) -> None:
    acks = {}
    for text in ("", "past", "invite", "book", "setup"):
        command = slack_requests.slash_command("/interviews", text, user_id=CAT[0], team_id=CAT[1],
                                               channel_id=CHANNEL, response_url=app.fake.response_url(f"cmd-{text}"))
        response = app.post(command)
        assert response.status_code == 200
        acks[text] = response.json()["text"] if response.content else None
    app.settle()

    # Answered in the acknowledgement, or (setup, which opens its modal first) through response_url.
    replies = {c.params["_name"].removeprefix("cmd-"): c.params["text"] for c in app.fake.calls_to(RESPONSE_URL_METHOD)}
    answers = {text: ack if ack is not None else replies.get(text) for text, ack in acks.items()}
    assert all(answer and REFUSAL in answer for answer in answers.values()), answers
    assert_unchanged(app.db, app.initial)
    assert app.fake.calls_to("views.open") == []
    assert [word for word in PRIVATE if word in json.dumps(answers) + everything_sent(app)] == []


@pytest.mark.usefixtures("other_teams")
def test_a_user_of_another_workspace_learns_no_study_name(app: RunningApp) -> None:
    body = slack_requests.block_actions(
        ActionId.VIEW_DETAILS, value=InterviewRef(interview_id=app.interview_id).encode(), user_id=ZED[0],
        team_id=ZED[1], channel_id="C0ELSEWHERE", response_url=app.response_url(),
    )
    assert app.post(body).status_code == 200
    app.settle()
    [reply] = app.fake.calls_to(RESPONSE_URL_METHOD)
    assert REFUSAL in reply.params["text"]
    assert "Checkout redesign" not in reply.params["text"] and "add-member" not in reply.params["text"]
