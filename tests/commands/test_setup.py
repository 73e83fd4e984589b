"""`/interviews setup`: the modal through signed requests into the real app, Slack faked over HTTP."""

import json
from collections.abc import Iterator
from typing import Any

import pytest

from blocks.ids import SetupTarget
from bot.services import Services
from storage.db import Database
from storage.models import Study
from tests.conftest import ADA, BO, CHANNEL, OUTSIDER, WORKSPACE, Seed, SlackClient
from tests.support import slack_requests
from tests.support.blockkit import assert_valid_view

NEW_CHANNEL = "C0NEW"


@pytest.fixture
def ada_in_new_york(slack: SlackClient) -> Iterator[None]:
    """Ada's Slack profile says New York; the fake is shared, so the override is removed after."""
    slack.fake.add_user(ADA, tz="America/New_York")
    yield
    slack.fake.users.pop(ADA, None)


def _open(slack: SlackClient, *, user: str = ADA, channel: str = CHANNEL) -> dict[str, Any]:
    response = slack.command("setup", user=user, channel=channel)
    assert response.status_code == 200 and response.text == ""  # acknowledged at once, silently
    call = slack.fake.wait_for("views.open")[-1]
    assert call.params["trigger_id"] == slack_requests.DEFAULT_TRIGGER_ID
    view = call.params["view"]
    assert_valid_view(view)
    return view


def _inputs(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}


def _state(view: dict[str, Any], **typed: Any) -> dict[str, Any]:
    """``view.state.values`` as Slack sends it: what the form shows, with ``typed`` changes.

    Keyword names are block ids without the ``setup.`` prefix (``host_url__U0BO`` for dotted ones).
    """
    changes = {"setup." + key.replace("__", "."): value for key, value in typed.items()}
    values: dict[str, Any] = {}
    for block_id, element in _inputs(view).items():
        kind = element["type"]
        value = changes.pop(block_id, None)
        if kind == "multi_users_select":
            state = {"selected_users": value if value is not None else element.get("initial_users", [])}
        elif kind == "checkboxes":
            chosen = [o for o in element["options"] if o["value"] in value] if value is not None else element.get("initial_options", [])
            state = {"selected_options": chosen}
        elif kind == "static_select":
            picked = next((o for o in element["options"] if o["value"] == value), None) if value is not None else element.get("initial_option")
            state = {"selected_option": picked}
        elif kind == "timepicker":
            state = {"selected_time": value if value is not None else element.get("initial_time")}
        else:
            state = {"value": value if value is not None else element.get("initial_value")}
        values[block_id] = {element["action_id"]: {"type": kind, **state}}
    assert not changes, f"no such inputs: {sorted(changes)}"
    return values


def _submit(slack: SlackClient, view: dict[str, Any], state: dict[str, Any], *, user: str = ADA, metadata: str | None = None) -> Any:
    body = slack_requests.view_submission(
        "study_setup", state_values=state, user_id=user, team_id=WORKSPACE, blocks=view["blocks"],
        private_metadata=view["private_metadata"] if metadata is None else metadata,
    )
    response = slack.post(body)
    assert response.status_code == 200
    return response


def _choose_hosts(slack: SlackClient, view: dict[str, Any], hosts: list[str], **typed: Any) -> dict[str, Any]:
    """Pick hosts in the open modal; returns the view Slack was asked to show instead."""
    modal = {**view, "id": "V0001", "hash": "h1", "state": {"values": _state(view, hosts=hosts, **typed)}}
    slack.action("study_setup.hosts", channel=None, view=modal, block_id="setup.hosts", action_type="multi_users_select", action_extra={"selected_users": hosts})
    update = slack.fake.wait_for("views.update")[-1].params
    assert (update["view_id"], update["hash"]) == ("V0001", "h1")
    assert_valid_view(update["view"])
    return update["view"]


def _study(db: Database, channel: str = CHANNEL) -> Study | None:
    with db.transaction() as session:
        study = session.query(Study).filter_by(slack_channel_id=channel).one_or_none()
        if study is not None:
            _ = [h.member.slack_user_id for h in study.hosts]
        return study


