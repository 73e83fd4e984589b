"""The `/interviews invite` modal and the channel's confirmation of an invitation."""

from slack_sdk.models.blocks import (
    Block,
    CheckboxesElement,
    ContextBlock,
    DividerBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    SectionBlock,
)
from slack_sdk.models.views import View

from blocks import text
from blocks.ids import CallbackId, ChannelRef

PEOPLE_BLOCK, PEOPLE_INPUT = "invite.people", "people"
OPTIONS_BLOCK, OPTIONS_INPUT = "invite.options", "options"
SEND_EMAIL = "send_email"


def invite_modal(*, study_name: str, channel_id: str, preview_subject: str, preview_text: str) -> View:
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=f"Add participants to *{text.escape(study_name)}*. People already in the study are not added twice.")),
        InputBlock(
            block_id=PEOPLE_BLOCK,
            label="Participants",
            hint="One per line: Name <email>, or just the email address. Up to 500 at a time.",
            element=PlainTextInputElement(action_id=PEOPLE_INPUT, multiline=True, placeholder="Nora Quist <nora@example.com>"),
        ),
        InputBlock(
            block_id=OPTIONS_BLOCK,
            label="Email",
            optional=True,
            element=CheckboxesElement(
                action_id=OPTIONS_INPUT,
                options=[Option(value=SEND_EMAIL, text="Email each new participant their personal scheduling link now")],
                initial_options=[Option(value=SEND_EMAIL, text="Email each new participant their personal scheduling link now")],
            ),
        ),
        DividerBlock(),
        SectionBlock(text=MarkdownTextObject(text=f"*Preview* · {text.escape(text.truncate(preview_subject, 200))}")),
        ContextBlock(elements=[MarkdownTextObject(text=text.escape(text.truncate(preview_text, 2900)))]),
    ]
    return View(
        type="modal", callback_id=CallbackId.INVITE, title="Invite participants", submit="Invite", close="Cancel",
        private_metadata=ChannelRef(channel_id=channel_id).encode(), blocks=blocks,
    )


def invitation_summary(*, user_id: str, study_name: str, added: int, already: int, emailed: int, bad_lines: list[tuple[int, str, str]]) -> str:
    """The channel post after an invitation: what happened, and what could not be read."""
    people = "participant" if added == 1 else "participants"
    lines = [f"<@{user_id}> added {added} {people} to *{text.escape(study_name)}*" + (f" and emailed {emailed} their scheduling link{'s' if emailed != 1 else ''}." if emailed else ".")]
    if already:
        lines.append(f"{already} {'was' if already == 1 else 'were'} already in the study.")
    if bad_lines:
        shown = [f"line {number}: `{text.escape(text.truncate(raw, 80))}` ({text.escape(reason)})" for number, raw, reason in bad_lines[:10]]
        more = f" …and {len(bad_lines) - 10} more." if len(bad_lines) > 10 else ""
        lines.append("Not added: " + "; ".join(shown) + more)
    return text.truncate("\n".join(lines), 3000)
