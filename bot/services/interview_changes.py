"""Changing an interview's time or calendar event from Slack: reschedule, change host, edit the
details, change a group slot's participant limit, add a guest.

A change to the calendar event keeps the invite's UID and raises its SEQUENCE, and sends the
updated invite (METHOD:REQUEST) to every attendee with an email address, so each calendar updates
the event it already holds. Every method follows the shape of ``bot/services/interview_actions``:
lock and check the interview as the person saw it, refuse with a message for the user, change,
record the timeline, queue the emails and the card update in the same transaction. A repeated
request (double click, Slack retry) finds nothing left to do and returns ``changed=False``.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import formataddr
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.domain import (
    Actor,
    InterviewAction,
    InterviewSummary,
    MemberProfile,
    StudyRef,
    available_actions,
)
from bot.integrations.templates import render_email
from bot.services import activity, availability, validation
from bot.services.errors import Conflict, InvalidField, InvalidInput
from bot.services.interview_actions import ActionResult, Seen, load_for_action, result
from bot.services.interviews import study_ref, summary
from bot.services.notifications import Mailer, Notifier, attendance_links, invite_for, when
from storage.db import Database
from storage.enums import (
    ActivityKind,
    AttendeeRole,
    InterviewStatus,
    InviteStatus,
    ParticipantStatus,
)
from storage.models import Attendee, Interview, StudyHost, TeamMember
from storage.queries import overlapping_interviews, upcoming_interview_of

A = InterviewAction

MAX_REASON = 1000
MAX_DESCRIPTION = 3000
MAX_PASSWORD = 200
MIN_GROUP_LIMIT = 2  # a limit of 1 would turn the group slot into a one-on-one
MAX_GROUP_LIMIT = 50  # the same bound as a study's own limit


@dataclass(frozen=True)
class HostChoice:
    """A teammate who could take over as host."""

    slack_user_id: str
    name: str
    has_room: bool  # their own meeting room in this study, used instead of a typed link


@dataclass(frozen=True)
class ChangeForm:
    """What a change's modal shows: the interview now, and the choices it offers."""

    interview: InterviewSummary
    study: StudyRef
    description: str | None
    conferencing_password: str | None
    now: datetime
    host_choices: tuple[HostChoice, ...] = ()


@dataclass(frozen=True)
class DetailsResult(ActionResult):
    """An edit's result, with the names of the fields that changed ("meeting link", ...)."""

    fields: tuple[str, ...] = ()


