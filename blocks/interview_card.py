"""The interview's card in the study channel, and the one-line notes posted in its thread."""

from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from blocks import text
from blocks.interview_actions import controls, view_details_button
from bot.domain import InterviewSummary
from storage.enums import InterviewStatus


def _who(summary: InterviewSummary) -> str:
    parts = ["Participant" + ("s" if len(summary.participants) > 1 else "") + ": " + (
        ", ".join(f"{text.person(p)} {text.attendance_mark(p)}" for p in summary.participants) or "none yet"
    )]
    if summary.hosts:
        parts.append("Host: " + ", ".join(text.person(h) for h in summary.hosts))
    if summary.guests:
        parts.append("Guests: " + ", ".join(text.person(g) for g in summary.guests))
    return "   ".join(parts)


def interview_card(summary: InterviewSummary, *, study_name: str, outcome_note: str | None = None) -> list[Block]:
    """One message per interview; edited in place so it always shows the current state."""
    title = f"📅 *{text.escape(study_name)}* — {text.escape(text.truncate(summary.session_name, 150))}"
    when = f"*{text.time_range(summary.starts_at, summary.ends_at)}*"
    canceled = summary.status is InterviewStatus.CANCELED
    if canceled:
        when = f"~{when}~ · *Canceled*" + (f": {text.escape(text.truncate(outcome_note, 300))}" if outcome_note else "")
    elif (outcome := text.outcome(summary)) is not None:
        when += f" · *{outcome}*"
    lines = [title, when, _who(summary)]
    if summary.conferencing_url and not canceled:
        lines.append(f"🎥 <{summary.conferencing_url}|{text.escape(text.truncate(summary.conferencing_url, 120))}>")
    blocks: list[Block] = [
        SectionBlock(
            block_id=f"card.{summary.id}",
            text=MarkdownTextObject(text=text.truncate("\n".join(lines), 3000)),
            accessory=None if canceled else view_details_button(summary),
        )
    ]
    if not canceled:
        elements = controls(summary, with_details=False)
        if elements:
            blocks.append(ActionsBlock(block_id=f"card.{summary.id}.actions", elements=elements))
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=f"{text.duration(summary.duration_minutes)} · interview {summary.id}")]))
    return blocks


def card_fallback(summary: InterviewSummary, *, study_name: str) -> str:
    state = "canceled" if summary.status is InterviewStatus.CANCELED else "interview"
    return f"{study_name}: {state} with {', '.join(p.name for p in summary.participants) or 'no participant'}"


def thread_note(note: dict[str, Any]) -> str:
    """One line for the card's thread, from the structured note a service queued."""
    who = text.escape(str(note.get("who") or "The participant"))
    kind = note.get("kind")
    if kind == "booked":
        return f"{who} booked {text.date_token(datetime.fromisoformat(note['start']))}."
    if kind == "rescheduled":
        start, previous = datetime.fromisoformat(note["start"]), datetime.fromisoformat(note["previous"])
        return f"{who} rescheduled to *{text.date_token(start)}* (was {text.date_token(previous)})."
    if kind == "canceled":
        reason = note.get("reason")
        return f"{who} canceled" + (f": “{text.escape(text.truncate(str(reason), 500))}”" if reason else ".")
    return f"{who}: {text.escape(str(kind))}"
