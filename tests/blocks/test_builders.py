"""The pure Block Kit builders: limits, escaping and routing values, without Slack or a database."""

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from blocks import text
from blocks.activity import sentence
from blocks.ids import (
    ActionChoice,
    BadValue,
    InterviewRef,
    ListPosition,
    TimelinePosition,
)
from blocks.interview_details import MAX_ATTENDEE_ROWS, interview_details_view
from blocks.interview_list import interview_list
from bot.domain import (
    ActivityPage,
    ActivityView,
    AttendeeView,
    InterviewDetails,
    InterviewPage,
    InterviewSummary,
    ListTab,
    StudyRef,
)
from storage.enums import (
    ActivityKind,
    ActorKind,
    AttendeeRole,
    InterviewStatus,
    InviteStatus,
)
from tests.support.blockkit import assert_valid_message, assert_valid_view

START = datetime(2030, 3, 5, 9, 0, tzinfo=UTC)
STUDY = StudyRef(1, "Checkout redesign", "Europe/Berlin", "C0STUDY")


def attendee(name: str, role: AttendeeRole = AttendeeRole.PARTICIPANT, status: InviteStatus = InviteStatus.AWAITING, *, confirmed: bool = False, user: str | None = None) -> AttendeeView:
    return AttendeeView(name=name, role=role, invite_status=status, attendance_confirmed=confirmed, attended=None, is_organizer=role is AttendeeRole.HOST, slack_user_id=user, email=None if user else f"{name}@example.com")


def summary(i: int = 1, *, status: InterviewStatus = InterviewStatus.UPCOMING, ended: bool = False, attendees: tuple[AttendeeView, ...] | None = None, session: str = "Checkout interview", url: str | None = "https://meet.example.com/a") -> InterviewSummary:
    people = attendees if attendees is not None else (attendee("Host", AttendeeRole.HOST, InviteStatus.ACCEPTED, user="U0ADA"), attendee(f"Person {i}"))
    start = START + timedelta(hours=i)
    return InterviewSummary(i, start, start + timedelta(minutes=45), session, status, url, people, ended)


def page(items: list[InterviewSummary], **kw: object) -> InterviewPage:
    defaults = dict(study=STUDY, tab=ListTab.UPCOMING, items=tuple(items), offset=0, upcoming_count=len(items), past_count=0, count_cap=1000, has_previous=False, has_next=False)
    defaults.update(kw)
    return InterviewPage(**defaults)  # type: ignore[arg-type]


def dicts(blocks: list) -> list[dict]:
    return [b.to_dict() for b in blocks]


def test_a_full_page_stays_within_message_limits() -> None:
    items = [summary(i) for i in range(1, 11)]
    blocks = dicts(interview_list(page(items, has_next=True, has_previous=True, offset=10, upcoming_count=1000)))
    assert_valid_message(blocks)
    assert len(blocks) <= 50
    assert "Upcoming (1000+)" in json.dumps(blocks, ensure_ascii=False)


def test_very_long_and_hostile_names_are_escaped_and_cut() -> None:
    hostile = attendee("<!channel> " + "Ж" * 5000)
    blocks = dicts(interview_list(page([summary(attendees=(hostile,), session="<@U0BOSS> " + "x" * 500)])))
    assert_valid_message(blocks)
    dumped = json.dumps(blocks, ensure_ascii=False)
    assert "<!channel>" not in dumped and "<@U0BOSS>" not in dumped
    assert "&lt;!channel&gt;" in dumped and text.ELLIPSIS in dumped


@pytest.mark.parametrize(
    ("status", "confirmed", "mark"),
    [(InviteStatus.ACCEPTED, False, "✓"), (InviteStatus.ACCEPTED, True, "✓✓"), (InviteStatus.TENTATIVE, False, "(Attendance unknown)"), (InviteStatus.DECLINED, False, "✗ declined"), (InviteStatus.AWAITING, False, "(awaiting reply)")],
)
def test_attendance_marks(status: InviteStatus, confirmed: bool, mark: str) -> None:
    assert text.attendance_mark(attendee("Nora", status=status, confirmed=confirmed)) == mark


def _controls(s: InterviewSummary) -> tuple[list[str], list[str]]:
    """A list row's buttons, and its "More…" options, by label."""
    blocks = dicts(interview_list(page([s])))
    elements = [e for b in blocks if b.get("block_id", "").endswith(".actions") for e in b["elements"]]
    buttons = [e["text"]["text"] for e in elements if e["type"] == "button"]
    menus = [e for e in elements if e["type"] == "static_select"]
    options = [o["text"]["text"] for m in menus for g in m["option_groups"] for o in g["options"]]
    return buttons, options


