"""The modals of the email actions: compose (custom, reminder, reschedule request) with its
preview, and the incentive with its confirmation before a second one.

Every input keeps its block id and action id across re-renders (the Preview button updates
the modal with ``views.update``), so Slack keeps what was typed; the typed values are also set
as initial values, so a re-render never loses them either way. The builders take the services'
form objects through the small protocols below (blocks import no services).
"""

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    CheckboxesElement,
    ContextBlock,
    DividerBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
    StaticMultiSelectElement,
    StaticSelectElement,
    UrlInputElement,
)
from slack_sdk.models.views import View

from blocks import text
from blocks.ids import CallbackId
from bot.actions import InterviewAction
from bot.domain import AttendeeView, InterviewSummary

A = InterviewAction
INPUT = "value"  # every input's action id; its block id names the field

# The compose modal.
RECIPIENTS, SUBJECT, BODY = "compose.recipients", "compose.subject", "compose.body"
PREVIEW_BLOCK = "compose.preview_button"
PREVIEW_ACTION = "compose_email.preview"  # the Preview button (a block action inside the modal)

# The incentive modal and its confirmation.
PARTICIPANT, AMOUNT, CURRENCY = "incentive.participant", "incentive.amount", "incentive.currency"
CODE, CLAIM_URL, MESSAGE, CONFIRM = "incentive.code", "incentive.claim_url", "incentive.message", "incentive.confirm"

# The services' field names, and the input each one's errors are shown next to.
FIELD_BLOCKS: Mapping[str, str] = {
    "recipients": RECIPIENTS, "subject": SUBJECT, "body": BODY,
    "participant": PARTICIPANT, "amount": AMOUNT, "currency": CURRENCY, "code": CODE,
    "claim_url": CLAIM_URL, "message": MESSAGE,
}

TITLES: Mapping[InterviewAction, str] = {
    A.CUSTOM_EMAIL: "Custom email",
    A.REMINDER_EMAIL: "Reminder email",
    A.RESCHEDULE_EMAIL: "Ask to reschedule",
    A.INCENTIVE_EMAIL: "Send incentive",
}

_PURPOSE: Mapping[InterviewAction, str] = {
    A.CUSTOM_EMAIL: "An email about the interview on {when}.",
    A.REMINDER_EMAIL: "A reminder of the interview on {when}: the time, the meeting link, and how to change it.",
    A.RESCHEDULE_EMAIL: (
        "Ask for a new time for the interview on {when}: they choose it themselves through their "
        "personal link. Nothing changes until they do."
    ),
}

PLACEHOLDER_WORDS: Mapping[str, str] = {
    "name": "their name",
    "time": "the interview time in their zone",
    "meeting_link": "the meeting link",
    "scheduling_link": "their personal link to choose a time",
    "manage_link": "their link to reschedule or cancel",
    "study": "the study's name",
}

MAX_CHECKBOXES = 10  # Slack's limit; a larger group gets a multi-select
MAX_INPUT = 3000  # Slack's limit for a plain-text input


class ComposeFormLike(Protocol):
    @property
    def interview(self) -> InterviewSummary: ...
    @property
    def study_name(self) -> str: ...
    @property
    def kind(self) -> InterviewAction: ...
    @property
    def subject(self) -> str: ...
    @property
    def body(self) -> str: ...
    @property
    def reply_to(self) -> str | None: ...


class PreviewLike(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def address(self) -> str: ...
    @property
    def subject(self) -> str: ...
    @property
    def text(self) -> str: ...


class SentIncentiveLike(Protocol):
    @property
    def participant_id(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def sent_at(self) -> datetime: ...
    @property
    def details(self) -> Mapping[str, str]: ...


class IncentiveFormLike(Protocol):
    @property
    def interview(self) -> InterviewSummary: ...
    @property
    def study_name(self) -> str: ...
    @property
    def amount(self) -> str | None: ...
    @property
    def currency(self) -> str | None: ...
    @property
    def message(self) -> str: ...
    @property
    def sent(self) -> Sequence[SentIncentiveLike]: ...


class IncentiveDraftLike(Protocol):
    @property
    def participant_id(self) -> int | None: ...
    @property
    def amount(self) -> str: ...
    @property
    def currency(self) -> str: ...
    @property
    def code(self) -> str | None: ...
    @property
    def claim_url(self) -> str | None: ...
    @property
    def message(self) -> str: ...


def _md(value: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=text.truncate(value, 3000)))


def _context(value: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=text.truncate(value, 3000))])


def _text_input(block_id: str, label: str, value: str | None, *, multiline: bool = False, max_length: int = MAX_INPUT,
                optional: bool = False, hint: str | None = None, placeholder: str | None = None) -> InputBlock:
    return InputBlock(
        block_id=block_id, label=label, optional=optional, hint=text.truncate(hint, 2000) if hint else None,
        element=PlainTextInputElement(
            action_id=INPUT, multiline=multiline, max_length=max_length, placeholder=placeholder,
            initial_value=text.truncate(value, max_length) if value else None,
        ),
    )


