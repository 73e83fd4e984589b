"""The updated invite after a change made from Slack: one email to everyone on the interview with
an address, saying what changed, with the invite (same UID, higher SEQUENCE) attached, so each
calendar updates the event it already holds. Participants read the times in their own zone, the
team in the study's; participants also get their manage and attendance links."""

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bot.domain import Actor
from bot.integrations.email import Mailbox
from bot.integrations.templates import render_email
from bot.services.notifications import Mailer, Notifier, attendance_links, invite_for, when
from storage.enums import AttendeeRole
from storage.models import Attendee, Interview


class InviteUpdates:
    def __init__(self, notifier: Notifier, mailer: Mailer) -> None:
        self.notifier = notifier
        self.mailer = mailer

    def send(
        self, session: Session, interview: Interview, now: datetime, actor: Actor, *,
        title: str, change: Callable[[Attendee], str], previous: tuple[datetime, datetime] | None = None,
        reason: str | None = None, templates: Mapping[int, str] | None = None, extra: Mapping[str, Any] | None = None,
    ) -> None:
        """``invite_update`` saying what changed (``change`` words it per attendee), or the
        template ``templates`` names for that attendee; once per attendee and SEQUENCE."""
        study = interview.study
        invite = invite_for(interview, self.mailer, method="REQUEST", now=now)
        duration = int((interview.ends_at - interview.starts_at).total_seconds() // 60)
        for attendee in interview.attendees:
            if not attendee.email:
                continue
            participant = attendee.participant if attendee.role is AttendeeRole.PARTICIPANT else None
            zone = (participant.timezone if participant else None) or study.timezone
            context: dict[str, Any] = {
                **(extra or {}), "name": _greeting(attendee), "study_name": study.name, "title": title,
                "change": change(attendee), "when": when(interview.starts_at, interview.ends_at, zone),
                "duration_minutes": duration, "meeting_url": interview.conferencing_url,
                "meeting_password": interview.conferencing_password, "description": interview.description,
                "reason": reason, "previous_when": when(previous[0], previous[1], zone) if previous else None,
                "manage_url": None,
            }
            if participant is not None:
                token = self.mailer.links.token(participant.id, participant.token_nonce or "")
                context["manage_url"] = self.mailer.links.manage_url(token)
                context.update(attendance_links(self.mailer.links, token, interview))  # Yes / Maybe / No, Confirm
            template = (templates or {}).get(attendee.id, "invite_update")
            key = f"email:{template}:{interview.id}:a{attendee.id}:{interview.ical_sequence}"
            self.notifier.queue_email(
                session, key, interview, study, render_email(template, **context),
                to=Mailbox(attendee.display_name or "", attendee.email), now=now, invite=invite,
                timeline={"template": template, "to": attendee.display_name} if participant else None, actor=actor,
            )


def _greeting(attendee: Attendee) -> str:
    # A guest added by address has only the address for a name: "Hi there" reads better.
    return "there" if attendee.display_name == attendee.email else attendee.display_name
