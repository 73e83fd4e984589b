"""What a booking, reschedule or cancellation tells people: emails with calendar invites.

Everything is written to the outbox in the same transaction as the change, rendered there and
then, so an email says what was true when it was caused, and it is sent exactly when the change
is committed. Each email's idempotency key names the interview, the person and the invite's
SEQUENCE: a retry never sends it twice, and a later change sends a new one.

An interview whose calendar is Google (``Interview.calendar_provider``) gets no .ics of ours:
wherever an invite would be attached, a calendar write is queued instead, and Google invites
the same people (``bot/jobs/calendar_deliverer.py``).
"""

import hashlib
from dataclasses import asdict, dataclass
from datetime import datetime
from email.utils import parseaddr
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.domain import Actor
from bot.integrations.email import Mailbox
from bot.integrations.ical import CalendarInvite, InviteAttendee
from bot.integrations.templates import render_email
from bot.services.links import LinkSigner
from storage import outbox
from storage.enums import ActivityKind, AttendeeRole, CalendarProvider, InviteStatus, OutboxKind
from storage.models import Attendee, Interview, Participant, Study

# Set in ``session.info`` by a change that Google Calendar told us of: it is not written back.
FROM_CALENDAR = "from_calendar"


def from_calendar(session: Session) -> None:
    """Mark this transaction's changes as coming from Google Calendar (see ``calendar_write``)."""
    session.info[FROM_CALENDAR] = True


_PARTSTAT = {
    InviteStatus.AWAITING: "NEEDS-ACTION",
    InviteStatus.ACCEPTED: "ACCEPTED",
    InviteStatus.TENTATIVE: "TENTATIVE",
    InviteStatus.DECLINED: "DECLINED",
}


@dataclass(frozen=True)
class Mailer:
    """Who emails come from, and how links back to us are made."""

    sender: str  # MAIL_FROM
    links: LinkSigner

    @property
    def sender_address(self) -> str:
        return parseaddr(self.sender)[1] or "interviews@localhost"

    def from_team(self, study: Study) -> Mailbox:
        """MAIL_FROM's address, with the study team's name."""
        return Mailbox(f"{study.name} team", self.sender_address)

    def email_payload(self, study: Study, to: Mailbox, rendered: Any, key: str) -> dict[str, Any]:
        """An outbox email's payload, mailboxes as ``[name, address]`` pairs (``Mailbox.to_json``)."""
        return {
            "to": [to.to_json()], "subject": rendered.subject, "text": rendered.text, "html": rendered.html,
            "sender": self.from_team(study).to_json(), "message_id": self.message_id(key),
        }

    def message_id(self, key: str) -> str:
        digest = hashlib.sha256(key.encode()).hexdigest()[:32]
        domain = self.sender_address.rsplit("@", 1)[-1]
        return f"<{digest}@{domain}>"


def when(start: datetime, end: datetime, timezone: str) -> str:
    """"Tue 3 March 2026, 10:00–10:45 (Europe/Berlin)": the time as the reader lives it."""
    zone = ZoneInfo(timezone)
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    return f"{local_start:%a} {local_start.day} {local_start:%B %Y, %H:%M}–{local_end:%H:%M} ({timezone})"


def attendance_links(links: LinkSigner, token: str, interview: Interview) -> dict[str, str]:
    """A participant email's Confirm attendance and Yes / Maybe / No links (template variables
    ``confirm_url`` and ``rsvp_yes_url``, ``rsvp_maybe_url``, ``rsvp_no_url``).

    Each names the start the email shows (``?at=``, Unix seconds): clicked after the interview
    has moved, the page asks about the new time instead of answering for it.
    """
    at = f"?at={int(interview.starts_at.timestamp())}"
    urls = {"confirm_url": links.attend_url(token, interview.id) + at}
    for answer in ("yes", "maybe", "no"):
        urls[f"rsvp_{answer}_url"] = links.rsvp_url(token, interview.id, answer) + at
    return urls