class InterviewChangeService:
    def __init__(self, db: Database, clock: Clock, notifier: Notifier, mailer: Mailer) -> None:
        self.db = db
        self.clock = clock
        self.notifier = notifier
        self.mailer = mailer

    # -------------------------------------------------------------- the forms

    def form(self, interview_id: int, actor: Actor, seen: Seen | None, action: InterviewAction) -> ChangeForm:
        """The interview as a change's modal needs it, if that change applies to it now."""
        now = self.clock()
        with self.db.transaction() as session:
            interview = load_for_action(session, interview_id, actor, now, seen)
            _require_applies(interview, action, now)
            choices: tuple[HostChoice, ...] = ()
            if action is A.CHANGE_HOST:
                choices = _host_choices(interview)
                if not choices:
                    raise Conflict(
                        "Nobody else on the team can host this interview. Add teammates with "
                        f"`interview-desk team add-member {interview.study.team_id} U…`, then try again."
                    )
            return ChangeForm(
                interview=summary(interview, now), study=study_ref(interview.study),
                description=interview.description, conferencing_password=interview.conferencing_password,
                now=now, host_choices=choices,
            )

    # -------------------------------------------------------------- reschedule

    def reschedule(
        self, interview_id: int, actor: Actor, seen: Seen | None, *, starts_at: datetime,
        override_availability: bool = False, reason: str | None = None,
    ) -> ActionResult:
        """Move the interview (a group slot with everyone in it); a completed or no-show one is
        run again. The host's other interviews are checked even with the availability override."""
        now = self.clock()
        starts_at = _future_start(starts_at, now)
        reason = _one_line(reason, field="reason", what="The reason", limit=MAX_REASON)
        with self.db.transaction(write_lock=True) as session:
            _lock_hosts(session, interview_id)
            interview = load_for_action(session, interview_id, actor, now)
            if interview.status is InterviewStatus.UPCOMING and interview.starts_at == starts_at:
                # Already there: a second submit of the same form, or no change at all. Checked
                # before the stale check, since the first submit is what moved it.
                return result(session, interview, now, changed=False)
            interview = load_for_action(session, interview_id, actor, now, seen)
            _require_applies(interview, A.RESCHEDULE, now)
            study = interview.study
            ends_at = starts_at + (interview.ends_at - interview.starts_at)
            if not override_availability and not availability.within(study.availability, study.timezone, starts_at, ends_at):
                raise InvalidField("when", (
                    "That time is outside the study's availability: "
                    f"{availability.describe(study.availability, study.timezone)}. "
                    "Tick the availability override to move it there anyway."
                ))
            _refuse_clashes(session, interview, _hosts(interview), starts_at, ends_at, field="when",
                            hint=" The availability override does not cover this: a host can't be in two interviews at once."
                            if override_availability else "")
            _refuse_second_interview(session, interview, now)
            previous = (interview.starts_at, interview.ends_at)
            _move(interview, starts_at, ends_at, now)
            session.flush()
            activity.record(session, interview, ActivityKind.RESCHEDULED, actor, now,
                            previous=f"{previous[0]:%Y-%m-%d %H:%M} UTC", reason=reason, start=starts_at.isoformat())
            names = _participant_names(interview)
            self._send_updates(
                session, interview, now, actor, title="Rescheduled", previous=previous, reason=reason,
                change=lambda a: ("The research team moved your interview to a new time." if _is_participant(a)
                                  else f"The interview with {names} has moved to a new time."),
            )
            self.notifier.card(session, interview, now, f"team_rescheduled:{interview.ical_sequence}", note=_note(
                actor, "rescheduled", start=starts_at.isoformat(), previous=previous[0].isoformat(), reason=reason,
            ))
            return result(session, interview, now)

    # -------------------------------------------------------------- change host

    def change_host(
        self, interview_id: int, actor: Actor, seen: Seen | None, *, host_id: str, conferencing_url: str | None = None,
    ) -> ActionResult:
        """Hand the interview to another teammate who can host. The organizer stays on it (removing
        the organizer would cancel and re-book the event in everyone's calendar), and the old
        host stays on as a guest. The new host's own room in this study wins over ``conferencing_url``."""
        now = self.clock()
        host_id = _field("host", validation.slack_user_id, host_id)
        typed_url = _optional_url(conferencing_url, field="host_link")
        with self.db.transaction(write_lock=True) as session:
            _lock_hosts(session, interview_id)
            interview = load_for_action(session, interview_id, actor, now, seen)
            _require_applies(interview, A.CHANGE_HOST, now)
            current = _host_attendees(interview)
            if any(a.slack_user_id == host_id for a in current):
                return result(session, interview, now, changed=False)  # already theirs (a repeated submit)
            member = session.scalars(
                select(TeamMember).where(TeamMember.team_id == interview.study.team_id, TeamMember.slack_user_id == host_id)
            ).one_or_none()
            if member is None or not member.can_host:
                raise InvalidField("host", "Choose a teammate on this study's team who can host interviews.")
            _refuse_clashes(session, interview, [host_id], interview.starts_at, interview.ends_at, field="host",
                            names={host_id: member.display_name or host_id})
            previous_host = current[0].slack_user_id if current else None
            old_url = interview.conferencing_url
            for attendee in current:
                attendee.role = AttendeeRole.GUEST  # stays on the invite (the organizer always does)
            new_host = _attendee_for(interview, member)
            new_host.role = AttendeeRole.HOST
            self._give_room(session, interview, member, typed_url)
            interview.ical_sequence += 1
            session.flush()
            activity.record(session, interview, ActivityKind.HOST_CHANGED, actor, now, host=host_id, previous=previous_host)
            if interview.conferencing_url != old_url:
                activity.record(session, interview, ActivityKind.CONFERENCING_UPDATED, actor, now, url=interview.conferencing_url)
            new_name = new_host.display_name
            names = _participant_names(interview)
            self._send_updates(
                session, interview, now, actor, title="New host",
                change=lambda a: (f"Your interview now has a new host: {new_name}. The time stays the same."
                                  if _is_participant(a) else f"{new_name} now hosts the interview with {names}."),
                templates={new_host.id: "host_change_new_host"},
                extra={"previous_host": _name_of(interview, previous_host), "participant_names": names},
            )
            self.notifier.card(session, interview, now, f"host_changed:{interview.ical_sequence}",
                               note=_note(actor, "host_changed", host=host_id, previous=previous_host))
            return result(session, interview, now)

    def _give_room(self, session: Session, interview: Interview, member: TeamMember, typed_url: str | None) -> None:
        """Conferencing is per host: their room in this study, else the link typed in the form."""
        room = session.scalars(
            select(StudyHost).where(StudyHost.study_id == interview.study_id, StudyHost.member_id == member.id)
        ).one_or_none()
        if room is not None and room.conferencing_url:
            interview.conferencing_url, interview.conferencing_password = room.conferencing_url, room.conferencing_password
        elif typed_url != interview.conferencing_url:
            interview.conferencing_url, interview.conferencing_password = typed_url, None

    # -------------------------------------------------------------- edit details

    def edit_details(
        self, interview_id: int, actor: Actor, seen: Seen | None, *,
        description: str | None, conferencing_url: str | None, conferencing_password: str | None,
    ) -> DetailsResult:
        """Update the event's description and meeting link/password; empty clears a field."""
        now = self.clock()
        wanted = {
            "description": _multiline(description, field="description", what="The description", limit=MAX_DESCRIPTION),
            "meeting link": _optional_url(conferencing_url, field="link"),
            "password": _one_line(conferencing_password, field="password", what="The password", limit=MAX_PASSWORD),
        }
        with self.db.transaction(write_lock=True) as session:
            interview = load_for_action(session, interview_id, actor, now, seen)
            _require_applies(interview, A.EDIT_DETAILS, now)
            current = {
                "description": interview.description, "meeting link": interview.conferencing_url,
                "password": interview.conferencing_password,
            }
            fields = tuple(name for name, value in wanted.items() if value != current[name])
            if not fields:
                return _details_result(result(session, interview, now, changed=False), ())
            interview.description = wanted["description"]
            interview.conferencing_url = wanted["meeting link"]
            interview.conferencing_password = wanted["password"]
            interview.ical_sequence += 1
            session.flush()
            activity.record(session, interview, ActivityKind.DETAILS_UPDATED, actor, now, fields=list(fields))
            if "meeting link" in fields:
                activity.record(session, interview, ActivityKind.CONFERENCING_UPDATED, actor, now, url=interview.conferencing_url)
            said = _and(list(fields))
            self._send_updates(session, interview, now, actor, title="Updated",
                               change=lambda a: f"The research team updated the {said} of this interview.")
            self.notifier.card(session, interview, now, f"details_updated:{interview.ical_sequence}",
                               note=_note(actor, "details_updated", fields=list(fields)))
            return _details_result(result(session, interview, now), fields)

    # -------------------------------------------------------------- participant limit

    def change_limit(self, interview_id: int, actor: Actor, seen: Seen | None, *, limit: int) -> ActionResult:
        """A group slot's seats; the booking pages offer the new number at once. Attendees are
        unchanged, so no invite goes out."""
        now = self.clock()
        with self.db.transaction(write_lock=True) as session:
            interview = load_for_action(session, interview_id, actor, now, seen)
            _require_applies(interview, A.CHANGE_LIMIT, now)
            booked = sum(1 for a in interview.attendees if _is_participant(a))
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
                               note=_note(actor, "limit_changed", limit=limit, previous=previous))
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
            slack_user_id = _field("guest", validation.slack_user_id, slack_user_id)
        else:
            email = _field("email", validation.email, email or "")
        with self.db.transaction(write_lock=True) as session:
            interview = load_for_action(session, interview_id, actor, now, seen)
            _require_applies(interview, A.ADD_GUEST, now)
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
                names = _participant_names(interview)
                self._send_updates(session, interview, now, actor, title="Guest added",
                                   change=lambda a: f"{name} joins the interview with {names} as a guest.",
                                   templates={guest.id: "invite_guest"}, extra={"participant_names": names})
            self.notifier.card(session, interview, now, f"guest_added:a{guest.id}",
                               note=_note(actor, "guest_added", guest=slack_user_id or name))
            return result(session, interview, now)

    # -------------------------------------------------------------- emails

    def _send_updates(
        self, session: Session, interview: Interview, now: datetime, actor: Actor, *,
        title: str, change: Callable[[Attendee], str], previous: tuple[datetime, datetime] | None = None,
        reason: str | None = None, templates: Mapping[int, str] | None = None, extra: Mapping[str, Any] | None = None,
    ) -> None:
        """The updated invite to everyone on it with an address: ``invite_update`` saying what
        changed, or the template ``templates`` names for that attendee. Participants read the
        times in their own zone, the team in the study's."""
        study = interview.study
        invite = invite_for(interview, self.mailer, method="REQUEST", now=now)
        duration = int((interview.ends_at - interview.starts_at).total_seconds() // 60)
        for attendee in interview.attendees:
            if not attendee.email:
                continue
            participant = attendee.participant if _is_participant(attendee) else None
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
                to=formataddr((attendee.display_name, attendee.email)), now=now, invite=invite,
                timeline={"template": template, "to": attendee.display_name} if participant else None, actor=actor,
            )