@pytest.mark.usefixtures("ada_in_new_york")
def test_setup_in_a_channel_without_a_study_opens_a_form_for_a_new_one(slack: SlackClient, services: Services) -> None:
    view = _open(slack, channel=NEW_CHANNEL)

    assert (view["title"]["text"], view["submit"]["text"]) == ("New study", "Create study")
    assert json.loads(view["private_metadata"]) == {"channel_id": NEW_CHANNEL}
    inputs = _inputs(view)
    assert inputs["setup.timezone"]["initial_value"] == "America/New_York"
    assert inputs["setup.hosts"]["initial_users"] == [ADA]
    assert f"setup.host_url.{ADA}" in inputs and f"setup.host_password.{ADA}" in inputs
    assert "setup.team" not in inputs  # Ada has no team yet: only "new team"
    assert [o["value"] for o in inputs["setup.days"]["initial_options"]] == ["0", "1", "2", "3", "4"]
    assert slack.fake.calls_to("users.info")[0].params["user"] == ADA


def test_setup_in_the_study_channel_opens_the_saved_settings(slack: SlackClient, seeded: Seed) -> None:
    view = _open(slack)

    assert (view["title"]["text"], view["submit"]["text"]) == ("Edit study", "Save changes")
    assert SetupTarget.decode(view["private_metadata"]) == SetupTarget(channel_id=CHANNEL, study_id=seeded.study_id)
    inputs = _inputs(view)
    assert inputs["setup.name"]["initial_value"] == "Checkout redesign"
    assert inputs["setup.team"]["initial_option"]["text"]["text"] == "UX Research"
    assert inputs["setup.hosts"]["initial_users"] == [ADA, BO]
    assert inputs[f"setup.host_url.{ADA}"]["initial_value"] == "https://meet.example.com/ada"
    assert inputs[f"setup.host_password.{ADA}"]["initial_value"] == "s3cret"
    assert "initial_value" not in inputs[f"setup.host_url.{BO}"]
    assert (inputs["setup.timezone"]["initial_value"], inputs["setup.duration"]["initial_value"]) == ("Europe/Berlin", "45")
    assert (inputs["setup.day_start"]["initial_time"], inputs["setup.day_end"]["initial_time"]) == ("09:00", "17:00")
    assert slack.fake.calls_to("users.info") == []


def test_choosing_hosts_shows_a_room_per_host_and_keeps_what_was_typed(slack: SlackClient, seeded: Seed) -> None:
    view = _open(slack, channel=NEW_CHANNEL)
    assert f"setup.host_url.{BO}" not in _inputs(view)

    updated = _choose_hosts(slack, view, [ADA, BO], name="Pricing study", host_url__U0ADA="https://meet.example.com/ada-2")

    inputs = _inputs(updated)
    assert f"setup.host_url.{BO}" in inputs and f"setup.host_password.{BO}" in inputs
    assert inputs["setup.name"]["initial_value"] == "Pricing study"
    assert inputs[f"setup.host_url.{ADA}"]["initial_value"] == "https://meet.example.com/ada-2"
    assert inputs["setup.hosts"]["initial_users"] == [ADA, BO]
    assert {b["block_id"] for b in view["blocks"]} <= {b["block_id"] for b in updated["blocks"]}
    assert updated["private_metadata"] == view["private_metadata"]


def test_many_hosts_stay_within_the_modal_block_limit(slack: SlackClient) -> None:
    many = [f"U0H{i:02d}" for i in range(12)]
    updated = _choose_hosts(slack, _open(slack, channel=NEW_CHANNEL), many)  # validated, 100 blocks at most
    shown = [b for b in _inputs(updated) if b.startswith("setup.host_url.")]
    assert shown == [f"setup.host_url.{u}" for u in many[:10]]