def invite_for(interview: Interview, mailer: Mailer, *, method: Literal["REQUEST", "CANCEL"], now: datetime) -> CalendarInvite:
    organizer = interview.organizer
    organizer_email = (organizer.email if organizer and organizer.email else None) or mailer.sender_address
    organizer_name = (organizer.display_name if organizer and organizer.display_name else None) or f"{interview.study.name} team"
    attendees = tuple(
        InviteAttendee(email=a.email, name=a.display_name, partstat=_PARTSTAT[a.invite_status])
        for a in interview.attendees
        if a.email and a.email != organizer_email
    )
    description = interview.description or f"{interview.session_name} for {interview.study.name}."
    if interview.conferencing_url:
        description += f"\n\nJoin: {interview.conferencing_url}"
        if interview.conferencing_password:
            description += f" (password {interview.conferencing_password})"
    return CalendarInvite(
        uid=interview.ical_uid, sequence=interview.ical_sequence, method=method,
        start=interview.starts_at, end=interview.ends_at, summary=f"{interview.session_name}",
        description=description, location=interview.conferencing_url,
        organizer_email=organizer_email, organizer_name=organizer_name, attendees=attendees, stamp=now,
    )


def _invite_payload(invite: CalendarInvite) -> dict[str, Any]:
    data = asdict(invite)
    for name in ("start", "end", "stamp"):
        data[name] = data[name].isoformat()
    return data


def invite_from_payload(data: dict[str, Any]) -> CalendarInvite:
    values = dict(data)
    for name in ("start", "end", "stamp"):
        values[name] = datetime.fromisoformat(values[name])
    values["attendees"] = tuple(InviteAttendee(**a) for a in values["attendees"])
    return CalendarInvite(**values)