# ------------------------------------------------------------------ checks


_NOT_NOW = {
    A.RESCHEDULE: "rescheduled",
    A.CHANGE_HOST: "given another host",
    A.EDIT_DETAILS: "edited",
    A.CHANGE_LIMIT: "given another participant limit",
    A.ADD_GUEST: "given another guest",
}


def _require_applies(interview: Interview, action: InterviewAction, now: datetime) -> None:
    """Refuse a change the interview's state rules out (the same rule that shows the button)."""
    current = summary(interview, now)
    if action in available_actions(current):
        return
    if current.status is InterviewStatus.CANCELED:
        raise Conflict("This interview was canceled, so it can't be changed any more. Book a new one with `/interviews book`.")
    if action is A.CHANGE_LIMIT and not current.is_group and not current.has_ended:
        raise Conflict("This is a one-on-one interview: only group slots have a participant limit.")
    raise Conflict(f"This interview is over, so it can't be {_NOT_NOW.get(action, 'changed')} any more.")


def _future_start(starts_at: datetime, now: datetime) -> datetime:
    if starts_at.tzinfo is None:
        raise InvalidField("when", "Give the new time with its time zone.")
    if starts_at.second or starts_at.microsecond:
        raise InvalidField("when", "Interviews start on a whole minute.")
    starts_at = starts_at.astimezone(UTC)
    if starts_at <= now:
        raise InvalidField("when", "That time has already passed; choose a time in the future.")
    return starts_at