def _person_option(person: AttendeeView, suffix: str = "") -> Option:
    label = person.name + (f" ({person.email})" if person.email else "") + suffix
    return Option(text=text.truncate(label, 75), value=str(person.participant_id))


def _interview_line(summary: InterviewSummary) -> str:
    return f"*{text.date_token(summary.starts_at)}* ({text.escape(text.truncate(summary.session_name, 150))})"


# ------------------------------------------------------------------ compose


def placeholder_hint(names: Sequence[str]) -> str:
    words = (f"{{{name}}} {PLACEHOLDER_WORDS[name]}" if name in PLACEHOLDER_WORDS else f"{{{name}}}" for name in names)
    return "Filled in for each recipient: " + " · ".join(words)


def _recipients_block(summary: InterviewSummary, selected: Sequence[int] | None) -> Block:
    """A group slot asks who gets it (everyone, to start with); a one-on-one says who does."""
    people = [p for p in summary.participants if p.participant_id is not None]
    if not summary.is_group:
        who = ", ".join(
            f"*{text.escape(p.name)}*" + (f" ({text.escape(p.email)})" if p.email else "") for p in people
        )
        return _md(f"*To:* {who}")
    options = [_person_option(p) for p in people]
    chosen = [o for o in options if selected is None or int(o.value or 0) in selected]
    element: Any
    if len(options) <= MAX_CHECKBOXES:
        element = CheckboxesElement(action_id=INPUT, options=options, initial_options=chosen or None)
    else:
        element = StaticMultiSelectElement(action_id=INPUT, options=options[:100], initial_options=chosen[:100] or None,
                                           placeholder="Who gets it?")
    return InputBlock(block_id=RECIPIENTS, label="To", element=element)


def compose_modal(
    form: ComposeFormLike, *, private_metadata: str, placeholders: Sequence[str],
    subject: str | None = None, body: str | None = None, selected: Sequence[int] | None = None,
    preview: PreviewLike | None = None, preview_error: str | None = None,
) -> View:
    """The compose modal; ``subject``/``body``/``selected`` are what was typed (the prefill at first)."""
    summary = form.interview
    replies = f"replies go to {text.escape(form.reply_to)}" if form.reply_to else "replies go to the study's email address"
    blocks: list[Block] = [
        _md(_PURPOSE[form.kind].format(when=_interview_line(summary))),
        _context(f"Sent by email from the *{text.escape(form.study_name)} team*; {replies}."),
        _recipients_block(summary, selected),
        _text_input(SUBJECT, "Subject", form.subject if subject is None else subject, max_length=200),
        _text_input(BODY, "Message", form.body if body is None else body, multiline=True, hint=placeholder_hint(placeholders)),
        ActionsBlock(block_id=PREVIEW_BLOCK, elements=[
            ButtonElement(text="Update preview" if preview else "Preview", action_id=PREVIEW_ACTION, value="preview"),
        ]),
    ]
    if preview is not None:
        blocks += preview_blocks(preview)
    elif preview_error:
        blocks.append(_md(f"⚠️ *Not ready to send:* {text.escape(text.truncate(preview_error, 2000))}"))
    return View(
        type="modal", callback_id=CallbackId.COMPOSE_EMAIL, title=TITLES[form.kind], submit="Send", close="Cancel",
        private_metadata=private_metadata, blocks=blocks,
    )


def preview_blocks(preview: PreviewLike) -> list[Block]:
    """The email as its first recipient will get it (the text part, exactly)."""
    to = f"{text.escape(preview.name)} ({text.escape(preview.address)})"
    return [
        DividerBlock(),
        _md(f"*Preview* — as {to} will get it\n*Subject:* {text.escape(preview.subject)}"),
        SectionBlock(text=PlainTextObject(text=text.truncate(preview.text, 3000), emoji=False)),
        _context("Links become clickable in the email. Each recipient gets their own copy, with their own details."),
    ]


_SENT: Mapping[InterviewAction, str] = {
    A.CUSTOM_EMAIL: "Your email to {names} is on its way.",
    A.REMINDER_EMAIL: "Your reminder to {names} is on its way.",
    A.RESCHEDULE_EMAIL: "Your request for a new time is on its way to {names}.",
}


def names_text(names: Sequence[str]) -> str:
    """"Nora Quist", "Nora Quist and Otto Berg", "A, B, C and 2 more" (mrkdwn)."""
    shown = [text.escape(n) for n in names] or ["the participant"]
    if len(shown) > 3:
        shown = [*shown[:3], f"{len(shown) - 3} more"]
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]


def sent_message(kind: InterviewAction, names: Sequence[str], *, changed: bool) -> str:
    """What the compose modal turns into once sent (the delivery lines follow it)."""
    if not changed:
        return "This email was already sent; nothing was sent twice."
    return _SENT.get(kind, _SENT[A.CUSTOM_EMAIL]).format(names=names_text(names))


