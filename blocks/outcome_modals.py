"""The outcome actions' dialogs (cancel, no-show, completed) and what their replies say.

The dialogs are confirmations: each says what will happen before anything does. Mark completed
and Mark no-show buttons ask with Slack's own confirm dialog; chosen from "More…" (which has
none) or for a group slot (who didn't come?), they ask with one of these modals.
"""

from collections.abc import Sequence

from slack_sdk.models.blocks import (
    Block,
    CheckboxesElement,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    SectionBlock,
)
from slack_sdk.models.views import View

from blocks import text
from blocks.ids import CallbackId
from blocks.interview_actions import LABELS
from bot.actions import InterviewAction
from bot.domain import AttendeeView, InterviewSummary
from storage.enums import ActorKind, InterviewStatus

A = InterviewAction

# The "Mark completed?" dialog has no member in ``CallbackId`` (the button needs none).
COMPLETED_CALLBACK = "interview_action.completed"

MESSAGE = "cancel.message"  # block id of the cancel dialog's message to the participant
WHO_PREFIX = "no_show.who."  # block ids of the no-show checkboxes: no_show.who.0, .1, …
INPUT = "value"  # every input's action id; its block id names the field
MAX_MESSAGE = 1000
CHECKBOXES_PER_INPUT = 10  # Slack's limit for one checkboxes element
MAX_NAMED = 8  # names listed before "and N more"

# Who did it, for "already …": (Slack user id, name, kind), as ``ChangedBy`` carries it.
By = tuple[str | None, str | None, ActorKind | None]


def _names(people: Sequence[AttendeeView], *, mention: bool = False) -> str:
    shown = [text.person(p) if mention else text.escape(p.name) for p in people[:MAX_NAMED]]
    more = len(people) - len(shown)
    if more > 0:
        shown.append(f"{more} more")
    if len(shown) <= 1:
        return "".join(shown) or "nobody"
    return ", ".join(shown[:-1]) + " and " + shown[-1]


def _when(summary: InterviewSummary) -> str:
    return f"*{text.time_range(summary.starts_at, summary.ends_at)}*"


def _with_whom(summary: InterviewSummary) -> str:
    people = summary.participants
    if not people:
        return "(no participants yet)"
    if len(people) == 1:
        return f"with {_names(people)}"
    return f"with {len(people)} participants ({_names(people)})"


def _section(markdown: str, block_id: str | None = None) -> SectionBlock:
    return SectionBlock(block_id=block_id, text=MarkdownTextObject(text=text.truncate(markdown, 3000)))


# ---------------------------------------------------------------- cancel


def _cancel_consequences(summary: InterviewSummary, *, can_rebook: bool) -> list[str]:
    participants = [p for p in summary.participants if p.email]
    team = [a for a in (*summary.hosts, *summary.guests) if a.email]
    unreachable = [a for a in summary.attendees if not a.email]
    lines = []
    if participants:
        each = "each get" if len(participants) > 1 else "gets"
        link = " with a link to book a new time" if can_rebook else ""
        lines.append(f"• {_names(participants)} {each} a cancellation email{link}, and your message if you write one below.")
    if team:
        lines.append(f"• {_names(team, mention=True)} {'get' if len(team) > 1 else 'gets'} a calendar cancellation by email.")
    if unreachable:
        lines.append(f"• {_names(unreachable, mention=True)}: no email address on file, so no email.")
    lines.append("• The card in the channel is struck through, and its thread says you canceled it.")
    return lines


def cancel_modal(summary: InterviewSummary, private_metadata: str, *, can_rebook: bool) -> View:
    """The confirmation dialog of Cancel interview, with an optional message to the participant.

    ``can_rebook``: the study still books, so the participants' emails offer a new time.
    """
    ask = f"Cancel the interview on {_when(summary)} {_with_whom(summary)}?"
    if len(summary.participants) > 1 or summary.is_group:
        ask += "\nThis cancels the session for everyone in it."
    if summary.has_ended:
        ask += "\nIt has ended without an outcome. If it took place, mark it completed instead."
    blocks: list[Block] = [
        _section(ask, "cancel.ask"),
        _section("*What happens*\n" + "\n".join(_cancel_consequences(summary, can_rebook=can_rebook)), "cancel.consequences"),
        InputBlock(
            block_id=MESSAGE,
            label="Message to the participant",
            optional=True,
            element=PlainTextInputElement(
                action_id=INPUT, multiline=True, max_length=MAX_MESSAGE,
                placeholder="e.g. Our host is ill, sorry! Please pick another time.",
            ),
            hint="Included in their cancellation email. The team sees it as the reason.",
        ),
    ]
    return View(
        type="modal", callback_id=CallbackId.CANCEL, title="Cancel interview", submit="Cancel interview",
        close="Keep it", private_metadata=private_metadata, blocks=blocks,
    )


# ---------------------------------------------------------------- no-show and completed


def _participant_option(p: AttendeeView) -> Option:
    return Option(text=text.truncate(p.name, 75), value=str(p.participant_id))