def _lock_hosts(session: Session, interview_id: int) -> None:
    """Lock the study's host rows, as bookings do, before the interview's row (PostgreSQL; SQLite
    holds the write lock already): a booking racing a change of time or host waits, then sees the
    host busy; taking the locks in the bookings' order (hosts, then the interview) never deadlocks."""
    study_id = session.scalar(select(Interview.study_id).where(Interview.id == interview_id))
    if study_id is not None:
        session.execute(select(StudyHost.id).where(StudyHost.study_id == study_id).with_for_update()).all()


def _refuse_clashes(
    session: Session, interview: Interview, user_ids: list[str], start: datetime, end: datetime, *,
    field: str, hint: str = "", names: Mapping[str, str] | None = None,
) -> None:
    """Each of these people is free for ``[start, end)`` plus the study's buffer, this interview aside."""
    study = interview.study
    buffer = timedelta(minutes=study.buffer_minutes)
    for user_id in user_ids:
        clashes = [c for c in overlapping_interviews(session, user_id, start - buffer, end + buffer) if c.id != interview.id]
        if clashes:
            clash = clashes[0]
            who = (names or {}).get(user_id) or _name_of(interview, user_id)
            plus = f" (plus the study's {study.buffer_minutes}-minute buffer)" if study.buffer_minutes else ""
            raise InvalidField(field, (
                f"{who} already has an interview then: {when(clash.starts_at, clash.ends_at, study.timezone)}{plus}."
                f"{hint}"
            ))


def _refuse_second_interview(session: Session, interview: Interview, now: datetime) -> None:
    """Running a past interview again must not give a participant two upcoming ones in a study."""
    for attendee in interview.attendees:
        if attendee.participant_id is None:
            continue
        other = upcoming_interview_of(session, attendee.participant_id, now, except_interview_id=interview.id)
        if other is not None:
            raise Conflict(
                f"{attendee.display_name} already has another upcoming interview in this study "
                f"({when(other.starts_at, other.ends_at, interview.study.timezone)}). Reschedule that one instead."
            )


# ------------------------------------------------------------------ changes


