"""`/interviews` through signed requests into the real app; replies checked as Slack sees them."""

import json
from datetime import timedelta
from typing import Any

from bot.services import Services
from tests.conftest import ADA, CLI, OUTSIDER, MovableClock, Seed, SlackClient, berlin
from tests.support.blockkit import assert_valid_message


def _texts(blocks: list[dict[str, Any]]) -> str:
    return json.dumps(blocks, ensure_ascii=False)


def test_lists_upcoming_interviews_soonest_first(slack: SlackClient, services: Services, seeded: Seed) -> None:
    later = services.booking.book(study_ref=seeded.study_id, participant_email="otto@example.com", starts_at=berlin(7, 14), host_id=ADA, actor=CLI)
    sooner = services.booking.book(study_ref=seeded.study_id, participant_email="nora@example.com", starts_at=berlin(6, 10), host_id=ADA, actor=CLI)

    response = slack.command("")

    assert response.status_code == 200
    reply = response.json()
    assert reply["response_type"] == "ephemeral"
    assert_valid_message(reply["blocks"])
    text = _texts(reply["blocks"])
    assert text.index("Nora Quist") < text.index("Otto Berg")
    assert f"<!date^{int(sooner.starts_at.timestamp())}^" in text
    assert "45 min" in text and "Upcoming (2)" in text and "Past (0)" in text
    assert "(awaiting reply)" in text and f"<@{ADA}>" in text
    assert later.interview_id != sooner.interview_id


def _book_many(services: Services, seed: Seed, clock: MovableClock, count: int, *, start_day: int = 11) -> list[int]:
    """Book ``count`` interviews on consecutive 45-minute slots, one participant each."""
    ids = []
    for i in range(count):
        email = f"p{i}@example.com"
        services.participants.add(seed.study_id, email, f"Person {i:02d}")
        day, slot = start_day + i // 8, i % 8
        start = berlin(day, 9) + timedelta(minutes=60 * slot)
        result = services.booking.book(study_ref=seed.study_id, participant_email=email, starts_at=start, host_id=ADA, actor=CLI, override_availability=True)
        ids.append(result.interview_id)
    return ids


def _row_ids(blocks: list[dict[str, Any]]) -> list[int]:
    return [int(b["block_id"].split(".")[1]) for b in blocks if b["type"] == "section" and b.get("block_id", "").startswith("interview.")]


def _has_button(blocks: list[dict[str, Any]], action_id: str) -> bool:
    return any(e.get("action_id") == action_id for b in blocks for e in b.get("elements", []))


def _button(blocks: list[dict[str, Any]], action_id: str) -> dict[str, Any]:
    for block in blocks:
        for element in block.get("elements", []):
            if element.get("action_id") == action_id:
                return element
    raise AssertionError(f"no button {action_id}")


def test_pages_forward_and_back_through_every_interview(slack: SlackClient, services: Services, seeded: Seed, clock: MovableClock) -> None:
    ids = _book_many(services, seeded, clock, 23)
    first = slack.command("").json()["blocks"]
    assert _row_ids(first) == ids[:10]
    assert "Showing 1–10 of 23" in _texts(first)
    assert not _has_button(first, "interview_list.previous")

    blocks = first
    for clicks, expected in enumerate((ids[10:20], ids[20:]), start=1):
        slack.action("interview_list.next", value=_button(blocks, "interview_list.next")["value"])
        reply = slack.fake.wait_for("response_url", count=clicks)[-1].params
        assert reply["replace_original"] is True
        blocks = reply["blocks"]
        assert _row_ids(blocks) == expected
    assert "Showing 21–23 of 23" in _texts(blocks)
    assert not _has_button(blocks, "interview_list.next")

    slack.action("interview_list.previous", value=_button(blocks, "interview_list.previous")["value"])
    back = slack.fake.wait_for("response_url", count=3)[-1].params["blocks"]
    assert _row_ids(back) == ids[10:20]
    assert "Showing 11–20 of 23" in _texts(back)


def test_past_tab_shows_latest_first_with_outcomes(slack: SlackClient, services: Services, seeded: Seed, clock: MovableClock) -> None:
    ids = _book_many(services, seeded, clock, 3)
    clock.advance(days=30)  # all three have ended, none marked yet

    reply = slack.command("past").json()

    blocks = reply["blocks"]
    assert _row_ids(blocks) == list(reversed(ids))
    assert "Awaiting outcome" in _texts(blocks) and "Past (3)" in _texts(blocks)
    # The tab buttons switch back to Upcoming in place.
    slack.action("interview_list.show_upcoming", value=_button(blocks, "interview_list.show_upcoming")["value"])
    upcoming = slack.fake.wait_for("response_url")[0].params["blocks"]
    assert "No upcoming interviews" in _texts(upcoming)


