"""Emails the team writes from Slack: custom, reminder and reschedule-request emails, and the
incentive after a completed interview.

The team edits a subject and a body prefilled from ``bot/templates/email/composed_*_prefill``;
placeholders such as ``{name}`` are filled in for each recipient, so one text serves a group
slot. Each recipient gets one plain email from the study team, with Reply-To the teammate who
sent it. Its idempotency key names the modal that sent it (Slack's view id) and the recipient:
a double submission or a Slack retry sends nothing twice. The timeline event is written when
the email has actually left (``Notifier.queue_email``'s ``timeline``).
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.domain import Actor, InterviewAction, InterviewSummary, available_actions
from bot.integrations.email import Mailbox
from bot.integrations.templates import environment, render_email
from bot.services import validation
from bot.services.errors import Conflict, InvalidField, InvalidInput
from bot.services.interview_actions import ActionResult, Seen, load_for_action, result
from bot.services.interviews import summary
from bot.services.links import hash_token, new_nonce
from bot.services.notifications import Mailer, Notifier, when
from storage import queries
from storage.db import Database
from storage.enums import ActivityKind, AttendeeRole, InterviewStatus
from storage.models import Attendee, Interview, OutboxItem, Participant, Study, TeamMember

A = InterviewAction
COMPOSED_KINDS = (A.CUSTOM_EMAIL, A.REMINDER_EMAIL, A.RESCHEDULE_EMAIL)

# What each kind is called in the timeline ("@ada sent reminder (“…”) to Nora"), and its prefill.
# A sent reschedule request is what lets the participant move the interview (see the portal).
RESCHEDULE_REQUEST = "reschedule_request"
TEMPLATE_NAMES: Mapping[InterviewAction, str] = {
    A.CUSTOM_EMAIL: "custom_email",
    A.REMINDER_EMAIL: "reminder",
    A.RESCHEDULE_EMAIL: RESCHEDULE_REQUEST,
}
_PREFILLS: Mapping[InterviewAction, str] = {
    A.CUSTOM_EMAIL: "composed_custom_prefill",
    A.REMINDER_EMAIL: "composed_reminder_prefill",
    A.RESCHEDULE_EMAIL: "composed_reschedule_request_prefill",
}
_NOT_NOW: Mapping[InterviewAction, str] = {
    A.CUSTOM_EMAIL: "This interview has no participant to email.",
    A.REMINDER_EMAIL: "A reminder only makes sense before the interview, and this one is no longer ahead.",
    A.RESCHEDULE_EMAIL: "Only an upcoming or missed interview can be rescheduled.",
}

# The placeholders the team may use, filled in for each recipient.
PLACEHOLDERS: tuple[str, ...] = ("name", "time", "meeting_link", "scheduling_link", "manage_link", "study")
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
MAX_SUBJECT = 200
MAX_BODY = 5000
MAX_CODE = 200
MAX_AMOUNT = Decimal("1000000")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
# Links in what the team typed become clickable in the HTML part; a trailing full stop or
# bracket is punctuation, not part of the link.
_LINK = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)
_TRAILING = ".,;:!?)]}"


@dataclass(frozen=True)
class ComposeForm:
    """What the compose modal starts from."""

    interview: InterviewSummary
    study_name: str
    kind: InterviewAction
    subject: str
    body: str
    reply_to: str | None  # the teammate's mailbox replies go to, when known, as people read it


@dataclass(frozen=True)
class EmailDraft:
    """What the team typed. ``recipients``: participant ids, or None for "the participant" of a
    one-on-one (whose modal shows who it goes to rather than asking)."""

    kind: InterviewAction
    subject: str
    body: str
    recipients: tuple[int, ...] | None = None


@dataclass(frozen=True)
class EmailPreview:
    """The email as its first recipient will get it."""

    name: str
    address: str
    subject: str
    text: str


@dataclass(frozen=True)
class SentIncentive:
    participant_id: int
    name: str
    sent_at: datetime
    details: Mapping[str, str]  # {"amount", "currency", "code" and/or "claim_url"}


@dataclass(frozen=True)
class IncentiveForm:
    interview: InterviewSummary
    study_name: str
    amount: str | None  # the study's incentive, to prefill
    currency: str | None
    message: str
    sent: tuple[SentIncentive, ...]  # participants of this interview who already have one


@dataclass(frozen=True)
class IncentiveDraft:
    participant_id: int | None  # None: the one participant of a one-on-one
    amount: str
    currency: str
    code: str | None
    claim_url: str | None
    message: str


@dataclass(frozen=True)
class Confirmation:
    """The person saw ``sent_at``'s incentive to this participant and chose to send another."""

    participant_id: int
    sent_at: int  # Unix seconds