def test_controls_offer_only_what_applies_to_the_interview_now() -> None:
    buttons, more = _controls(summary())
    assert buttons == ["View details", "Join meeting", "Reschedule"]
    assert "Cancel interview" in more and "Mark completed" not in more and "Send incentive" not in more
    assert "Change participant limit" not in more  # a one-on-one
    assert "Change participant limit" in _controls(replace(summary(), participant_limit=4))[1]

    buttons, more = _controls(summary(ended=True))
    assert buttons == ["View details", "Mark completed", "Mark no-show"]
    assert "Join meeting" not in buttons and "Edit details" not in more

    buttons, more = _controls(summary(status=InterviewStatus.CANCELED))
    assert buttons == ["View details"] and more == ["Compose custom email", "Copy scheduling link"]
    assert _controls(summary(url=None, attendees=(attendee("Host", AttendeeRole.HOST, user="U0ADA"),)))[0] == ["View details", "Reschedule"]


def test_every_control_value_names_the_interview_as_shown() -> None:
    s = summary(3)
    blocks = dicts(interview_list(page([s])))
    menu = next(e for b in blocks for e in b.get("elements", []) if e.get("type") == "static_select")
    for group in menu["option_groups"]:
        for option in group["options"]:
            choice = ActionChoice.decode(option["value"])
            assert choice.interview_id == 3 and choice.seen_start == int(s.starts_at.timestamp())
            assert choice.seen_status is InterviewStatus.UPCOMING


def test_outcomes_in_past_rows() -> None:
    assert text.outcome(summary(status=InterviewStatus.NO_SHOW)) == "No-show"
    assert text.outcome(summary(ended=True)) == "Awaiting outcome"
    assert text.outcome(summary()) is None


def details(s: InterviewSummary, *, events: int = 3, total: int | None = None, offset: int = 0, description: str | None = "About <checkout>") -> InterviewDetails:
    items = tuple(ActivityView(ActivityKind.EMAIL_SENT, ActorKind.SYSTEM, None, None, START - timedelta(minutes=i), {"template": "reminder", "to": "Nora"}) for i in range(events))
    return InterviewDetails(s, STUDY, "pw", description, 1, None, None, ActivityPage(items, offset, total if total is not None else events))


def test_details_modal_with_many_attendees_and_a_long_description() -> None:
    crowd = tuple(attendee(f"P{i}") for i in range(120))
    view = interview_details_view(details(summary(attendees=crowd), events=10, total=50, description="d" * 10_000)).to_dict()
    assert_valid_view(view)
    dumped = json.dumps(view)
    assert f"and {120 - MAX_ATTENDEE_ROWS} more" in dumped
    assert "Show older" in dumped and "Newer" not in dumped
    assert TimelinePosition.decode(view["private_metadata"]) == TimelinePosition(interview_id=1, offset=0)


def test_details_modal_middle_page_has_both_directions() -> None:
    view = interview_details_view(details(summary(), events=10, total=30, offset=10)).to_dict()
    assert_valid_view(view)
    actions = [e["action_id"] for b in view["blocks"] for e in b.get("elements", []) if "action_id" in e]
    assert "interview_details.timeline_newer" in actions and "interview_details.timeline_older" in actions


def test_every_activity_kind_has_its_own_sentence() -> None:
    for kind in ActivityKind:
        line = sentence(ActivityView(kind, ActorKind.MEMBER, "U0ADA", None, START, {}))
        assert line != f"<@U0ADA> {kind.value.replace('_', ' ')}", f"{kind} falls back to its raw name"


@pytest.mark.parametrize(
    "value",
    [ListPosition(tab="past", key=(1900000000, 12), direction="before", offset=20), InterviewRef(interview_id=5), TimelinePosition(interview_id=5, offset=30), ActionChoice(action="reschedule_email", interview_id=2_000_000_000, seen_start=4_000_000_000, seen_status="no_show")],
)
def test_routing_values_round_trip_within_slack_limits(value: object) -> None:
    encoded = value.encode()  # type: ignore[attr-defined]
    assert len(encoded) <= 150  # an option value's limit, the tightest of all
    assert type(value).decode(encoded) == value


@pytest.mark.parametrize("raw", [None, "", "{", "[]", '{"interview_id": 0}', '{"interview_id": "1; drop"}', '{"interview_id": 1, "extra": 2}'])
def test_hand_crafted_values_are_refused(raw: str | None) -> None:
    with pytest.raises(BadValue):
        InterviewRef.decode(raw)


def test_summary_groups_people_by_role() -> None:
    s = replace(summary(), attendees=(attendee("Host", AttendeeRole.HOST, user="U0ADA"), attendee("Guest", AttendeeRole.GUEST, user="U0BO"), attendee("Nora", status=InviteStatus.ACCEPTED)))
    assert text.invitees(s) == "Nora ✓ · host <@U0ADA> · guests <@U0BO>"
