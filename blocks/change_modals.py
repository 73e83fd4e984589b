"""The modals that change an interview's time or calendar event: reschedule, change host, edit
details, participant limit, add a guest.

Each opens from an action button or "More…" option; its private_metadata is the
``ActionModalState`` the listener hands in, and its inputs' block ids are the ``ChangeBlock``
members (every input's action id is ``INPUT``), so a refusal is shown next to its field.
"""

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum

from slack_sdk.models.blocks import (
    Block,
    CheckboxesElement,
    ContextBlock,
    DateTimePickerElement,
    EmailInputElement,
    InputBlock,
    MarkdownTextObject,
    NumberInputElement,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticSelectElement,
    UrlInputElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from blocks import text
from blocks.ids import CallbackId
from blocks.interview_list import row_text
from bot.domain import InterviewSummary
from storage.enums import InterviewStatus

INPUT = "value"  # every input's action id; its block id names the field
OVERRIDE_AVAILABILITY = "override_availability"
MAX_REASON = 1000
MAX_DESCRIPTION = 3000
MAX_PASSWORD = 200
MAX_LIMIT = 50
MAX_HOST_CHOICES = 100  # a static select's limit


class ChangeBlock(StrEnum):
    WHEN = "reschedule.when"
    OVERRIDE = "reschedule.override"
    REASON = "reschedule.reason"
    HOST = "change_host.host"
    HOST_LINK = "change_host.link"
    DESCRIPTION = "edit_details.description"
    LINK = "edit_details.link"
    PASSWORD = "edit_details.password"
    LIMIT = "change_limit.limit"
    GUEST_USER = "add_guest.user"
    GUEST_EMAIL = "add_guest.email"


def _modal(callback_id: CallbackId, title: str, submit: str, private_metadata: str, blocks: list[Block]) -> View:
    return View(
        type="modal", callback_id=callback_id, title=text.truncate(title, 24), submit=submit, close="Cancel",
        private_metadata=private_metadata, blocks=blocks,
    )


def _about(summary: InterviewSummary, timezone: str) -> list[Block]:
    """The interview the modal changes: its row as in the list, and its time in the study's zone."""
    return [
        SectionBlock(block_id="change.interview", text=MarkdownTextObject(text=row_text(summary))),
        ContextBlock(elements=[MarkdownTextObject(text=f"Study time: {text.in_zone(summary.starts_at, timezone)}")]),
    ]


def _note(message: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=text.truncate(message, 3000))])


def _people(summary: InterviewSummary) -> str:
    return ", ".join(text.person(p) for p in summary.participants) or "nobody yet"


# ---------------------------------------------------------------- reschedule


def reschedule_modal(summary: InterviewSummary, *, timezone: str, now: datetime, private_metadata: str) -> View:
    """Pick the new time in your own zone; the study's zone and the current time are shown."""
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=(
            "Pick the new time in *your own* time zone. Everyone on the invite gets the updated invite "
            "(the same calendar event, moved)."
        ))),
        *_about(summary, timezone),
        _note(f"Now it is {text.date_token(now)} · the study's times are in *{text.escape(timezone)}*."),
    ]
    if summary.is_group:
        blocks.append(_note(f"👥 This is a group slot: moving it moves everyone booked in it ({_people(summary)})."))
    if summary.status is not InterviewStatus.UPCOMING:
        blocks.append(_note("It will run again at the new time: its outcome is cleared and the participant is scheduled again."))
    initial = int(summary.starts_at.timestamp()) if summary.starts_at > now else None
    blocks += [
        InputBlock(
            block_id=ChangeBlock.WHEN, label="New date and time (your time zone)",
            element=DateTimePickerElement(action_id=INPUT, initial_date_time=initial),
        ),
        InputBlock(
            block_id=ChangeBlock.OVERRIDE, label="Availability", optional=True,
            element=CheckboxesElement(action_id=INPUT, options=[Option(
                text="Reschedule even outside the study's availability", value=OVERRIDE_AVAILABILITY,
                description="The host's other interviews are checked either way.",
            )]),
        ),
        InputBlock(
            block_id=ChangeBlock.REASON, label="Reason", optional=True,
            hint="Shown in the updated invite's email and in the card's thread.",
            element=PlainTextInputElement(action_id=INPUT, multiline=True, max_length=MAX_REASON,
                                          placeholder="e.g. Our host is ill; sorry for the change."),
        ),
    ]
    return _modal(CallbackId.RESCHEDULE, "Reschedule interview", "Reschedule", private_metadata, blocks)


# ---------------------------------------------------------------- change host