def no_show_modal(summary: InterviewSummary, private_metadata: str, *, group: bool) -> View:
    """Group slot: tick who didn't come. One-on-one: confirm (for "More…", which has no
    confirm dialog of its own)."""
    if not group:
        names = _names(summary.participants)
        blocks: list[Block] = [
            _section(f"Mark *{names}* as a no-show for the interview on {_when(summary)}?", "no_show.ask"),
            ContextBlock(elements=[MarkdownTextObject(text="You can then ask them to book a new time, or reschedule it yourself.")]),
        ]
    else:
        blocks = [
            _section(f"*Who didn't come* to the session on {_when(summary)}?", "no_show.ask"),
            ContextBlock(elements=[MarkdownTextObject(text=(
                "Ticked participants are marked as no-shows, everyone else as attended. "
                "The session shows as a no-show only if nobody came; otherwise as completed."
            ))]),
        ]
        people = [p for p in summary.participants if p.participant_id is not None]
        for index, start in enumerate(range(0, len(people), CHECKBOXES_PER_INPUT)):
            chunk = people[start:start + CHECKBOXES_PER_INPUT]
            options = [_participant_option(p) for p in chunk]
            ticked = [o for o, p in zip(options, chunk, strict=True) if p.attended is False]
            blocks.append(InputBlock(
                block_id=f"{WHO_PREFIX}{index}",
                label="Didn't come" if index == 0 else "Didn't come (continued)",
                optional=True,  # checked on submission: at least one across all of them
                element=CheckboxesElement(action_id=INPUT, options=options, initial_options=ticked or None),
            ))
    return View(
        type="modal", callback_id=CallbackId.NO_SHOW, title="Mark no-show", submit="Mark no-show",
        close="Not now", private_metadata=private_metadata, blocks=blocks,
    )


def completed_modal(summary: InterviewSummary, private_metadata: str) -> View:
    """"Mark completed?" for "More…" (a button asks with Slack's confirm dialog instead)."""
    came = "Its participants are marked as attended." if summary.participants else ""
    blocks: list[Block] = [
        _section(f"Mark the interview on {_when(summary)} {_with_whom(summary)} as completed?", "completed.ask"),
    ]
    if came:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=came)]))
    return View(
        type="modal", callback_id=COMPLETED_CALLBACK, title="Mark completed", submit="Mark completed",
        close="Not now", private_metadata=private_metadata, blocks=blocks,
    )


# ---------------------------------------------------------------- replies


def _incentive_next(summary: InterviewSummary) -> str:
    if summary.incentive_due:
        return f" Next: send the incentive with *{LABELS[A.INCENTIVE_EMAIL]}* on the card."
    return ""


def completed_text(summary: InterviewSummary) -> str:
    message = f"✓ Marked completed: the interview on {_when(summary)} {_with_whom(summary)}."
    kept = [p for p in summary.participants if p.attended is False]
    if kept:
        message += f" {_names(kept)} stay{'s' if len(kept) == 1 else ''} marked as a no-show."
    return message + (_incentive_next(summary) or " The card in the channel shows it.")


def no_show_text(summary: InterviewSummary) -> str:
    missed = [p for p in summary.participants if p.attended is False]
    came = [p for p in summary.participants if p.attended is True]
    message = f"✓ Marked {_names(missed)} as {'no-shows' if len(missed) > 1 else 'a no-show'} for the interview on {_when(summary)}."
    if summary.status is InterviewStatus.COMPLETED and came:
        return message + f" {_names(came)} attended, so it shows as completed." + _incentive_next(summary)
    return message + (
        f" Next: ask them to book a new time with *{LABELS[A.RESCHEDULE_EMAIL]}* under *More…*,"
        f" or *{LABELS[A.RESCHEDULE]}* it yourself."
    )


def canceled_text(summary: InterviewSummary, *, message_sent: bool) -> str:
    people = [p for p in summary.participants if p.email]
    done = f"✓ Canceled the interview on {_when(summary)} {_with_whom(summary)}."
    if not people:
        return done
    told = "the cancellation email with your message" if message_sent else "the cancellation email"
    return done + f" {_names(people)} {'get' if len(people) > 1 else 'gets'} {told}; everyone invited gets the calendar cancellation."


_ALREADY = {
    InterviewStatus.COMPLETED: "marked completed",
    InterviewStatus.NO_SHOW: "marked as a no-show",
    InterviewStatus.CANCELED: "canceled",
}


def already_text(summary: InterviewSummary, by: By | None, *, me: str | None) -> str:
    """A repeat (double click, retry, or a teammate a moment earlier): nothing changed, and who did it."""
    what = _ALREADY.get(summary.status, "done")
    if summary.status is InterviewStatus.COMPLETED and any(p.attended is False for p in summary.participants):
        what = "marked this way (" + _names([p for p in summary.participants if p.attended is False]) + " didn't come)"
    user, name, kind = by or (None, None, None)
    if user and user == me:
        return f"Already {what} by you, so nothing changed."
    if user:
        who = f" by <@{user}>"
    elif kind is ActorKind.PARTICIPANT:
        who = f" by {text.escape(name or 'the participant')}"
    else:
        who = ""
    return f"Already {what}{who}, so nothing changed."
