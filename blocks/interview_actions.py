"""The per-interview controls shared by the card, the `/interviews` list, the details modal and
App Home: the Join meeting link, one or two buttons for what is most likely next, and a
"More…" select with every other action that applies (``bot.domain.available_actions``).

A select rather than an overflow menu: an overflow holds five options, a select a hundred, so
every action is two clicks away wherever the interview is shown.
"""

from typing import Any

from slack_sdk.models.blocks import (
    ButtonElement,
    ConfirmObject,
    Option,
    OptionGroup,
    StaticSelectElement,
)

from blocks.ids import ActionChoice, ActionId, InterviewRef, action_button_id
from bot.actions import InterviewAction, available_actions, primary_actions
from bot.domain import InterviewSummary

A = InterviewAction

LABELS: dict[InterviewAction, str] = {
    A.VIEW_DETAILS: "View details",
    A.RESCHEDULE: "Reschedule",
    A.CHANGE_HOST: "Change host",
    A.EDIT_DETAILS: "Edit details",
    A.CHANGE_LIMIT: "Change participant limit",
    A.ADD_GUEST: "Add a guest",
    A.OBSERVER_ROOM: "View observer room",
    A.SEND_OBSERVER_BOT: "Send observer bot",
    A.CUSTOM_EMAIL: "Compose custom email",
    A.REMINDER_EMAIL: "Compose reminder email",
    A.RESCHEDULE_EMAIL: "Ask to reschedule (email)",
    A.INCENTIVE_EMAIL: "Send incentive",
    A.SCREENER_RESPONSES: "View screener responses",
    A.COPY_LINK: "Copy scheduling link",
    A.MARK_COMPLETED: "Mark completed",
    A.MARK_NO_SHOW: "Mark no-show",
    A.CANCEL: "Cancel interview",
}

# How the "More…" options are grouped, in this order.
GROUPS: tuple[tuple[str, tuple[InterviewAction, ...]], ...] = (
    ("Interview", (A.VIEW_DETAILS, A.RESCHEDULE, A.CHANGE_HOST, A.EDIT_DETAILS, A.CHANGE_LIMIT, A.ADD_GUEST)),
    ("Observe", (A.OBSERVER_ROOM, A.SEND_OBSERVER_BOT)),
    ("Participant", (A.CUSTOM_EMAIL, A.REMINDER_EMAIL, A.RESCHEDULE_EMAIL, A.INCENTIVE_EMAIL,
                     A.SCREENER_RESPONSES, A.COPY_LINK)),
    ("Outcome", (A.MARK_COMPLETED, A.MARK_NO_SHOW, A.CANCEL)),
)

# Buttons that change the outcome at once ask first, with Slack's own confirmation dialog.
_CONFIRM: dict[InterviewAction, tuple[str, str, str]] = {
    A.MARK_COMPLETED: ("Mark as completed?", "The interview will show as completed.", "Mark completed"),
    A.MARK_NO_SHOW: ("Mark as no-show?", "The participant will show as a no-show for this interview.", "Mark no-show"),
}


def choice(summary: InterviewSummary, action: InterviewAction) -> ActionChoice:
    """The routing value for ``action`` on the interview as it is shown now."""
    return ActionChoice(
        action=action,
        interview_id=summary.id,
        seen_start=int(summary.starts_at.timestamp()),
        seen_status=summary.status,
    )


def meeting_is_joinable(summary: InterviewSummary) -> bool:
    return summary.meeting_is_joinable


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


def action_button(summary: InterviewSummary, action: InterviewAction) -> ButtonElement:
    # A group slot's no-show opens a modal to pick who missed it: that is its confirmation.
    confirm = None if action is A.MARK_NO_SHOW and summary.is_group else _CONFIRM.get(action)
    return ButtonElement(
        text=LABELS[action],
        action_id=action_button_id(action),
        value=choice(summary, action).encode(),
        style="danger" if action is A.CANCEL else None,
        confirm=ConfirmObject(title=confirm[0], text=confirm[1], confirm=confirm[2], deny="Not now") if confirm else None,
    )


def more_menu(summary: InterviewSummary, *, leave_out: tuple[InterviewAction, ...] = ()) -> StaticSelectElement | None:
    """Every other action that applies, grouped; None when nothing is left to offer."""
    offered = [a for a in available_actions(summary) if a not in leave_out]
    groups = []
    for label, members in GROUPS:
        options = [
            Option(text=LABELS[a], value=choice(summary, a).encode()) for a in members if a in offered
        ]
        if options:
            groups.append(OptionGroup(label=label, options=options))
    if not groups:
        return None
    return StaticSelectElement(action_id=ActionId.INTERVIEW_MORE, placeholder="More…", option_groups=groups)


def controls(summary: InterviewSummary, *, with_details: bool) -> list[Any]:
    """The elements of an interview's actions block: Join, the likely next step(s), More…

    ``with_details``: add a View details button (the card and the list; the modal is the details).
    """
    elements: list[Any] = []
    if with_details:
        elements.append(view_details_button(summary))
    if summary.meeting_is_joinable:
        elements.append(join_meeting_button(summary))
    primary = primary_actions(summary)
    elements += [action_button(summary, a) for a in primary]
    menu = more_menu(summary, leave_out=(*primary, A.VIEW_DETAILS))
    if menu is not None:
        elements.append(menu)
    return elements
