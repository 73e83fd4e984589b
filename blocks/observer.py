"""Observing an interview: the observer room link, and what became of a request for the
notetaker's bot to join the meeting."""

from datetime import datetime

from slack_sdk.models.blocks import (
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from blocks import text
from blocks.ids import ActionId, InterviewRef
from blocks.progress import working_view
from bot.domain import SideEffectState
from storage.enums import OutboxStatus

ROOM_TITLE = "Observer room"
BOT_TITLE = "Observer bot"


def observer_room_blocks(interview_id: int, study_name: str, url: str) -> list[Block]:
    """The link, for the teammate who asked only (it is the team's, not the participant's)."""
    return [
        SectionBlock(
            block_id="observer_room",
            text=MarkdownTextObject(
                text=f"*Observer room* of *{text.escape(text.truncate(study_name, 200))}*\n"
                "Watch the interview live without joining the call."
            ),
            accessory=ButtonElement(
                text="Open observer room", action_id=ActionId.OBSERVER_ROOM_LINK, url=url,
                value=InterviewRef(interview_id=interview_id).encode(),
            ),
        ),
        ContextBlock(elements=[MarkdownTextObject(text=text.escape(text.truncate(url, 2000)))]),
    ]


def observer_room_fallback(study_name: str, url: str) -> str:
    return f"Observer room of {text.escape(study_name)}: {text.escape(url)}"


def observer_room_view(interview_id: int, study_name: str, url: str) -> View:
    return View(type="modal", title=ROOM_TITLE, close="Close", blocks=observer_room_blocks(interview_id, study_name, url))


def no_observer_room_text(study_name: str, study_id: int) -> str:
    return (
        f"*{text.escape(study_name)}* has no observer room yet. Add its link in `/interviews setup` "
        f"(Observer link) in the study's channel, or with "
        f"`interview-desk study update --study {study_id} --observer-url URL`."
    )


def bot_asked_text(session_name: str, starts_at: datetime, meeting_url: str) -> str:
    return (
        f"Sending the notetaker's bot to *{text.escape(text.truncate(session_name, 150))}* "
        f"({text.date_token(starts_at)}), meeting {text.escape(text.truncate(meeting_url, 300))}."
    )


def bot_working_view(asked: str) -> View:
    return working_view(BOT_TITLE, asked, pending=1)


def bot_outcome_line(state: SideEffectState | None) -> str:
    """How the request went, and what happens next."""
    reason = text.escape(text.truncate(state.last_error or "", 300)) if state else ""
    if state is None:
        return "⏳ The request is queued and goes out within seconds. The card's thread will say how it went."
    if state.status is OutboxStatus.SENT:
        return "✓ The notetaker took the request: its bot will join the meeting. This is noted in the card's thread."
    if state.status is OutboxStatus.FAILED:
        return f"✗ The bot could not be sent: {reason or 'no answer'}. This is noted in the card's thread."
    if state.last_error:
        return (
            f"⏳ The notetaker did not take it yet ({reason}). Interview Desk will try again automatically; "
            "the card's thread will say when it is through."
        )
    return "⏳ The request is queued and goes out within seconds. The card's thread will say how it went."


def bot_outcome_view(asked: str, state: SideEffectState | None) -> View:
    return View(
        type="modal", title=BOT_TITLE, close="Done",
        blocks=[
            SectionBlock(text=MarkdownTextObject(text=text.truncate(asked, 3000))),
            SectionBlock(block_id="observer_bot.outcome", text=MarkdownTextObject(text=bot_outcome_line(state))),
        ],
    )


def bot_already_sent_text(sent_at: datetime | None) -> str:
    when = f" {text.date_token(sent_at)}" if sent_at else ""
    return (
        f"The observer bot was already sent to this meeting{when}, so nothing was sent again. "
        "If the meeting link changes, you can send it to the new one."
    )


def bot_on_its_way_text(queued_at: datetime | None, last_error: str | None) -> str:
    when = f" (asked {text.date_token(queued_at)})" if queued_at else ""
    line = f"The observer bot is already on its way to this meeting{when}, so nothing was sent again."
    if last_error:
        line += (
            f" The notetaker has not taken it yet ({text.escape(text.truncate(last_error, 300))}); "
            "Interview Desk keeps trying."
        )
    return line
