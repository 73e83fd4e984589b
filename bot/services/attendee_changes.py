"""Who else is on an interview, changed from Slack: a group slot's participant limit, and a guest
added to the invite. Both leave the time and the host alone, unlike the changes of
``bot/services/interview_changes.py`` (whose ``InterviewChangeService.form`` opens their modals,
and whose thread notes and field checks they share). A new limit sends no invite; a guest with
an address raises the invite's SEQUENCE and everyone gets the updated invite
(``bot/services/invite_updates.py``). A repeated request (double click, Slack retry) finds
nothing left to do and returns ``changed=False``.
"""

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.actions import InterviewAction
from bot.clock import Clock
from bot.domain import Actor, MemberProfile
from bot.services import activity, validation
from bot.services.change_rules import require_applies
from bot.services.errors import InvalidField, InvalidInput
from bot.services.interview_actions import ActionResult, Seen, load_for_action, result
from bot.services.interview_changes import (
    change_note,
    checked_field,
    is_participant,
    participant_names,
)
from bot.services.invite_updates import InviteUpdates
from bot.services.notifications import Mailer, Notifier
from storage.db import Database
from storage.enums import ActivityKind, AttendeeRole
from storage.models import Attendee, Interview, TeamMember

A = InterviewAction

MIN_GROUP_LIMIT = 2  # a limit of 1 would turn the group slot into a one-on-one
MAX_GROUP_LIMIT = 50  # the same bound as a study's own limit


class AttendeeChangeService:
    def __init__(self, db: Database, clock: Clock, notifier: Notifier, mailer: Mailer) -> None:
        self.db = db
        self.clock = clock
        self.notifier = notifier
        self.updates = InviteUpdates(notifier, mailer)

    # -------------------------------------------------------------- participant limit

    def change_limit(self, interview_id: int, actor: Actor, seen: Seen | None, *, limit: int) -> ActionResult:
        """A group slot's seats; the booking pages offer the new number at once. Attendees are
        unchanged, so no invite goes out."""
        now = self.clock()
        with self.db.transaction(write_lock=True) as session:
            interview = load_for_action(session, interview_id, actor, now, seen)
            require_applies(interview, A.CHANGE_LIMIT, now)
            booked = sum(1 for a in interview.attendees if is_participant(a))
            if limit < MIN_GROUP_LIMIT:
                raise InvalidField("limit", (
                    f"A group slot takes at least {MIN_GROUP_LIMIT} participants: a limit of 1 would make it a "
                    "one-on-one interview."
                ))
            if limit > MAX_GROUP_LIMIT:
                raise InvalidField("limit", f"A group slot takes at most {MAX_GROUP_LIMIT} participants.")
            if limit < booked:
                raise InvalidField("limit", f"{booked} participants are already booked, so the limit can't be lower than {booked}.")
            previous = interview.participant_limit
            if limit == previous:
                return result(session, interview, now, changed=False)
            interview.participant_limit = limit
            session.flush()
            activity.record(session, interview, ActivityKind.LIMIT_CHANGED, actor, now, limit=limit, previous=previous)
            # The version is new on every change of the row: 3 -> 4 -> 3 -> 4 tells the thread each time.
            self.notifier.card(session, interview, now, f"limit_changed:v{interview.version}",
                               note=change_note(actor, "limit_changed", limit=limit, previous=previous))
            return result(session, interview, now)

    # -------------------------------------------------------------- add a guest

    def add_guest(
        self, interview_id: int, actor: Actor, seen: Seen | None, *,
        slack_user_id: str | None = None, email: str | None = None, profile: MemberProfile | None = None,
    ) -> ActionResult:
        """Add a teammate (``slack_user_id``; ``profile`` is what Slack says about them) or an
        email address as a guest. Someone already on the invite is left as they are."""
        now = self.clock()
        slack_user_id = (slack_user_id or "").strip() or None
        email = (email or "").strip() or None
        if bool(slack_user_id) == bool(email):
            raise InvalidField("guest", "Choose a teammate or type an email address (one of the two).")
        if slack_user_id:
            slack_user_id = checked_field("guest", validation.slack_user_id, slack_user_id)
        else:
            email = checked_field("email", validation.email, email or "")
        with self.db.transaction(write_lock=True) as session:
            interview = load_for_action(session, interview_id, actor, now, seen)
            require_applies(interview, A.ADD_GUEST, now)
            name, address = email or "", email
            if slack_user_id:
                name, address = _teammate(session, interview, slack_user_id, profile or MemberProfile(None, None))
            if _already_attending(interview, slack_user_id, address):
                return result(session, interview, now, changed=False)
            guest = Attendee(role=AttendeeRole.GUEST, slack_user_id=slack_user_id, email=address, display_name=name[:200])
            interview.attendees.append(guest)
            if address:  # the invite's attendee list changes only for someone with an address
                interview.ical_sequence += 1
            session.flush()
            activity.record(session, interview, ActivityKind.GUEST_ADDED, actor, now, guest=slack_user_id or name)
            if address:
                names = participant_names(interview)
                self.updates.send(session, interview, now, actor, title="Guest added",
                                   change=lambda a: f"{name} joins the interview with {names} as a guest.",
                                   templates={guest.id: "invite_guest"}, extra={"participant_names": names})
            self.notifier.card(session, interview, now, f"guest_added:a{guest.id}",
                               note=change_note(actor, "guest_added", guest=slack_user_id or name))
            return result(session, interview, now)


def _teammate(session: Session, interview: Interview, slack_user_id: str, profile: MemberProfile) -> tuple[str, str | None]:
    """A Slack user's name and address: the team's record first, then their Slack profile."""
    member = session.scalars(
        select(TeamMember).where(TeamMember.team_id == interview.study.team_id, TeamMember.slack_user_id == slack_user_id)
    ).one_or_none()
    name = (member.display_name if member else None) or profile.name or slack_user_id
    address = (member.email if member else None) or profile.email
    if address:
        try:
            address = validation.email(address)
        except InvalidInput:
            address = None  # an address mail would bounce: they are added without an invite
    return name, address


def _already_attending(interview: Interview, slack_user_id: str | None, email: str | None) -> bool:
    return any(
        (slack_user_id and a.slack_user_id == slack_user_id) or (email and (a.email or "").lower() == email)
        for a in interview.attendees
    )
