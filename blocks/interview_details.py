"""The View details modal: time, conferencing, description, attendees and the activity timeline."""

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from blocks import text
from blocks.activity import sentence
from blocks.ids import ActionId, CallbackId, TimelinePosition
from blocks.interview_actions import controls
from bot.domain import InterviewDetails

MAX_ATTENDEE_ROWS = 40  # keeps the modal far below its 100-block limit


def _when(d: InterviewDetails) -> SectionBlock:
    s = d.summary
    lines = [
        "*When*",
        f"{text.time_range(s.starts_at, s.ends_at)} · {text.duration(s.duration_minutes)}",
    ]
    outcome = text.outcome(s)
    if outcome:
        lines.append(f"*Outcome:* {outcome}" + (f" · rated {d.rating}/5" if d.rating else ""))
    if d.outcome_note:
        lines.append(f"_{text.escape(text.truncate(d.outcome_note, 500))}_")
    return SectionBlock(block_id="details.when", text=MarkdownTextObject(text="\n".join(lines)))


def _conferencing(d: InterviewDetails) -> SectionBlock:
    url = d.summary.conferencing_url
    lines = ["*Conferencing*"]
    lines.append(f"<{url}|{text.escape(text.truncate(url, 200))}>" if url else "No meeting link yet.")
    if d.conferencing_password:
        lines.append(f"Password: `{text.escape(d.conferencing_password)}`")
    return SectionBlock(block_id="details.conferencing", text=MarkdownTextObject(text="\n".join(lines)))


def _description(d: InterviewDetails) -> SectionBlock:
    body = text.escape(text.truncate(d.description, 2800)) if d.description else "_No description._"
    return SectionBlock(block_id="details.description", text=MarkdownTextObject(text=f"*Description*\n{body}"))


def _attendees(d: InterviewDetails) -> list[Block]:
    attendees = d.summary.attendees
    seats = (
        f" · {len(d.summary.participants)} of {d.participant_limit} seats"
        if d.participant_limit > 1
        else ""
    )
    blocks: list[Block] = [
        SectionBlock(block_id="details.attendees", text=MarkdownTextObject(text=f"*Attendees* ({len(attendees)}){seats}"))
    ]
    for i, a in enumerate(attendees[:MAX_ATTENDEE_ROWS]):
        line = f"{text.person(a)} · {text.role_label(a)} · {text.invite_status_label(a)}"
        if a.attended is False:
            line += " · no-show"
        blocks.append(ContextBlock(block_id=f"details.attendee.{i}", elements=[MarkdownTextObject(text=line)]))
    hidden = len(attendees) - MAX_ATTENDEE_ROWS
    if hidden > 0:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=f"…and {hidden} more")]))
    return blocks


def _activity(d: InterviewDetails) -> list[Block]:
    page = d.activity
    blocks: list[Block] = [SectionBlock(block_id="details.activity", text=MarkdownTextObject(text="*Activity*"))]
    if not page.items:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text="Nothing has happened yet.")]))
    for i, event in enumerate(page.items):
        line = f"{sentence(event)} · {text.ago(event.occurred_at)}"
        blocks.append(
            ContextBlock(block_id=f"details.event.{i}", elements=[MarkdownTextObject(text=text.truncate(line, 3000))])
        )
    buttons = []
    interview_id = d.summary.id
    if page.has_newer:
        newer = TimelinePosition(interview_id=interview_id, offset=max(0, page.offset - len(page.items)))
        buttons.append(ButtonElement(text="‹ Newer", action_id=ActionId.TIMELINE_NEWER, value=newer.encode()))
    if page.has_older:
        older = TimelinePosition(interview_id=interview_id, offset=page.offset + len(page.items))
        buttons.append(ButtonElement(text="Show older", action_id=ActionId.TIMELINE_OLDER, value=older.encode()))
    if buttons:
        blocks.append(ActionsBlock(block_id="details.activity.pages", elements=buttons))
    return blocks


def interview_details_view(d: InterviewDetails) -> View:
    s = d.summary
    blocks: list[Block] = [
        HeaderBlock(text=text.truncate(s.session_name, 150)),
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=f"{text.escape(d.study.name)} · study time {text.in_zone(s.starts_at, d.study.timezone)}"
                )
            ]
        ),
        _when(d),
        _conferencing(d),
        _description(d),
        DividerBlock(),
        *_attendees(d),
        DividerBlock(),
        *_activity(d),
    ]
    elements = controls(s, with_details=False)
    if elements:
        blocks.append(ActionsBlock(block_id="details.actions", elements=elements))
    return View(
        type="modal",
        callback_id=CallbackId.INTERVIEW_DETAILS,
        title="Interview details",
        close="Close",
        private_metadata=TimelinePosition(interview_id=s.id, offset=d.activity.offset).encode(),
        blocks=blocks,
    )