class IncentiveAlreadySent(Exception):  # noqa: N818 (a question for the person, not an error)
    """This participant already has an incentive for this interview: nothing was sent, and the
    person must confirm a second one, having seen ``previous``."""

    def __init__(self, previous: SentIncentive) -> None:
        super().__init__(f"{previous.name} already has an incentive for this interview")
        self.previous = previous


class ComposedEmailService:
    def __init__(self, db: Database, clock: Clock, notifier: Notifier, mailer: Mailer) -> None:
        self.db = db
        self.clock = clock
        self.notifier = notifier
        self.mailer = mailer

    # -------------------------------------------------------------- custom, reminder, reschedule

    def compose_form(self, interview_id: int, actor: Actor, kind: InterviewAction, seen: Seen | None = None) -> ComposeForm:
        now = self.clock()
        with self.db.transaction() as session:
            interview = load_for_action(session, interview_id, actor, now, seen)
            _require_kind(interview, kind, now)
            member = _member(session, interview.study, actor)
            signoff = f"{member.display_name}, for the {{study}} team" if member and member.display_name else "The {study} team"
            context = {
                "has_meeting_link": bool(interview.conferencing_url), "signoff": signoff,
                "missed": interview.status is InterviewStatus.NO_SHOW or interview.ends_at <= now,
            }
            env = environment()
            subject = env.get_template(f"email/{_PREFILLS[kind]}.subject.txt.j2").render(context)
            body = env.get_template(f"email/{_PREFILLS[kind]}.txt.j2").render(context)
            return ComposeForm(
                interview=summary(interview, now), study_name=interview.study.name, kind=kind,
                subject=" ".join(subject.split()), body=_tidy(body), reply_to=_readable(_reply_to(member)),
            )

    def preview(self, interview_id: int, actor: Actor, draft: EmailDraft, seen: Seen | None = None) -> EmailPreview:
        """The draft as its first recipient will get it; ``InvalidField`` when it can't be sent."""
        now = self.clock()
        with self.db.transaction() as session:
            interview = load_for_action(session, interview_id, actor, now, seen)
            _require_kind(interview, draft.kind, now)
            subject, body = _checked(draft.subject, draft.body, interview)
            first = _recipients(interview, draft.recipients)[0]
            values = self._values(interview, first)
            return EmailPreview(first.name, first.email, _one_line(_fill(subject, values)), _fill(body, values))

    def send(self, interview_id: int, actor: Actor, draft: EmailDraft, *, request_id: str, seen: Seen | None = None) -> ActionResult:
        """Queue one email per recipient; ``request_id`` (the modal's view id) makes it once only."""
        request_id = _request_id(request_id)
        now = self.clock()
        with self.db.transaction(write_lock=True) as session:
            interview = load_for_action(session, interview_id, actor, now, seen)
            _require_kind(interview, draft.kind, now)
            subject, body = _checked(draft.subject, draft.body, interview)
            reply_to = _reply_to(_member(session, interview.study, actor))
            template = TEMPLATE_NAMES[draft.kind]
            kind = ActivityKind.REMINDER_SENT if draft.kind is A.REMINDER_EMAIL else ActivityKind.EMAIL_SENT
            added = False
            for participant in _recipients(interview, draft.recipients):
                values = self._values(interview, participant)
                filled_subject, filled_body = _one_line(_fill(subject, values)), _fill(body, values)
                rendered = render_email(
                    "composed_message", subject=filled_subject, body=filled_body, body_html=text_to_html(filled_body),
                )
                added |= self.notifier.queue_email(
                    session, f"email:composed:{request_id}:p{participant.id}", interview, interview.study, rendered,
                    to=Mailbox(participant.name, participant.email), now=now, invite=None, actor=actor,
                    timeline={"template": template, "subject": filled_subject, "to": participant.name},
                    timeline_kind=kind, reply_to=reply_to,
                )
            if added and draft.kind is A.RESCHEDULE_EMAIL:
                interview.reschedule_requested_at = now  # their link now lets them move it
            return result(session, interview, now, changed=added)

    # -------------------------------------------------------------- incentive

    def incentive_form(self, interview_id: int, actor: Actor, seen: Seen | None = None) -> IncentiveForm:
        now = self.clock()
        with self.db.transaction() as session:
            interview = load_for_action(session, interview_id, actor, now, seen)
            _require_completed(interview)
            study = interview.study
            message = environment().get_template("email/composed_incentive_prefill.txt.j2").render()
            return IncentiveForm(
                interview=summary(interview, now), study_name=study.name,
                amount=f"{study.incentive_amount:.2f}" if study.incentive_amount is not None else None,
                currency=study.incentive_currency, message=_tidy(message),
                sent=tuple(_sent(a) for a in _participant_seats(interview) if a.incentive_sent_at is not None),
            )

    def send_incentive(
        self, interview_id: int, actor: Actor, draft: IncentiveDraft, *, request_id: str,
        seen: Seen | None = None, confirmed: Confirmation | None = None,
    ) -> ActionResult:
        """Email the participant their incentive and mark it sent on their seat.

        A second incentive for the same participant and interview needs ``confirmed``, naming
        the one the person was shown; otherwise ``IncentiveAlreadySent`` (nothing is sent).
        """
        request_id = _request_id(request_id)
        now = self.clock()
        with self.db.transaction(write_lock=True) as session:
            interview = load_for_action(session, interview_id, actor, now, seen)
            _require_completed(interview)
            seat = _seat(interview, draft.participant_id)
            participant = seat.participant
            assert participant is not None
            key = f"email:incentive:{interview.id}:p{participant.id}:{request_id}"
            if _queued(session, key):  # this very submission again (double click, Slack retry)
                return result(session, interview, now, changed=False)
            reward = _reward(draft)
            message = _checked_text("message", draft.message, MAX_BODY, "message", interview)
            if seat.incentive_sent_at is not None and not _confirms(confirmed, seat):
                raise IncentiveAlreadySent(_sent(seat))
            values = self._values(interview, participant)
            filled = _fill(message, values)
            rendered = render_email(
                "composed_incentive", message=filled, message_html=text_to_html(filled), study_name=interview.study.name,
                team_name=None, amount=reward["amount"], currency=reward["currency"],
                code=reward.get("code"), claim_url=reward.get("claim_url"),
            )
            self.notifier.queue_email(
                session, key, interview, interview.study, rendered, to=Mailbox(participant.name, participant.email),
                now=now, invite=None, actor=actor, timeline_kind=ActivityKind.INCENTIVE_SENT,
                timeline={"to": participant.name, "amount": reward["amount"], "currency": reward["currency"]},
                reply_to=_reply_to(_member(session, interview.study, actor)),
            )
            seat.incentive_sent_at = now
            seat.incentive = reward
            by = {"by": actor.slack_user_id} if actor.slack_user_id else {"who": "Interview Desk"}
            note = {"kind": "incentive_sent", **by, "to": participant.name}
            self.notifier.card(session, interview, now, f"incentive:p{participant.id}:{request_id}", note=note)
            return result(session, interview, now)

    # -------------------------------------------------------------- helpers

    def _values(self, interview: Interview, participant: Participant) -> dict[str, str]:
        """What each placeholder says for ``participant``."""
        token = _token(self.mailer, participant)
        zone = participant.timezone or interview.study.timezone
        return {
            "name": participant.name,
            "time": when(interview.starts_at, interview.ends_at, zone),
            "meeting_link": interview.conferencing_url or "",
            "scheduling_link": self.mailer.links.scheduling_url(token),
            "manage_link": self.mailer.links.manage_url(token),
            "study": interview.study.name,
        }


