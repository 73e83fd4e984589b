"""The views that follow an action: "working…" while its side effects go out, then the outcome.

A submitted modal turns into one of these (``response_action="update"``), so the person sees
at once that it worked, then whether the emails and posts it caused have left.
"""

from collections.abc import Sequence

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


def _view(title: str, paragraphs: list[str]) -> View:
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=text.truncate(paragraphs[0], 3000)))]
    for paragraph in paragraphs[1:]:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=text.truncate(paragraph, 3000))]))
    return View(type="modal", callback_id=CallbackId.OUTCOME, title=text.truncate(title, 24), close="Done", blocks=blocks)
