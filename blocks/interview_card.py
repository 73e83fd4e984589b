"""The interview's card in the study channel, and the one-line notes posted in its thread."""

from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from blocks import text
from blocks.ids import ActionChoice, action_button_id
from blocks.interview_actions import controls, view_details_button
from bot.actions import InterviewAction
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
    """The message's notification text: mrkdwn too, so the names are escaped like the blocks'."""
    state = "canceled" if summary.status is InterviewStatus.CANCELED else "interview"
    names = ", ".join(text.escape(p.name) for p in summary.participants) or "no participant"
    return f"{text.escape(study_name)}: {state} with {names}"


def _actor(note: dict[str, Any], default: str = "The participant") -> str:
    """Who did it: a teammate (``by``, a Slack user id) or a named participant (``who``)."""
    by = note.get("by")
    if isinstance(by, str) and by:
        return f"<@{text.escape(by)}>"
    return text.escape(str(note.get("who") or default))


def _person(value: object) -> str:
    """A Slack user id as a mention, anything else as escaped text."""
    value = str(value or "")
    if value.startswith(("U", "W")) and value.isalnum() and value.isupper():
        return f"<@{value}>"
    return text.escape(text.truncate(value, 200))


def _when(note: dict[str, Any], key: str) -> str:
    return text.date_token(datetime.fromisoformat(str(note[key])))


_RSVP_WORDS = {
    "accepted": "accepted the invite ✓",
    "tentative": "answered Maybe (attendance unknown)",
    "declined": "declined the invite ✗",
}


def thread_note(note: dict[str, Any]) -> str:
    """One line for the card's thread, from the structured note a service queued."""
    who = _actor(note)
    kind = note.get("kind")
    reason = note.get("reason")
    said = f": “{text.escape(text.truncate(str(reason), 500))}”" if reason else "."
    if kind == "booked":
        return f"{who} booked {_when(note, 'start')}."
    if kind == "rescheduled":
        return f"{who} rescheduled to *{_when(note, 'start')}* (was {_when(note, 'previous')})" + (
            f": “{text.escape(text.truncate(str(reason), 500))}”" if reason else "."
        )
    if kind == "canceled":
        return f"{who} canceled{said}"
    if kind == "host_changed":
        return f"{who} changed the host to {_person(note.get('host'))} (was {_person(note.get('previous'))})."
    if kind == "details_updated":
        fields = ", ".join(text.escape(str(f)) for f in note.get("fields") or []) or "the details"
        return f"{who} updated {fields}; attendees got the updated invite."
    if kind == "limit_changed":
        return f"{who} changed the participant limit to {int(note.get('limit') or 0)} (was {int(note.get('previous') or 0)})."
    if kind == "guest_added":
        return f"{who} added {_person(note.get('guest'))} as a guest."
    if kind == "no_show":
        names = ", ".join(text.escape(str(n)) for n in note.get("participants") or [])
        return f"Marked no-show by {who}" + (f": {names}." if names else ".")
    if kind == "completed":
        return f"Marked completed by {who}."
    if kind == "incentive_sent":
        return f"{who} sent the incentive to {text.escape(str(note.get('to') or 'the participant'))}."
    if kind == "rsvp":
        via = f" in {text.escape(str(note['via']))}" if note.get("via") else ""
        return f"{who} {_RSVP_WORDS.get(str(note.get('status')), 'changed their RSVP')}{via}."
    if kind == "attendance_confirmed":
        return f"{who} confirmed attendance ✓✓"
    if kind == "reminder_sent":
        before = text.duration(int(note.get("offset_minutes") or 0))
        return f"Reminder sent to {text.escape(str(note.get('to') or 'the participant'))} ({before} before)."
    if kind == "auto_completed":
        return "The interview has ended and is marked completed."
    if kind == "rated":
        return f"{who} rated the session {int(note.get('rating') or 0)}/5."
    if kind == "attended":
        return f"{who} confirmed the participant attended."
    if kind == "unconfirmed":
        names = ", ".join(text.escape(str(n)) for n in note.get("participants") or []) or "The participant"
        return f"⚠️ {names} {'has' if len(note.get('participants') or []) <= 1 else 'have'} not confirmed attendance yet."
    if kind == "prompt":
        again = "Reminder: " if note.get("again") else ""
        return f"{again}How did it go? Rate the session and confirm attendance."
    if kind == "observer_bot":
        if note.get("ok"):
            return f"The observer bot was sent to the meeting by {who}."
        error = text.escape(text.truncate(str(note.get("error") or "no answer"), 300))
        return f"The observer bot could not be sent to the meeting ({error})."
    if kind == "calendar_failed":
        error = text.escape(text.truncate(str(note.get("error") or "no answer"), 300))
        return (f"⚠️ The Google Calendar event could not be updated ({error}). The interview here is "
                "unchanged, but attendees' calendars may not show the latest.")
    return f"{who}: {text.escape(str(kind))}"


def _buttons(summary: InterviewSummary, *pairs: tuple[InterviewAction, str, str | None, int | None]) -> ActionsBlock:
    elements = []
    for action, label, style, value in pairs:
        choice = ActionChoice(
            action=action, interview_id=summary.id, seen_start=int(summary.starts_at.timestamp()),
            seen_status=summary.status, value=value,
        )
        button_id = action_button_id(action) + (f".{value}" if value is not None else "")
        confirm = None
        if action is InterviewAction.RELEASE_SLOT:
            confirm = ConfirmObject(
                title="Release this slot?", confirm="Release it", deny="Keep it",
                text="The interview is canceled, the participant is told, and the time is offered to others.",
            )
        elements.append(ButtonElement(text=label, action_id=button_id, value=choice.encode(), style=style, confirm=confirm))
    return ActionsBlock(block_id=f"note.{summary.id}.actions", elements=elements)


def thread_note_blocks(note: dict[str, Any], summary: InterviewSummary) -> list[Block] | None:
    """The note with one-click answers, for the notes that ask the team something; None for
    plain lines (and for asks that no longer apply, e.g. a decline after a cancellation)."""
    kind = note.get("kind")
    line = SectionBlock(text=MarkdownTextObject(text=text.truncate(thread_note(note), 3000)))
    A = InterviewAction
    if kind == "rsvp" and note.get("status") == "declined" and summary.status is InterviewStatus.UPCOMING and not summary.has_ended:
        return [line, _buttons(summary, (A.ASK_TO_RESCHEDULE, "Ask to reschedule", "primary", None))]
    if kind == "unconfirmed" and summary.status is InterviewStatus.UPCOMING and not summary.has_started:
        return [line, _buttons(summary, (A.SEND_REMINDER_NOW, "Send reminder", "primary", None),
                               (A.RELEASE_SLOT, "Release slot", "danger", None))]
    if kind == "prompt" and summary.status in (InterviewStatus.COMPLETED, InterviewStatus.UPCOMING):
        rating = _buttons(summary, *((A.RATE, "★" * n, None, n) for n in range(1, 6)))
        rating.block_id = f"note.{summary.id}.rating"
        attendance = [(A.CONFIRM_ATTENDED, "Attended", "primary", None), (A.MARK_NO_SHOW, "No-show", None, None)]
        if summary.features.has_incentive and summary.participants:
            attendance.append((A.INCENTIVE_EMAIL, "Send incentive", None, None))
        return [line, rating, _buttons(summary, *attendance)]
    return None