def text_to_html(value: str) -> Markup:
    """What the team typed, as HTML paragraphs: everything escaped, web links made clickable."""
    paragraphs = [p for p in re.split(r"\n\s*\n", value.strip()) if p.strip()]
    html = [
        Markup('<p style="margin:0 0 16px 0;">{}</p>').format(Markup("<br>\n").join(_linked(line) for line in p.split("\n")))
        for p in paragraphs
    ]
    return Markup("\n").join(html)


def _linked(line: str) -> Markup:
    parts: list[Markup] = []
    position = 0
    for match in _LINK.finditer(line):
        url = match.group(0).rstrip(_TRAILING)
        end = match.start() + len(url)
        parts.append(escape(line[position:match.start()]))
        parts.append(Markup('<a href="{0}" style="color:#1d4ed8;">{0}</a>').format(url))
        position = end
    parts.append(escape(line[position:]))
    return Markup("").join(parts)


def placeholders_in(value: str) -> list[str]:
    return _PLACEHOLDER.findall(value)


def _fill(value: str, values: Mapping[str, str]) -> str:
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), value)


def _checked(subject: str, body: str, interview: Interview) -> tuple[str, str]:
    subject = (subject or "").strip()
    if not subject:
        raise InvalidField("subject", "Please write a subject.")
    if "\n" in subject or "\r" in subject:
        raise InvalidField("subject", "Please keep the subject on one line.")
    if len(subject) > MAX_SUBJECT:
        raise InvalidField("subject", f"Please keep the subject under {MAX_SUBJECT} characters (it has {len(subject)}).")
    _check_placeholders("subject", subject, interview)
    return subject, _checked_text("body", body, MAX_BODY, "message", interview)