def test_row_shows_attendance_marks_and_actions_menu(slack: SlackClient, services: Services, seeded: Seed, db: Any) -> None:
    from storage.enums import InviteStatus
    from storage.models import Attendee

    booked = services.booking.book(study_ref=seeded.study_id, participant_email="nora@example.com", starts_at=berlin(6, 10), host_id=ADA, actor=CLI)
    with db.transaction() as session:
        for attendee in session.query(Attendee).filter_by(interview_id=booked.interview_id):
            attendee.invite_status = InviteStatus.TENTATIVE if attendee.participant_id else InviteStatus.ACCEPTED

    blocks = slack.command("").json()["blocks"]

    text = _texts(blocks)
    assert "Nora Quist (Attendance unknown)" in text
    menu = _button(blocks, "interview.more")
    assert menu["type"] == "static_select" and menu["placeholder"]["text"] == "More…"
    labels = [o["text"]["text"] for g in menu["option_groups"] for o in g["options"]]
    assert "Copy scheduling link" in labels and "Cancel interview" in labels
    assert _button(blocks, "interview.join_meeting")["url"] == "https://meet.example.com/ada"
    assert _button(blocks, "interview.view_details")["text"]["text"] == "View details"
    assert _button(blocks, "interview.act.reschedule")["text"]["text"] == "Reschedule"


def test_help_lists_every_subcommand(slack: SlackClient) -> None:
    reply = slack.command("help").json()
    text = _texts(reply["blocks"])
    for usage in ("/interviews", "/interviews past", "/interviews help"):
        assert f"`{usage}`" in text
    assert reply["response_type"] == "ephemeral"


def test_unknown_subcommand_says_so_and_shows_help(slack: SlackClient) -> None:
    text = _texts(slack.command("frobnicate <!channel>").json()["blocks"])
    assert "frobnicate" in text and "/interviews past" in text


def test_channel_without_study_says_how_to_create_one(slack: SlackClient, seeded: Seed) -> None:
    reply = slack.command("", channel="C0ELSEWHERE").json()
    assert reply["response_type"] == "ephemeral"
    assert "This channel has no study yet" in reply["text"]
    assert "--channel C0ELSEWHERE" in reply["text"]


def test_user_outside_the_team_is_told_what_to_do(slack: SlackClient, services: Services, seeded: Seed) -> None:
    services.booking.book(study_ref=seeded.study_id, participant_email="nora@example.com", starts_at=berlin(6, 10), host_id=ADA, actor=CLI)
    reply = slack.command("", user=OUTSIDER).json()
    assert "Only the research team" in reply["text"]
    assert f"team add-member {seeded.team_id} {OUTSIDER}" in reply["text"]
    assert "Nora" not in json.dumps(reply)


def test_same_channel_id_in_another_workspace_is_not_this_study(slack: SlackClient, services: Services, seeded: Seed) -> None:
    services.booking.book(study_ref=seeded.study_id, participant_email="nora@example.com", starts_at=berlin(6, 10), host_id=ADA, actor=CLI)
    reply = slack.command("", team="T0OTHER").json()
    assert "no study yet" in reply["text"] and "Nora" not in json.dumps(reply)


def test_paging_from_a_crafted_payload_still_checks_membership(slack: SlackClient, services: Services, seeded: Seed) -> None:
    services.booking.book(study_ref=seeded.study_id, participant_email="nora@example.com", starts_at=berlin(6, 10), host_id=ADA, actor=CLI)
    slack.action("interview_list.next", user=OUTSIDER, value='{"tab":"upcoming","offset":0}')
    reply = slack.fake.wait_for("response_url")[0].params
    assert reply["replace_original"] is False
    assert "Only the research team" in reply["text"] and "Nora" not in json.dumps(reply)


def test_a_study_name_cannot_inject_mentions(slack: SlackClient, services: Services, seeded: Seed, db: Any) -> None:
    from storage.models import Study

    with db.transaction() as session:
        session.get(Study, seeded.study_id).name = "<!channel> & <@U0ADA|x>"
    text = _texts(slack.command("").json()["blocks"])
    assert "<!channel>" not in text and "&lt;!channel&gt; &amp;" in text
    outsider = slack.command("", user=OUTSIDER).json()["text"]
    assert "<!channel>" not in outsider