def test_a_valid_form_creates_the_study_and_says_what_next(slack: SlackClient, services: Services, db: Database) -> None:
    view = _choose_hosts(slack, _open(slack, channel=NEW_CHANNEL), [ADA, BO])
    state = _state(
        view, name="Pricing study", new_team="Growth research", duration="30", host_url__U0ADA="https://meet.example.com/ada",
        availability_text="Mon 09:00-12:00, Thu 13:00-17:00", incentive="40 usd", screener="Do you shop online? | Weekly* | Never", immediate=["yes"],
    )

    response = _submit(slack, view, state)

    assert response.text == ""  # the modal closes
    study = _study(db, NEW_CHANNEL)
    assert study is not None and study.name == "Pricing study" and study.duration_minutes == 30
    assert study.timezone == "Europe/Berlin" and study.immediate_scheduling and study.incentive_currency == "USD"
    assert [h.member.slack_user_id for h in study.hosts] == [ADA, BO]
    confirmation = slack.fake.wait_for("chat.postEphemeral")[0].params
    assert (confirmation["channel"], confirmation["user"]) == (NEW_CHANNEL, ADA)
    text = json.dumps(confirmation["blocks"])
    assert "Pricing study* now lives in" in text and "Mon 09:00-12:00, Thu 13:00-17:00 (Europe/Berlin)" in text
    assert f"No meeting link yet for <@{BO}>" in text and "Next:" in text

    listed = slack.command("", channel=NEW_CHANNEL).json()
    assert listed["response_type"] == "ephemeral" and "Pricing study" in json.dumps(listed["blocks"])


def test_an_edit_updates_the_study(slack: SlackClient, services: Services, seeded: Seed, db: Database) -> None:
    view = _open(slack)
    state = _state(view, duration="60", availability_text="Mon 09:00-12:00, Tue 13:00-17:00", host_url__U0BO="https://meet.example.com/bo", self_service=[])

    assert _submit(slack, view, state).text == ""

    study = _study(db)
    assert study is not None and study.id == seeded.study_id
    assert study.duration_minutes == 60 and not study.participants_can_reschedule
    assert study.availability == [{"weekday": 0, "start": "09:00", "end": "12:00"}, {"weekday": 1, "start": "13:00", "end": "17:00"}]
    assert [(h.member.slack_user_id, h.conferencing_url) for h in study.hosts] == [(ADA, "https://meet.example.com/ada"), (BO, "https://meet.example.com/bo")]
    assert "Updated *Checkout redesign*" in json.dumps(slack.fake.wait_for("chat.postEphemeral")[0].params["blocks"])


def test_meet_and_the_calendar_conflict_rule_are_chosen_in_the_form(slack: SlackClient, seeded: Seed, db: Database) -> None:
    view = _open(slack)
    assert _inputs(view)["setup.conferencing"]["initial_option"]["value"] == "link"
    assert _inputs(view)["setup.calendar_conflicts"]["initial_option"]["value"] == "busy"

    assert _submit(slack, view, _state(view, conferencing="google_meet", calendar_conflicts="all")).text == ""

    study = _study(db)
    assert study is not None and (study.conferencing, study.calendar_conflict_rule) == ("google_meet", "all")
    slack.fake.reset()
    reopened = _open(slack)
    assert _inputs(reopened)["setup.conferencing"]["initial_option"]["value"] == "google_meet"


@pytest.mark.parametrize(
    ("typed", "block", "expected"),
    [
        ({"timezone": "Mars/Olympus"}, "setup.timezone", "'Mars/Olympus' is not a time zone"),
        ({"day_start": "22:00", "day_end": "02:00"}, "setup.day_end", "can't cross midnight"),
        ({"availability_text": "Mondays at nine"}, "setup.availability_text", "Can't read 'Mondays at nine'"),
        ({"days": []}, "setup.days", "Choose at least one day"),
        ({"hosts": [ADA, OUTSIDER]}, "setup.hosts", f"{OUTSIDER} is not on the team 'UX Research'"),
        ({"buffer": "-5"}, "setup.buffer", "can't be negative"),
        ({"incentive": "50 XYZ"}, "setup.incentive", "XYZ is not an ISO 4217 currency code"),
        ({"observer_url": "javascript:alert(1)"}, "setup.observer_url", "must be a web address"),
        ({"host_url__U0ADA": "meet dot example"}, f"setup.host_url.{ADA}", "must be a web address"),
        ({"screener": "Fine? | yes* | no\nOnly one? | yes*"}, "setup.screener", "Screener line 2"),
        ({"immediate": ["yes"]}, "setup.screener", "add at least one question"),
    ],
    ids=["zone", "midnight", "unreadable-hours", "no-days", "host-off-team", "negative-buffer", "currency", "observer-url", "host-url", "screener-line", "immediate-without-screener"],
)
def test_bad_input_is_shown_beside_its_input_and_nothing_is_saved(slack: SlackClient, services: Services, seeded: Seed, typed: dict[str, Any], block: str, expected: str) -> None:
    view = _open(slack)

    reply = _submit(slack, view, _state(view, **typed)).json()

    assert reply["response_action"] == "errors"
    assert list(reply["errors"]) == [block], reply
    assert expected in reply["errors"][block]
    assert block in _inputs(view)
    info = services.studies.get(seeded.study_id)
    assert (info.duration_minutes, info.timezone, info.host_slack_user_ids) == (45, "Europe/Berlin", (ADA, BO))
    assert slack.fake.calls_to("chat.postEphemeral") == []


