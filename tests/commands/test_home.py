"""The App Home tab, through signed Events API requests: published with the user's own interviews,
actions only where they are on the team, and clicks from it opening modals (never pushing)."""

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select

from blocks.ids import ActionChoice, InterviewRef
from bot.actions import InterviewAction
from bot.services import Services
from storage.db import Database
from storage.enums import AttendeeRole
from storage.models import Attendee, Interview, Participant, Study
from tests.conftest import (
    ADA,
    BO,
    CLI,
    SIGNING_SECRET,
    WORKSPACE,
    MovableClock,
    Seed,
    SlackClient,
    berlin,
)
from tests.support import slack_requests
from tests.support.blockkit import MAX_VIEW_BLOCKS, assert_valid_view

ZED = "U0ZED"
MANIFEST = Path(__file__).resolve().parents[2] / "manifest.yml"


def _open_home(slack: SlackClient, user: str, *, tab: str = "home", event_id: str = "Ev0HOME1") -> Any:
    event = {"type": "app_home_opened", "user": user, "channel": "D0HOME", "tab": tab, "event_ts": "1700000000.000100"}
    body = slack_requests.event_callback(event, team_id=WORKSPACE, event_id=event_id)
    return slack.http.post("/slack/events", content=body.encode(), headers=slack_requests.sign_json(body, SIGNING_SECRET))


def _published(slack: SlackClient, count: int = 1) -> dict[str, Any]:
    call = slack.fake.wait_for("views.publish", count)[count - 1].params
    assert_valid_view(call["view"])
    return call


def _book(services: Services, study_id: int, email: str, day: int, hour: int, host: str = ADA) -> int:
    return services.booking.book(study_ref=study_id, participant_email=email, starts_at=berlin(day, hour), host_id=host, actor=CLI).interview_id


def _add_guest(db: Database, interview_id: int, user: str) -> None:
    with db.transaction() as session:
        interview = session.get(Interview, interview_id)
        interview.attendees.append(Attendee(role=AttendeeRole.GUEST, slack_user_id=user, display_name=user))


def _pricing_study(services: Services) -> int:
    """Another team's study (Zed's), where Bo is no member."""
    team = services.teams.create("Pricing team", WORKSPACE, [ZED])
    study = services.studies.create(team_ref=team.id, name="Pricing <beta>", channel_id="C0PRICING", timezone="Europe/Berlin", duration_minutes=30, host_ids=[ZED])
    services.studies.set_host_conferencing(study.id, ZED, "https://meet.example.com/zed", None)
    services.participants.add(study.id, "pia@example.com", "Pia Lund")
    return study.id


def _action_ids(block: dict[str, Any]) -> list[str]:
    return [e["action_id"] for e in block.get("elements", [])]


def _rows(view: dict[str, Any]) -> dict[int, list[dict[str, Any]]]:
    """Blocks per interview id, from the block ids ``home.<id>`` and ``home.<id>.actions``."""
    rows: dict[int, list[dict[str, Any]]] = {}
    for block in view["blocks"]:
        parts = str(block.get("block_id", "")).split(".")
        if parts[0] == "home" and parts[1].isdigit():
            rows.setdefault(int(parts[1]), []).append(block)
    return rows


def test_home_lists_the_users_own_interviews_with_actions_only_for_team_studies(slack: SlackClient, services: Services, seeded: Seed, db: Database) -> None:
    hosted = _book(services, seeded.study_id, "nora@example.com", 6, 10)
    not_bos = _book(services, seeded.study_id, "otto@example.com", 7, 10)
    pricing = _book(services, _pricing_study(services), "pia@example.com", 6, 9, host=ZED)
    _add_guest(db, hosted, BO)
    _add_guest(db, pricing, BO)

    response = _open_home(slack, BO)

    assert response.status_code == 200
    call = _published(slack)
    assert call["user_id"] == BO
    view = call["view"]
    assert view["type"] == "home"
    rows = _rows(view)
    assert list(rows) == [pricing, hosted]  # soonest first; Otto's interview is not Bo's
    assert not_bos not in rows
    text = json.dumps(view, ensure_ascii=False)
    assert "Pricing &lt;beta&gt;" in text and "Checkout redesign" in text and "Nora Quist" in text
    assert f"<!date^{int(berlin(6, 10).timestamp())}^" in text

    team_row, other_row = rows[hosted], rows[pricing]
    assert "You're a guest" in team_row[0]["text"]["text"]
    assert {"interview.view_details", "interview.join_meeting", "interview.more"} <= set(_action_ids(team_row[1]))
    # Another team's study: seen, joinable, but no actions.
    assert _action_ids(other_row[1]) == ["interview.join_meeting"]