def _move(interview: Interview, start: datetime, end: datetime, now: datetime) -> None:
    """The new time, with the same UID and the next SEQUENCE; a settled interview runs again."""
    interview.starts_at, interview.ends_at = start, end
    interview.timed_at = now
    interview.ical_sequence += 1
    interview.reschedule_requested_at = None  # a new time is set: any request to pick one is answered
    if interview.status is not InterviewStatus.UPCOMING:
        interview.status = InterviewStatus.UPCOMING
        interview.outcome_at = interview.outcome_note = interview.rating = None  # they were about the old session
    for attendee in interview.attendees:
        if not attendee.is_organizer:
            attendee.invite_status = InviteStatus.AWAITING  # an answer for the old time says nothing about the new
        if _is_participant(attendee):
            attendee.attendance_confirmed_at = None
            attendee.attended = None
            if attendee.participant is not None:
                attendee.participant.status = ParticipantStatus.SCHEDULED


def _attendee_for(interview: Interview, member: TeamMember) -> Attendee:
    """The member's attendee row on this interview (a guest, or the organizer), or a new one."""
    for attendee in interview.attendees:
        if attendee.slack_user_id == member.slack_user_id or (member.email and attendee.email == member.email):
            if _is_participant(attendee):
                raise InvalidField("host", f"{attendee.display_name} is a participant of this interview and can't host it.")
            attendee.slack_user_id = member.slack_user_id
            return attendee
    attendee = Attendee(
        role=AttendeeRole.HOST, slack_user_id=member.slack_user_id, email=member.email,
        display_name=member.display_name or member.slack_user_id,
    )
    interview.attendees.append(attendee)
    return attendee


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


# ------------------------------------------------------------------ small helpers


def _host_choices(interview: Interview) -> tuple[HostChoice, ...]:
    current = {a.slack_user_id for a in _host_attendees(interview)}
    rooms = {h.member_id for h in interview.study.hosts if h.conferencing_url}
    return tuple(
        HostChoice(m.slack_user_id, m.display_name or m.slack_user_id, m.id in rooms)
        for m in interview.study.team.members
        if m.can_host and m.slack_user_id not in current
    )


def _host_attendees(interview: Interview) -> list[Attendee]:
    return [a for a in interview.attendees if a.role is AttendeeRole.HOST]


def _hosts(interview: Interview) -> list[str]:
    return [a.slack_user_id for a in _host_attendees(interview) if a.slack_user_id]


def _greeting(attendee: Attendee) -> str:
    # A guest added by address has only the address for a name: "Hi there" reads better.
    return "there" if attendee.display_name == attendee.email else attendee.display_name


def _is_participant(attendee: Attendee) -> bool:
    return attendee.role is AttendeeRole.PARTICIPANT


def _participant_names(interview: Interview) -> str:
    return _and([a.display_name for a in interview.attendees if _is_participant(a)]) or "no participant yet"


def _name_of(interview: Interview, slack_user_id: str | None) -> str:
    attendee = next((a for a in interview.attendees if slack_user_id and a.slack_user_id == slack_user_id), None)
    return attendee.display_name if attendee else (slack_user_id or "someone")


def _and(items: list[str]) -> str:
    """"Nora", "Nora and Otto", "Nora, Otto and Pia"."""
    if len(items) < 2:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _note(actor: Actor, kind: str, **fields: Any) -> dict[str, Any]:
    """A thread note by a teammate (mentioned) or by an admin on the command line."""
    by = {"by": actor.slack_user_id} if actor.slack_user_id else {"who": "An admin"}
    return {"kind": kind, **by, **fields}


def _details_result(base: ActionResult, fields: tuple[str, ...]) -> DetailsResult:
    return DetailsResult(base.interview, base.changed, base.outbox_ids, fields=fields)


def _field(field: str, check: Callable[[str], str], value: str) -> str:
    """``check(value)``, its refusal shown next to ``field``."""
    try:
        return check(value)
    except InvalidField:
        raise
    except InvalidInput as error:
        raise InvalidField(field, error.message) from None


def _optional_url(value: str | None, *, field: str) -> str | None:
    value = (value or "").strip()
    return _field(field, lambda v: validation.web_url(v, what="The meeting link"), value) if value else None


def _one_line(value: str | None, *, field: str, what: str, limit: int) -> str | None:
    value = " ".join((value or "").split())
    if len(value) > limit:
        raise InvalidField(field, f"{what} is too long ({len(value)} characters; at most {limit}).")
    return value or None


def _multiline(value: str | None, *, field: str, what: str, limit: int) -> str | None:
    value = "\n".join(line.rstrip() for line in (value or "").strip().splitlines())
    if len(value) > limit:
        raise InvalidField(field, f"{what} is too long ({len(value)} characters; at most {limit}).")
    return value or None
