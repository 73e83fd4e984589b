"""Emails the team writes from Slack: custom, reminder and reschedule-request emails.

The team edits a subject and a body prefilled from ``bot/templates/email/composed_*_prefill``;
placeholders such as ``{name}`` are filled in for each recipient, so one text serves a group
slot. Each recipient gets one plain email from the study team, with Reply-To the teammate who
sent it. Its idempotency key names the modal that sent it (Slack's view id) and the recipient:
a double submission or a Slack retry sends nothing twice. The timeline event is written when
the email has actually left (``Notifier.queue_email``'s ``timeline``).

The placeholders, their checks, the text-to-HTML step and the Reply-To here serve the incentive
email too (``bot/services/incentive_emails.py``).
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from markupsafe import Markup, escape
from sqlalchemy.orm import Session

from bot.actions import InterviewAction, available_actions
from bot.clock import Clock
from bot.domain import Actor, InterviewSummary
from bot.integrations.email import Mailbox
from bot.integrations.templates import environment, render_email
from bot.services.errors import Conflict, InvalidField, InvalidInput
from bot.services.interview_actions import ActionResult, Seen, load_for_action, result
from bot.services.interviews import summary
from bot.services.links import hash_token, new_nonce
from bot.services.notifications import Mailer, Notifier, when
from storage import queries
from storage.db import Database
from storage.enums import ActivityKind, AttendeeRole, InterviewStatus
from storage.models import Attendee, Interview, Participant, Study, TeamMember

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


class ComposedEmailService:
    def __init__(self, db: Database, clock: Clock, notifier: Notifier, mailer: Mailer) -> None:
        self.db = db
        self.clock = clock
        self.notifier = notifier
        self.mailer = mailer

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
                subject=" ".join(subject.split()), body=tidy(body), reply_to=_readable(_reply_to(member)),
            )

    def preview(self, interview_id: int, actor: Actor, draft: EmailDraft, seen: Seen | None = None) -> EmailPreview:
        """The draft as its first recipient will get it; ``InvalidField`` when it can't be sent."""
        now = self.clock()
        with self.db.transaction() as session:
            interview = load_for_action(session, interview_id, actor, now, seen)
            _require_kind(interview, draft.kind, now)
            subject, body = _checked(draft.subject, draft.body, interview)
            first = _recipients(interview, draft.recipients)[0]
            values = placeholder_values(self.mailer, interview, first)
            return EmailPreview(first.name, first.email, one_line(fill(subject, values)), fill(body, values))

    def send(self, interview_id: int, actor: Actor, draft: EmailDraft, *, request_id: str, seen: Seen | None = None) -> ActionResult:
        """Queue one email per recipient; ``request_id`` (the modal's view id) makes it once only."""
        request_id = checked_request_id(request_id)
        now = self.clock()
        with self.db.transaction(write_lock=True) as session:
            interview = load_for_action(session, interview_id, actor, now, seen)
            _require_kind(interview, draft.kind, now)
            subject, body = _checked(draft.subject, draft.body, interview)
            reply_to = reply_address(session, interview.study, actor)
            template = TEMPLATE_NAMES[draft.kind]
            kind = ActivityKind.REMINDER_SENT if draft.kind is A.REMINDER_EMAIL else ActivityKind.EMAIL_SENT
            added = False
            for participant in _recipients(interview, draft.recipients):
                values = placeholder_values(self.mailer, interview, participant)
                filled_subject, filled_body = one_line(fill(subject, values)), fill(body, values)
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


def fill(value: str, values: Mapping[str, str]) -> str:
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
    return subject, checked_text("body", body, MAX_BODY, "message", interview)


def checked_text(field: str, value: str, limit: int, what: str, interview: Interview) -> str:
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


def one_line(value: str) -> str:
    return " ".join(value.split())


def tidy(value: str) -> str:
    return re.sub(r"\n{4,}", "\n\n\n", value).strip() + "\n"


def checked_request_id(value: str) -> str:
    value = (value or "").strip()
    if not value or len(value) > 64:
        raise InvalidInput("This form can't be sent from here. Please open it again.")
    return value


def _require_kind(interview: Interview, kind: InterviewAction, now: datetime) -> None:
    if kind not in COMPOSED_KINDS:
        raise InvalidInput("That is not an email we can compose.")
    if kind not in available_actions(summary(interview, now)):
        raise Conflict(_NOT_NOW[kind])


def participant_seats(interview: Interview) -> list[Attendee]:
    return [a for a in interview.attendees if a.role is AttendeeRole.PARTICIPANT and a.participant is not None]


def _recipients(interview: Interview, chosen: tuple[int, ...] | None) -> list[Participant]:
    seats = participant_seats(interview)
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


def placeholder_values(mailer: Mailer, interview: Interview, participant: Participant) -> dict[str, str]:
    """What each placeholder says for ``participant``."""
    token = _token(mailer, participant)
    zone = participant.timezone or interview.study.timezone
    return {
        "name": participant.name,
        "time": when(interview.starts_at, interview.ends_at, zone),
        "meeting_link": interview.conferencing_url or "",
        "scheduling_link": mailer.links.scheduling_url(token),
        "manage_link": mailer.links.manage_url(token),
        "study": interview.study.name,
    }


def reply_address(session: Session, study: Study, actor: Actor) -> Mailbox | None:
    """Where replies to an email the team sends go: the teammate who sent it, when we know their address."""
    return _reply_to(_member(session, study, actor))


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