def test_an_outsider_can_neither_open_nor_submit_the_form(slack: SlackClient, services: Services, seeded: Seed) -> None:
    slack.command("setup", user=OUTSIDER)
    reply = slack.fake.wait_for("response_url")[0].params
    assert "Only the research team" in reply["text"] and reply["response_type"] == "ephemeral"
    assert slack.fake.calls_to("views.open") == []

    view = _open(slack)  # Ada's form, submitted as Eve
    refused = _submit(slack, view, _state(view, name="Taken over"), user=OUTSIDER).json()

    assert refused["response_action"] == "update"
    assert "Only the research team" in json.dumps(refused["view"])
    assert services.studies.get(seeded.study_id).name == "Checkout redesign"


def test_crafted_private_metadata_is_refused(slack: SlackClient, services: Services, seeded: Seed) -> None:
    other_team = services.teams.create("Other team", WORKSPACE, ["U0ZED"])
    other = services.studies.create(team_ref=other_team.id, name="Other study", channel_id="C0OTHER", timezone="UTC", duration_minutes=30, host_ids=["U0ZED"])
    view = _open(slack)
    state = _state(view, name="Renamed")

    garbage = _submit(slack, view, state, metadata='{"channel_id": "C0STUDY", "study_id": "x"}').json()
    mismatch = _submit(slack, view, state, metadata=SetupTarget(channel_id=CHANNEL, study_id=other.id).encode()).json()
    elsewhere = _submit(slack, view, state, metadata=SetupTarget(channel_id="C0OTHER", study_id=other.id).encode()).json()

    assert garbage["response_action"] == "update" and "out of date" in json.dumps(garbage["view"])
    assert mismatch["response_action"] == "update" and "no longer matches" in json.dumps(mismatch["view"])
    assert elsewhere["response_action"] == "update" and "Only the research team" in json.dumps(elsewhere["view"])
    assert [s.name for s in services.studies.list()] == ["Checkout redesign", "Other study"]


def test_setup_in_a_direct_message_explains_where_to_run_it(slack: SlackClient) -> None:
    slack.command("setup", channel="D0DM")
    assert "not in a direct message" in slack.fake.wait_for("response_url")[0].params["text"]
    assert slack.fake.calls_to("views.open") == []


def test_help_lists_setup(slack: SlackClient) -> None:
    assert "/interviews setup" in json.dumps(slack.command("help").json()["blocks"])


def test_saving_remembers_hosts_names_and_emails_from_slack(slack: SlackClient, services: Services, db: Database) -> None:
    """Hosts' calendar invites need their email: it comes from their Slack profile."""
    view = _choose_hosts(slack, _open(slack, channel=NEW_CHANNEL), [ADA, BO])
    state = _state(view, name="Pricing study", new_team="Growth research", duration="30")
    assert _submit(slack, view, state).text == ""
    # Profiles are looked up after the ack (slow work), just before the confirmation is posted.
    slack.fake.wait_for("chat.postEphemeral")
    study = _study(db, NEW_CHANNEL)
    assert study is not None
    people = {h.member.slack_user_id: (h.member.display_name, h.member.email) for h in study.hosts}
    assert people == {ADA: (f"Test User {ADA}", f"{ADA.lower()}@example.com"), BO: (f"Test User {BO}", f"{BO.lower()}@example.com")}