def _checked_text(field: str, value: str, limit: int, what: str, interview: Interview) -> str:
    value = (value or "").replace("\r\n", "\n").strip()
    if not value:
        raise InvalidField(field, f"Please write a {what}.")
    if len(value) > limit:
        raise InvalidField(field, f"Please keep the {what} under {limit:,} characters (it has {len(value):,}).")
    _check_placeholders(field, value, interview)
    return value


def _check_placeholders(field: str, value: str, interview: Interview) -> None:
    known = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
    for name in placeholders_in(value):
        if name not in PLACEHOLDERS:
            raise InvalidField(field, f"{{{name}}} is not a placeholder we can fill in. You can use {known}.")
        if name == "meeting_link" and not interview.conferencing_url:
            raise InvalidField(
                field, "This interview has no meeting link, so {meeting_link} would be empty. "
                "Remove it, or add the link with Edit details first.",
            )


def _one_line(value: str) -> str:
    return " ".join(value.split())


def _tidy(value: str) -> str:
    return re.sub(r"\n{4,}", "\n\n\n", value).strip() + "\n"


def _request_id(value: str) -> str:
    value = (value or "").strip()
    if not value or len(value) > 64:
        raise InvalidInput("This form can't be sent from here. Please open it again.")
    return value


def _require_kind(interview: Interview, kind: InterviewAction, now: datetime) -> None:
    if kind not in COMPOSED_KINDS:
        raise InvalidInput("That is not an email we can compose.")
    if kind not in available_actions(summary(interview, now)):
        raise Conflict(_NOT_NOW[kind])


def _require_completed(interview: Interview) -> None:
    if interview.status is not InterviewStatus.COMPLETED:
        raise Conflict("Incentives are sent after a completed interview. Mark it completed first.")


def _participant_seats(interview: Interview) -> list[Attendee]:
    return [a for a in interview.attendees if a.role is AttendeeRole.PARTICIPANT and a.participant is not None]