def change_host_modal(
    summary: InterviewSummary, *, timezone: str, choices: Sequence[tuple[str, str, bool]], private_metadata: str,
) -> View:
    """``choices``: (Slack user id, name, has their own meeting room in this study)."""
    organizer = next((a for a in summary.attendees if a.is_organizer), None)
    hosts = ", ".join(text.person(h) for h in summary.hosts) or "The current host"
    if organizer is None:
        stays = f"{hosts} stays on as a guest."
    elif organizer in summary.hosts:
        stays = f"{hosts} stays on the invite as its organizer (and a guest), so nobody gets a cancellation."
    else:
        stays = (f"{text.person(organizer)} stays on the invite as its organizer, so nobody gets a cancellation; "
                 f"{hosts} stays on as a guest.")
    options = [
        Option(text=text.truncate(name, 75), value=user_id, description="Has a meeting room in this study" if has_room else None)
        for user_id, name, has_room in choices[:MAX_HOST_CHOICES]
    ]
    blocks: list[Block] = [
        *_about(summary, timezone),
        SectionBlock(text=MarkdownTextObject(text=f"The new host gets the invite and the participant is told who hosts now. {stays}")),
        InputBlock(block_id=ChangeBlock.HOST, label="New host", element=StaticSelectElement(
            action_id=INPUT, options=options, placeholder="Who hosts it now?",
        )),
        InputBlock(
            block_id=ChangeBlock.HOST_LINK, label="Meeting link", optional=True,
            hint="Used when the new host has no meeting room of their own in this study (those who have one are marked).",
            element=UrlInputElement(action_id=INPUT, initial_value=summary.conferencing_url or None),
        ),
    ]
    return _modal(CallbackId.CHANGE_HOST, "Change host", "Change host", private_metadata, blocks)


# ---------------------------------------------------------------- edit details


def edit_details_modal(
    summary: InterviewSummary, *, timezone: str, description: str | None, password: str | None, private_metadata: str,
) -> View:
    blocks: list[Block] = [
        *_about(summary, timezone),
        InputBlock(
            block_id=ChangeBlock.DESCRIPTION, label="Description", optional=True,
            element=PlainTextInputElement(action_id=INPUT, multiline=True, max_length=MAX_DESCRIPTION,
                                          initial_value=description or None, placeholder="What the session is about"),
        ),
        InputBlock(
            block_id=ChangeBlock.LINK, label="Meeting link", optional=True,
            element=UrlInputElement(action_id=INPUT, initial_value=summary.conferencing_url or None,
                                    placeholder="https://…"),
        ),
        InputBlock(
            block_id=ChangeBlock.PASSWORD, label="Meeting password", optional=True,
            element=PlainTextInputElement(action_id=INPUT, max_length=MAX_PASSWORD, initial_value=password or None),
        ),
        _note("Everyone on the invite gets the updated invite: the same calendar event, with the new details."),
    ]
    return _modal(CallbackId.EDIT_DETAILS, "Edit details", "Save", private_metadata, blocks)


# ---------------------------------------------------------------- participant limit


def change_limit_modal(summary: InterviewSummary, *, timezone: str, private_metadata: str) -> View:
    booked = len(summary.participants)
    blocks: list[Block] = [
        *_about(summary, timezone),
        SectionBlock(text=MarkdownTextObject(text=(
            f"*{booked}* of *{summary.participant_limit}* seats are booked. A higher limit opens seats on the "
            "participants' booking pages at once; a lower one closes the free ones."
        ))),
        InputBlock(
            block_id=ChangeBlock.LIMIT, label="Participant limit",
            hint=f"At least 2 (a limit of 1 would make it a one-on-one interview), at most {MAX_LIMIT}, "
                 "and never below the number already booked.",
            element=NumberInputElement(action_id=INPUT, is_decimal_allowed=False,
                                       initial_value=summary.participant_limit, min_value=2, max_value=MAX_LIMIT),
        ),
    ]
    return _modal(CallbackId.CHANGE_LIMIT, "Participant limit", "Save", private_metadata, blocks)


# ---------------------------------------------------------------- add a guest


def add_guest_modal(summary: InterviewSummary, *, timezone: str, private_metadata: str) -> View:
    blocks: list[Block] = [
        *_about(summary, timezone),
        InputBlock(
            block_id=ChangeBlock.GUEST_USER, label="A teammate", optional=True,
            element=UserSelectElement(action_id=INPUT, placeholder="Choose someone in Slack"),
        ),
        InputBlock(
            block_id=ChangeBlock.GUEST_EMAIL, label="Or an email address", optional=True,
            element=EmailInputElement(action_id=INPUT, placeholder="name@example.com"),
        ),
        _note("Fill in one of the two. The guest gets the calendar invite, and everyone on it gets the update."),
    ]
    return _modal(CallbackId.ADD_GUEST, "Add a guest", "Add guest", private_metadata, blocks)
