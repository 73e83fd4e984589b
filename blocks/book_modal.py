"""The `/interviews book` modal: book a participant on their behalf, in the booker's own zone."""

from collections.abc import Mapping

from slack_sdk.models.blocks import (
    Block,
    CheckboxesElement,
    DateTimePickerElement,
    InputBlock,
    MarkdownTextObject,
    Option,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from blocks import text
from blocks.calendar import host_label
from blocks.ids import CallbackId, ChannelRef
from bot.domain import BookingForm
from storage.enums import ConnectionStatus

PARTICIPANT, WHEN, HOST, OVERRIDE = "book.participant", "book.when", "book.host", "book.override"
INPUT = "value"  # every input's action id; its block id names the field
OVERRIDE_AVAILABILITY = "override_availability"
MAX_CHOICES = 100  # a static select's limit


def _option(label: str, value: str) -> Option:
    return Option(text=text.truncate(label, 75), value=value)


def book_modal(
    form: BookingForm, *, channel_id: str, calendars: Mapping[str, ConnectionStatus | None] | None = None,
) -> View:
    """``calendars``: each host's Google Calendar connection, named in the host picker (None:
    Google Calendar is not configured)."""
    people = [_option(f"{name} ({email})", email) for email, name in form.participants[:MAX_CHOICES]]
    hosts = [
        _option(name if calendars is None else host_label(name, calendars.get(user_id)), user_id)
        for user_id, name in form.hosts
    ]
    note = f" Showing the first {MAX_CHOICES} of {len(form.participants)}." if len(form.participants) > MAX_CHOICES else ""
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=(
            f"Book a {form.duration_minutes}-minute interview in *{text.escape(form.study_name)}* on a participant's behalf. "
            f"Pick the time in your own time zone; they get a confirmation with a calendar invite.{note}"
        ))),
        InputBlock(block_id=PARTICIPANT, label="Participant", element=StaticSelectElement(action_id=INPUT, options=people, placeholder="Who?")),
        InputBlock(block_id=WHEN, label="Date and time", element=DateTimePickerElement(action_id=INPUT)),
        InputBlock(block_id=HOST, label="Host", element=StaticSelectElement(action_id=INPUT, options=hosts, initial_option=hosts[0] if len(hosts) == 1 else None)),
        InputBlock(
            block_id=OVERRIDE, label="Availability", optional=True,
            element=CheckboxesElement(action_id=INPUT, options=[_option("Book it even outside the study's availability", OVERRIDE_AVAILABILITY)]),
        ),
    ]
    return View(
        type="modal", callback_id=CallbackId.BOOK, title="Book an interview", submit="Book", close="Cancel",
        private_metadata=ChannelRef(channel_id=channel_id, study_id=form.study_id).encode(), blocks=blocks,
    )
