"""What to say when an action was taken on an old view of an interview."""

from slack_sdk.models.blocks import ActionsBlock, Block, MarkdownTextObject, SectionBlock

from blocks import text
from blocks.interview_actions import controls
from blocks.interview_list import row_text
from bot.domain import InterviewSummary
from storage.enums import ActorKind, InterviewStatus

_STATUS_WORDS = {
    InterviewStatus.CANCELED: "canceled",
    InterviewStatus.COMPLETED: "marked completed",
    InterviewStatus.NO_SHOW: "marked as a no-show",
    InterviewStatus.UPCOMING: "reopened",
}


def _who(slack_user_id: str | None, name: str | None, kind: ActorKind | None) -> str:
    if slack_user_id:
        return f" by <@{slack_user_id}>"
    if kind is ActorKind.PARTICIPANT:
        return f" by {text.escape(name or 'the participant')}"
    return ""


def stale_message(
    current: InterviewSummary, *, seen_start_changed: bool, seen_status_changed: bool,
    changed_by: tuple[str | None, str | None, ActorKind | None] | None,
) -> str:
    """"This interview was canceled by @bo since you opened this. Nothing was changed." """
    who = _who(*changed_by) if changed_by else ""
    if seen_status_changed:
        what = f"was {_STATUS_WORDS[current.status]}{who}"
        if current.status is InterviewStatus.UPCOMING and seen_start_changed:
            what += f" and now starts {text.date_token(current.starts_at)}"
    else:
        what = f"was moved{who} to *{text.date_token(current.starts_at)}*"
    return (
        f"This interview {what} since this was shown, so nothing was changed. "
        "Here it is as it is now:"
    )


def stale_blocks(current: InterviewSummary, message: str) -> list[Block]:
    """The explanation, then the interview as it is now, with the actions that apply now."""
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=message)),
        SectionBlock(text=MarkdownTextObject(text=row_text(current))),
    ]
    elements = controls(current, with_details=True)
    if elements:
        blocks.append(ActionsBlock(block_id=f"stale.{current.id}.actions", elements=elements))
    return blocks