def _recipients(interview: Interview, chosen: tuple[int, ...] | None) -> list[Participant]:
    seats = _participant_seats(interview)
    people = [a.participant for a in seats if a.participant is not None]
    if chosen is None:
        if len(people) != 1:
            raise InvalidField("recipients", "More than one person is booked on this interview now. Open the email again to choose who gets it.")
        return people
    if not chosen:
        raise InvalidField("recipients", "Please choose at least one recipient.")
    by_id = {p.id: p for p in people}
    missing = [pid for pid in chosen if pid not in by_id]
    if missing:
        raise InvalidField("recipients", "Someone you chose is no longer booked on this interview. Open the email again.")
    return [by_id[pid] for pid in dict.fromkeys(chosen)]


def _seat(interview: Interview, participant_id: int | None) -> Attendee:
    seats = _participant_seats(interview)
    if participant_id is None:
        if len(seats) != 1:
            raise InvalidField("participant", "Please choose the participant.")
        return seats[0]
    seat = next((a for a in seats if a.participant_id == participant_id), None)
    if seat is None:
        raise InvalidField("participant", "That person is not a participant of this interview.")
    return seat


def _sent(seat: Attendee) -> SentIncentive:
    assert seat.incentive_sent_at is not None
    return SentIncentive(seat.participant_id or 0, seat.display_name, seat.incentive_sent_at, dict(seat.incentive or {}))


def _confirms(confirmed: Confirmation | None, seat: Attendee) -> bool:
    """The person confirmed a second incentive having seen the one this seat has now."""
    return (
        confirmed is not None
        and seat.incentive_sent_at is not None
        and confirmed.participant_id == seat.participant_id
        and confirmed.sent_at == int(seat.incentive_sent_at.timestamp())
    )


def _queued(session: Session, key: str) -> bool:
    return session.scalar(select(OutboxItem.id).where(OutboxItem.idempotency_key == key)) is not None


def _reward(draft: IncentiveDraft) -> dict[str, Any]:
    """The incentive as stored on the seat: {"amount", "currency", "code" and/or "claim_url"}."""
    raw = (draft.amount or "").strip().replace(" ", "")
    if raw.count(",") == 1 and "." not in raw:
        raw = raw.replace(",", ".")  # "12,50" as written in much of Europe
    try:
        amount = Decimal(raw)
    except InvalidOperation:
        raise InvalidField("amount", "Please give the amount as a number, e.g. 25 or 12.50.") from None
    if not amount.is_finite() or amount <= 0:
        raise InvalidField("amount", "The amount must be more than zero.")
    if amount >= MAX_AMOUNT or amount != amount.quantize(Decimal("0.01")):
        raise InvalidField("amount", "Please give the amount with at most two decimals, e.g. 12.50.")
    currency = (draft.currency or "").strip().upper()
    if not _CURRENCY.match(currency):
        raise InvalidField("currency", "Please give the currency as its three-letter code, e.g. EUR, USD or GBP.")
    reward: dict[str, Any] = {"amount": f"{amount:.2f}", "currency": currency}
    code = _one_line(draft.code or "")
    if len(code) > MAX_CODE:
        raise InvalidField("code", f"Please keep the code under {MAX_CODE} characters.")
    if code:
        reward["code"] = code
    link = (draft.claim_url or "").strip()
    if link:
        try:
            reward["claim_url"] = validation.web_url(link, what="The claim link")
        except InvalidInput as error:
            raise InvalidField("claim_url", error.message) from None
    if not code and not link:
        raise InvalidField("code", "Please give a code or a claim link, so they can collect it.")
    return reward


def _member(session: Session, study: Study, actor: Actor) -> TeamMember | None:
    if not actor.slack_user_id:
        return None
    return queries.team_member(session, study.team_id, actor.slack_user_id)


def _reply_to(member: TeamMember | None) -> Mailbox | None:
    if member is None or not member.email:
        return None
    return Mailbox(member.display_name or "", member.email)


def _readable(mailbox: Mailbox | None) -> str | None:
    return str(mailbox) if mailbox else None


def _token(mailer: Mailer, participant: Participant) -> str:
    """The participant's personal link token, giving them one if they have none yet."""
    if participant.token_nonce is None:
        participant.token_nonce = new_nonce()
        participant.scheduling_token_hash = hash_token(mailer.links.token(participant.id, participant.token_nonce))
    return mailer.links.token(participant.id, participant.token_nonce)
