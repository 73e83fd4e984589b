"""The views that follow an action: "working…" while its side effects go out, then the outcome.

A submitted modal turns into one of these (``response_action="update"``), so the person sees
at once that it worked, then whether the emails and posts it caused have left.
"""

from collections.abc import Mapping, Sequence
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject, SectionBlock
from slack_sdk.models.views import View

from blocks import text
from blocks.ids import CallbackId
from bot.domain import SideEffectState
from storage.enums import OutboxKind, OutboxStatus

_KIND_WORDS = {
    OutboxKind.EMAIL: "Email",
    OutboxKind.SLACK_POST: "Channel update",
    OutboxKind.SLACK_UPDATE: "Channel update",
    OutboxKind.CALENDAR: "Calendar update",
    OutboxKind.NOTETAKER: "Observer bot request",
}


def _recipient(state: SideEffectState) -> str:
    if not state.recipients:
        return ""
    return f" to {text.escape(text.truncate(state.recipients[0], 80))}"


# What an answer reports as sent or not: channel posts speak for themselves, in the channel.
REPORTED_KINDS = frozenset(OutboxKind) - {OutboxKind.SLACK_POST, OutboxKind.SLACK_UPDATE}


def delivery_lines(states: Sequence[SideEffectState]) -> list[str]:
    """One line per side effect a person cares about (``REPORTED_KINDS``)."""
    lines = []
    for state in states:
        if state.kind not in REPORTED_KINDS:
            continue
        what = _KIND_WORDS.get(state.kind, "Update") + _recipient(state)
        if state.status is OutboxStatus.SENT:
            lines.append(f"✓ {what} sent")
        elif state.status is OutboxStatus.FAILED:
            lines.append(f"✗ {what} could not be sent: {text.escape(text.truncate(state.last_error or 'unknown error', 200))}")
        elif state.last_error:
            reason = text.escape(text.truncate(state.last_error, 200))
            lines.append(f"⏳ {what} not sent yet ({reason}); it will be retried automatically")
        else:
            lines.append(f"⏳ {what} queued")
    return lines


def working_view(title: str, done: str, *, pending: int) -> View:
    """The change is saved; its side effects are on their way."""
    waiting = f"⏳ Sending {pending} update{'s' if pending != 1 else ''}…" if pending else ""
    return _view(title, [done, waiting] if waiting else [done])


def outcome_view(title: str, done: str, states: Sequence[SideEffectState] = ()) -> View:
    lines = delivery_lines(states)
    return _view(title, [done, "\n".join(lines)] if lines else [done])


def notice_view(title: str, message: str) -> View:
    """A view that only tells something (a refusal, a stale view, a link)."""
    return _view(title, [message])


BANNER_BLOCK = "progress.banner"
SAVING = "⏳ Saving…"


def form_again(submitted: Mapping[str, Any], banner: str) -> dict[str, Any]:
    """The modal as it was submitted, with ``banner`` (mrkdwn) above its fields: "saving…", or
    the problem found with what was typed. Its inputs keep their block and action ids, so Slack
    keeps what the person typed in them. A form that cannot be rebuilt becomes the banner alone.

    Returned serialised: checking it is serialising it, and it is sent as it is (once, on the way
    to an acknowledgement)."""
    blocks = [block for block in submitted.get("blocks") or [] if block.get("block_id") != BANNER_BLOCK]
    banner_block = ContextBlock(block_id=BANNER_BLOCK, elements=[MarkdownTextObject(text=text.truncate(banner, 3000))])
    try:
        return View(
            type="modal", callback_id=submitted.get("callback_id"), title=submitted.get("title"),
            submit=submitted.get("submit"), close=submitted.get("close"),
            private_metadata=submitted.get("private_metadata"),
            blocks=[banner_block, *Block.parse_all(blocks[:99])],
        ).to_dict()  # checked now, not when Slack refuses it
    except (SlackObjectFormationError, AttributeError, KeyError, TypeError, ValueError):
        title = (submitted.get("title") or {}).get("text") if isinstance(submitted.get("title"), dict) else None
        return notice_view(title or "Interview Desk", banner).to_dict()


def _view(title: str, paragraphs: list[str]) -> View:
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=text.truncate(paragraphs[0], 3000)))]
    for paragraph in paragraphs[1:]:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=text.truncate(paragraph, 3000))]))
    return View(type="modal", callback_id=CallbackId.OUTCOME, title=text.truncate(title, 24), close="Done", blocks=blocks)