# ------------------------------------------------------------------ incentive


def incentive_sent_message(amount: str, currency: str, names: Sequence[str], *, changed: bool) -> str:
    if not changed:
        return "This incentive was already sent; nothing was sent twice."
    what = text.escape(text.truncate(f"{amount.strip()} {currency.strip().upper()}", 40))
    return f"The incentive of {what} for {names_text(names)} is on its way, and marked as sent."


def describe_incentive(details: Mapping[str, str]) -> str:
    """"25.00 EUR · code `AB-12`" (mrkdwn)."""
    parts = [text.escape(f"{details.get('amount', '?')} {details.get('currency', '')}".strip())]
    if details.get("code"):
        parts.append(f"code `{text.escape(text.truncate(str(details['code']), 200))}`")
    if details.get("claim_url"):
        parts.append("claim link " + text.escape(text.truncate(str(details["claim_url"]), 300)))
    return " · ".join(parts)


def _sent_line(sent: SentIncentiveLike) -> str:
    return (
        f"⚠️ *{text.escape(sent.name)}* was already sent an incentive for this interview: "
        f"{describe_incentive(sent.details)} ({text.date_token(sent.sent_at)})."
    )


def incentive_modal(
    form: IncentiveFormLike, *, private_metadata: str, placeholders: Sequence[str],
    draft: IncentiveDraftLike | None = None, confirm: SentIncentiveLike | None = None,
) -> View:
    """The incentive modal; with ``confirm``, the same modal asking before a second incentive."""
    summary = form.interview
    people = [p for p in summary.participants if p.participant_id is not None]
    sent = {s.participant_id: s for s in form.sent}
    blocks: list[Block] = []
    if confirm is not None:
        blocks.append(_md(f"{_sent_line(confirm)}\nSend *{text.escape(confirm.name)}* another one? Nothing has been sent yet."))
    if len(people) == 1:
        person = people[0]
        blocks.append(_md(f"Send *{text.escape(person.name)}* their incentive for the interview on {_interview_line(summary)}."))
    else:
        blocks.append(_md(f"Send an incentive for the interview on {_interview_line(summary)}."))
        options = [_person_option(p, " — already sent" if p.participant_id in sent else "") for p in people]
        wanted = draft.participant_id if draft is not None else next(
            (p.participant_id for p in people if p.participant_id not in sent), None
        )
        initial = next((o for o in options if o.value == str(wanted)), None)
        blocks.append(InputBlock(
            block_id=PARTICIPANT, label="Participant",
            element=StaticSelectElement(action_id=INPUT, options=options[:100], initial_option=initial, placeholder="Who?"),
        ))
    if confirm is None:
        blocks += [_context(_sent_line(s)) for s in form.sent][:10]
    blocks += [
        _text_input(AMOUNT, "Amount", draft.amount if draft else form.amount, max_length=20, placeholder="25.00"),
        _text_input(CURRENCY, "Currency", draft.currency if draft else form.currency, max_length=3, placeholder="EUR",
                    hint="The three-letter code, e.g. EUR, USD or GBP."),
        _text_input(CODE, "Gift card or voucher code", draft.code if draft else None, max_length=200, optional=True),
        InputBlock(
            block_id=CLAIM_URL, label="Claim link", optional=True, hint="Give a code, a claim link, or both.",
            element=UrlInputElement(action_id=INPUT, initial_value=(draft.claim_url or None) if draft else None,
                                    placeholder="https://"),
        ),
        _text_input(MESSAGE, "Message", draft.message if draft else form.message, multiline=True,
                    hint=placeholder_hint(placeholders) + ". The amount and the code or link follow it."),
    ]
    if confirm is None:
        return View(
            type="modal", callback_id=CallbackId.INCENTIVE_EMAIL, title=TITLES[A.INCENTIVE_EMAIL], submit="Send",
            close="Cancel", private_metadata=private_metadata, blocks=blocks,
        )
    again = Option(
        text=text.truncate(f"Yes, send {confirm.name} another incentive", 75),
        value=f"{confirm.participant_id}:{int(confirm.sent_at.timestamp())}",
    )
    blocks.append(InputBlock(block_id=CONFIRM, label="Send again?", element=CheckboxesElement(action_id=INPUT, options=[again])))
    return View(
        type="modal", callback_id=CallbackId.CONFIRM_INCENTIVE, title="Send another incentive?", submit="Send again",
        close="Cancel", private_metadata=private_metadata, blocks=blocks,
    )


def confirmed_value(value: str | None) -> tuple[int, int] | None:
    """The (participant id, Unix time of the incentive seen) a ticked confirmation names."""
    try:
        participant, seen = (value or "").split(":")
        return int(participant), int(seen)
    except ValueError:
        return None