def test_the_messages_tab_publishes_nothing_and_an_empty_home_says_where_to_start(slack: SlackClient, services: Services, seeded: Seed) -> None:
    _book(services, seeded.study_id, "nora@example.com", 6, 10)

    assert _open_home(slack, ADA, tab="messages", event_id="Ev0MSG").status_code == 200
    assert _open_home(slack, "U0NEWBIE", event_id="Ev0NEW").status_code == 200

    call = _published(slack)
    assert call["user_id"] == "U0NEWBIE"
    text = json.dumps(call["view"])
    assert "no upcoming interviews" in text and "`/interviews`" in text
    assert len(slack.fake.calls_to("views.publish")) == 1


def test_a_long_home_is_capped_at_twenty(slack: SlackClient, services: Services, seeded: Seed, db: Database, clock: MovableClock) -> None:
    for n in range(22):
        services.participants.add(seeded.study_id, f"p{n}@example.com", f"Person {n}")
    starts = [berlin(day, hour) for day in (6, 7, 8) for hour in range(9, 17)][:22]
    for n, start in enumerate(starts):
        _book(services, seeded.study_id, f"p{n}@example.com", start.day, start.hour)

    _open_home(slack, ADA)

    view = _published(slack)["view"]
    assert len(view["blocks"]) <= MAX_VIEW_BLOCKS
    assert len(_rows(view)) == 20
    assert "Showing the next 20" in json.dumps(view)


def test_a_click_from_the_home_tab_opens_a_modal_instead_of_pushing(slack: SlackClient, services: Services, seeded: Seed, db: Database) -> None:
    interview_id = _book(services, seeded.study_id, "nora@example.com", 6, 10)
    with db.transaction() as session:
        study = session.get(Study, seeded.study_id)
        study.screener = [{"id": "q1", "question": "Shop online?", "choices": [], "qualifying": []}]
        nora = session.scalars(select(Participant).where(Participant.email == "nora@example.com")).one()
        nora.screener_answers = {"q1": {"question": "Shop online?", "answer": "Every week", "position": 0}}
    home = {"id": "V0HOME", "type": "home", "blocks": []}
    choice = ActionChoice(action=InterviewAction.SCREENER_RESPONSES, interview_id=interview_id).encode()

    slack.action("interview.more", channel=None, action_type="static_select", selected_option_value=choice, view=home)
    slack.action("interview.view_details", channel=None, value=InterviewRef(interview_id=interview_id).encode(), view=home)

    opened = [c.params["view"] for c in slack.fake.wait_for("views.open", 2)]
    assert {v["title"]["text"] for v in opened} == {"Screener responses", "Interview details"}
    assert "Every week" in json.dumps(opened)
    assert slack.fake.calls_to("views.push") == []


def test_the_home_shows_what_happened_since_it_was_last_opened(slack: SlackClient, services: Services, seeded: Seed, db: Database, clock: MovableClock) -> None:
    interview_id = _book(services, seeded.study_id, "nora@example.com", 6, 10)
    _open_home(slack, ADA, event_id="Ev0A")
    assert interview_id in _rows(_published(slack)["view"])

    clock.now = berlin(6, 10) + timedelta(minutes=45)  # it has ended
    _open_home(slack, ADA, event_id="Ev0B")
    assert _rows(_published(slack, 2)["view"]) == {}


def test_the_manifest_enables_the_home_tab_and_subscribes_to_its_event() -> None:
    manifest = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    events = manifest["settings"]["event_subscriptions"]
    assert "app_home_opened" in events["bot_events"] and events["request_url"].endswith("/slack/events")
