"""The per-interview controls shared by the list, the details modal and (later) the card."""

from slack_sdk.models.blocks import ButtonElement, Option, OverflowMenuElement

from blocks.ids import ActionId, InterviewRef, MenuChoice
from bot.domain import InterviewSummary
from storage.enums import InterviewStatus


def meeting_is_joinable(summary: InterviewSummary) -> bool:
    return (
        summary.conferencing_url is not None
        and summary.status is InterviewStatus.UPCOMING
        and not summary.has_ended
    )


def view_details_button(summary: InterviewSummary) -> ButtonElement:
    return ButtonElement(
        text="View details",
        action_id=ActionId.VIEW_DETAILS,
        value=InterviewRef(interview_id=summary.id).encode(),
    )


def join_meeting_button(summary: InterviewSummary) -> ButtonElement:
    assert summary.conferencing_url is not None
    return ButtonElement(
        text="Join meeting",
        action_id=ActionId.JOIN_MEETING,
        url=summary.conferencing_url,
        value=InterviewRef(interview_id=summary.id).encode(),
        style="primary",
    )


def actions_menu(summary: InterviewSummary) -> OverflowMenuElement:
    """The "⋯" menu: only the actions that apply to this interview now (at most five)."""
    options = []
    if meeting_is_joinable(summary):
        options.append(
            Option(
                text="Join meeting",
                value=MenuChoice(action="join_meeting", interview_id=summary.id).encode(),
                url=summary.conferencing_url,
            )
        )
    options.append(
        Option(
            text="View details",
            value=MenuChoice(action="view_details", interview_id=summary.id).encode(),
        )
    )
    if summary.participants:
        options.append(
            Option(
                text="Copy scheduling link",
                value=MenuChoice(action="copy_link", interview_id=summary.id).encode(),
            )
        )
    return OverflowMenuElement(action_id=ActionId.INTERVIEW_MENU, options=options)