class Notifier:
    """Queues the emails of a booking's life; call inside the booking's transaction."""

    def __init__(self, mailer: Mailer) -> None:
        self.mailer = mailer

    def booked(self, session: Session, interview: Interview, participant: Participant, now: datetime) -> None:
        self._to_participant(session, interview, participant, now, template="booking_confirmation")
        self._to_hosts(session, interview, participant, now, method="REQUEST")
        self.card(session, interview, now, f"booked:p{participant.id}")

    def rescheduled(self, session: Session, interview: Interview, participant: Participant, previous: tuple[datetime, datetime], now: datetime) -> None:
        self._to_participant(session, interview, participant, now, template="reschedule_confirmation", previous=previous)
        self._to_hosts(session, interview, participant, now, method="REQUEST")
        change = f"rescheduled:p{participant.id}:{interview.ical_sequence}"
        self.card(session, interview, now, change, note={
            "kind": "rescheduled", "who": participant.name,
            "start": interview.starts_at.isoformat(), "previous": previous[0].isoformat(),
        })

    def participant_withdrawn(self, session: Session, interview: Interview, participant: Participant, now: datetime, reason: str | None) -> None:
        """The participant's own invite is withdrawn (call while they are still an attendee)."""
        self._to_participant(session, interview, participant, now, template="cancellation", reason=reason)

    def hosts_told_of_cancel(
        self, session: Session, interview: Interview, participant: Participant, now: datetime, reason: str | None,
        *, whole_interview: bool,
    ) -> None:
        """Hosts learn who canceled; when a group slot goes on, with its updated invite (call after
        the participant's seat is gone, so the invite no longer lists them)."""
        self._to_hosts(session, interview, participant, now, method="CANCEL" if whole_interview else "REQUEST",
                       reason=reason, left=True)
        change = f"canceled:p{participant.id}:{interview.ical_sequence}"
        self.card(session, interview, now, change, note={"kind": "canceled", "who": participant.name, "reason": reason})

    def card(self, session: Session, interview: Interview, now: datetime, change: str, note: dict[str, Any] | None = None) -> None:
        """Refresh the interview's channel card (posted on first delivery) and tell its thread.

        Only ids and facts are queued: the card is rendered when delivered, so it shows the
        interview as it is then. One ordering key per channel keeps the card before its notes.
        """
        channel = interview.study.slack_channel_id
        order = f"slack:{channel}"
        outbox.enqueue(session, key=f"card:{interview.id}:{change}", kind=OutboxKind.SLACK_POST,
                       payload={"card": interview.id}, now=now, ordering_key=order, interview_id=interview.id)
        if note is not None:
            outbox.enqueue(session, key=f"note:{interview.id}:{change}", kind=OutboxKind.SLACK_POST,
                           payload={"note": note, "interview_id": interview.id}, now=now, ordering_key=order,
                           interview_id=interview.id)

    def calendar_write(self, session: Session, interview: Interview, now: datetime, *, new_meet: bool = False) -> bool:
        """Bring the interview's Google Calendar event up to date with it, once per change (the
        event is written from the interview as it is at delivery). Nothing when the change came
        from Google itself (``from_calendar``): writing it back would notify everyone again.

        ``new_meet``: the event gets a new Meet link (a host change, as the reference says).
        """
        if interview.calendar_provider is not CalendarProvider.GOOGLE or session.info.get(FROM_CALENDAR):
            return False
        change = f"{interview.ical_sequence}:{now.timestamp():.6f}"
        return outbox.enqueue(
            session, key=f"calendar:{interview.id}:{change}", kind=OutboxKind.CALENDAR,
            payload={"interview_id": interview.id, "new_meet": new_meet, "change": change}, now=now,
            ordering_key=f"calendar:{interview.id}", interview_id=interview.id,
        )

    def _to_participant(
        self, session: Session, interview: Interview, participant: Participant, now: datetime, *,
        template: str, previous: tuple[datetime, datetime] | None = None, reason: str | None = None,
    ) -> None:
        study = interview.study
        zone = participant.timezone or study.timezone
        token = self.mailer.links.token(participant.id, participant.token_nonce or "")
        context: dict[str, Any] = {
            "participant_name": participant.name, "study_name": study.name,
            "when": when(interview.starts_at, interview.ends_at, zone),
        }
        method: Literal["REQUEST", "CANCEL"] = "CANCEL" if template == "cancellation" else "REQUEST"
        if method == "CANCEL":
            context.update(reason=reason, scheduling_url=self.mailer.links.scheduling_url(token))
        else:
            context.update(
                duration_minutes=int((interview.ends_at - interview.starts_at).total_seconds() // 60),
                meeting_url=interview.conferencing_url, meeting_password=interview.conferencing_password,
                manage_url=self.mailer.links.manage_url(token),
                **attendance_links(self.mailer.links, token, interview),
            )
        if previous is not None:
            context["previous_when"] = when(previous[0], previous[1], zone)
        key = f"email:{template}:{interview.id}:p{participant.id}:{interview.ical_sequence}"
        self.queue_email(session, key, interview, study, render_email(template, **context),
                      to=Mailbox(participant.name, participant.email), now=now,
                      invite=invite_for(interview, self.mailer, method=method, now=now),
                      timeline={"template": template, "to": participant.name})

    def _to_hosts(
        self, session: Session, interview: Interview, participant: Participant, now: datetime, *,
        method: Literal["REQUEST", "CANCEL"], reason: str | None = None, left: bool = False,
    ) -> None:
        study = interview.study
        for host in _hosts_with_email(interview):
            context: dict[str, Any] = {
                "host_name": host.display_name or "there", "participant_name": participant.name,
                "study_name": study.name, "when": when(interview.starts_at, interview.ends_at, study.timezone),
            }
            if left:
                rendered = render_email("host_cancellation_notice", **context, reason=reason)
            else:
                rendered = render_email("host_booking_notice", **context, meeting_url=interview.conferencing_url)
            kind = "left" if left else method.lower()
            key = f"email:host_{kind}:{interview.id}:h{host.id}:{interview.ical_sequence}"
            self.queue_email(session, key, interview, study, rendered, to=Mailbox(host.display_name or "", host.email or ""), now=now,
                          invite=invite_for(interview, self.mailer, method=method, now=now), timeline=None)

    def queue_email(
        self, session: Session, key: str, interview: Interview, study: Study, rendered: Any, *, to: Mailbox, now: datetime,
        invite: CalendarInvite | None, timeline: dict[str, Any] | None, actor: Actor | None = None,
        timeline_kind: ActivityKind = ActivityKind.EMAIL_SENT, reply_to: Mailbox | None = None,
    ) -> bool:
        """Queue one email about ``interview`` (once per ``key``); True if it was new.

        ``timeline``: the details of the activity event written when it has been sent, by
        ``actor`` (the system when None).
        """
        payload = self.mailer.email_payload(study, to, rendered, key)
        if invite is not None and interview.calendar_provider is CalendarProvider.GOOGLE:
            self.calendar_write(session, interview, now)  # Google invites them instead
            invite = None
        if invite is not None:
            payload["invite"] = _invite_payload(invite)
        if reply_to:
            payload["reply_to"] = reply_to.to_json()
        if timeline is not None:
            payload["timeline"] = {"kind": timeline_kind.value, "details": timeline}
            if actor is not None:
                payload["timeline"].update(
                    actor_kind=actor.kind.value, actor_slack_user_id=actor.slack_user_id, actor_name=actor.name,
                )
        return outbox.enqueue(session, key=key, kind=OutboxKind.EMAIL, payload=payload, now=now, interview_id=interview.id)


def _hosts_with_email(interview: Interview) -> list[Attendee]:
    return [a for a in interview.attendees if a.role is AttendeeRole.HOST and a.email]
