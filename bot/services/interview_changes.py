"""Changing an interview's time or calendar event from Slack: reschedule, change host, edit the
details. ``InterviewChangeService.form`` also opens the modals of a group slot's participant
limit and of adding a guest; those changes are in ``bot/services/attendee_changes.py``, which
shares the thread notes and field checks at the end of this module.

A change to the calendar event keeps the invite's UID and raises its SEQUENCE, and sends the
updated invite to everyone on it (``bot/services/invite_updates.py``). Every method follows the shape of ``bot/services/interview_actions``:
lock and check the interview as the person saw it, refuse with a message for the user, change,
record the timeline, queue the emails and the card update in the same transaction. A repeated
request (double click, Slack retry) finds nothing left to do and returns ``changed=False``.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.actions import InterviewAction
from bot.clock import Clock
from bot.domain import GOOGLE_CALENDAR, Actor, InterviewSummary, StudyRef
from bot.services import activity, availability, notifications, validation
from bot.services.change_rules import (
    future_start,
    lock_hosts,
    name_of,
    refuse_clashes,
    refuse_second_interview,
    require_applies,
)
from bot.services.errors import Conflict, InvalidField, InvalidInput
from bot.services.interview_actions import ActionResult, Seen, load_for_action, result
from bot.services.interviews import study_ref, summary
from bot.services.invite_updates import InviteUpdates
from bot.services.notifications import Mailer, Notifier
from storage.db import Database
from storage.enums import (
    ActivityKind,
    AttendeeRole,
    CalendarProvider,
    Conferencing,
    InterviewStatus,
    InviteStatus,
    ParticipantStatus,
)
from storage.models import Attendee, Interview, StudyHost, TeamMember

A = InterviewAction

MAX_REASON = 1000
MAX_DESCRIPTION = 3000
MAX_PASSWORD = 200


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
        self.updates = InviteUpdates(notifier, mailer)

    # -------------------------------------------------------------- the forms

    def form(self, interview_id: int, actor: Actor, seen: Seen | None, action: InterviewAction) -> ChangeForm:
        """The interview as a change's modal needs it, if that change applies to it now."""
        now = self.clock()
        with self.db.transaction() as session:
            interview = load_for_action(session, interview_id, actor, now, seen)
            require_applies(interview, action, now)
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
        override_availability: bool = False, reason: str | None = None, from_calendar: bool = False,
    ) -> ActionResult:
        """Move the interview (a group slot with everyone in it); a completed or no-show one is
        run again. The host's other interviews are checked even with the availability override.
        ``from_calendar``: the event was moved in Google Calendar, so it is not written back."""
        now = self.clock()
        starts_at = future_start(starts_at, now)
        reason = _one_line(reason, field="reason", what="The reason", limit=MAX_REASON)
        with self.db.transaction(write_lock=True) as session:
            if from_calendar:
                notifications.from_calendar(session)
            lock_hosts(session, interview_id)
            interview = load_for_action(session, interview_id, actor, now)
            if interview.status is InterviewStatus.UPCOMING and interview.starts_at == starts_at:
                # Already there: a second submit of the same form, or no change at all. Checked
                # before the stale check, since the first submit is what moved it.
                return result(session, interview, now, changed=False)
            interview = load_for_action(session, interview_id, actor, now, seen)
            require_applies(interview, A.RESCHEDULE, now)
            study = interview.study
            ends_at = starts_at + (interview.ends_at - interview.starts_at)
            if not override_availability and not availability.within(study.availability, study.timezone, starts_at, ends_at):
                raise InvalidField("when", (
                    "That time is outside the study's availability: "
                    f"{availability.describe(study.availability, study.timezone)}. "
                    "Tick the availability override to move it there anyway."
                ))
            refuse_clashes(session, interview, _hosts(interview), starts_at, ends_at, field="when",
                            hint=" The availability override does not cover this: a host can't be in two interviews at once."
                            if override_availability else "")
            refuse_second_interview(session, interview, now)
            previous = (interview.starts_at, interview.ends_at)
            _move(interview, starts_at, ends_at, now)
            session.flush()
            activity.record(session, interview, ActivityKind.RESCHEDULED, actor, now,
                            previous=f"{previous[0]:%Y-%m-%d %H:%M} UTC", reason=reason, start=starts_at.isoformat())
            names = participant_names(interview)
            self.updates.send(
                session, interview, now, actor, title="Rescheduled", previous=previous, reason=reason,
                change=lambda a: ("The research team moved your interview to a new time." if is_participant(a)
                                  else f"The interview with {names} has moved to a new time."),
            )
            self.notifier.card(session, interview, now, f"team_rescheduled:{interview.ical_sequence}", note=change_note(
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
        host_id = checked_field("host", validation.slack_user_id, host_id)
        typed_url = _optional_url(conferencing_url, field="host_link")
        with self.db.transaction(write_lock=True) as session:
            lock_hosts(session, interview_id)
            interview = load_for_action(session, interview_id, actor, now, seen)
            require_applies(interview, A.CHANGE_HOST, now)
            current = _host_attendees(interview)
            if any(a.slack_user_id == host_id for a in current):
                return result(session, interview, now, changed=False)  # already theirs (a repeated submit)
            member = session.scalars(
                select(TeamMember).where(TeamMember.team_id == interview.study.team_id, TeamMember.slack_user_id == host_id)
            ).one_or_none()
            if member is None or not member.can_host:
                raise InvalidField("host", "Choose a teammate on this study's team who can host interviews.")
            refuse_clashes(session, interview, [host_id], interview.starts_at, interview.ends_at, field="host",
                            names={host_id: member.display_name or host_id})
            previous_host = current[0].slack_user_id if current else None
            old_url = interview.conferencing_url
            for attendee in current:
                attendee.role = AttendeeRole.GUEST  # stays on the invite (the organizer always does)
            new_host = _attendee_for(interview, member)
            new_host.role = AttendeeRole.HOST
            meet = interview.calendar_provider is CalendarProvider.GOOGLE and interview.study.conferencing == Conferencing.GOOGLE_MEET
            if not meet:
                self._give_room(session, interview, member, typed_url)
            interview.ical_sequence += 1
            session.flush()
            if meet:  # a new Meet link with the new host, as the reference says (Google makes it)
                self.notifier.calendar_write(session, interview, now, new_meet=True)
            activity.record(session, interview, ActivityKind.HOST_CHANGED, actor, now, host=host_id, previous=previous_host)
            if interview.conferencing_url != old_url:
                activity.record(session, interview, ActivityKind.CONFERENCING_UPDATED, actor, now, url=interview.conferencing_url)
            new_name = new_host.display_name
            names = participant_names(interview)
            self.updates.send(
                session, interview, now, actor, title="New host",
                change=lambda a: (f"Your interview now has a new host: {new_name}. The time stays the same."
                                  if is_participant(a) else f"{new_name} now hosts the interview with {names}."),
                templates={new_host.id: "host_change_new_host"},
                extra={"previous_host": name_of(interview, previous_host), "participant_names": names},
            )
            self.notifier.card(session, interview, now, f"host_changed:{interview.ical_sequence}",
                               note=change_note(actor, "host_changed", host=host_id, previous=previous_host))
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
            require_applies(interview, A.EDIT_DETAILS, now)
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
            self.updates.send(session, interview, now, actor, title="Updated",
                               change=lambda a: f"The research team updated the {said} of this interview.")
            self.notifier.card(session, interview, now, f"details_updated:{interview.ical_sequence}",
                               note=change_note(actor, "details_updated", fields=list(fields)))
            return _details_result(result(session, interview, now), fields)


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
        if is_participant(attendee):
            attendee.attendance_confirmed_at = None
            attendee.attended = None
            if attendee.participant is not None:
                attendee.participant.status = ParticipantStatus.SCHEDULED


def _attendee_for(interview: Interview, member: TeamMember) -> Attendee:
    """The member's attendee row on this interview (a guest, or the organizer), or a new one."""
    for attendee in interview.attendees:
        if attendee.slack_user_id == member.slack_user_id or (member.email and attendee.email == member.email):
            if is_participant(attendee):
                raise InvalidField("host", f"{attendee.display_name} is a participant of this interview and can't host it.")
            attendee.slack_user_id = member.slack_user_id
            return attendee
    attendee = Attendee(
        role=AttendeeRole.HOST, slack_user_id=member.slack_user_id, email=member.email,
        display_name=member.display_name or member.slack_user_id,
    )
    interview.attendees.append(attendee)
    return attendee


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


def is_participant(attendee: Attendee) -> bool:
    return attendee.role is AttendeeRole.PARTICIPANT


def participant_names(interview: Interview) -> str:
    return _and([a.display_name for a in interview.attendees if is_participant(a)]) or "no participant yet"


def _and(items: list[str]) -> str:
    """"Nora", "Nora and Otto", "Nora, Otto and Pia"."""
    if len(items) < 2:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def change_note(actor: Actor, kind: str, **fields: Any) -> dict[str, Any]:
    """A thread note by a teammate (mentioned), a calendar (a change made in Google Calendar), or
    an admin on the command line."""
    if actor.slack_user_id:
        by = {"by": actor.slack_user_id}
    else:
        by = {"who": actor.name if actor.name == GOOGLE_CALENDAR else "An admin"}
    return {"kind": kind, **by, **fields}


def _details_result(base: ActionResult, fields: tuple[str, ...]) -> DetailsResult:
    return DetailsResult(base.interview, base.changed, base.outbox_ids, fields=fields)


def checked_field(field: str, check: Callable[[str], str], value: str) -> str:
    """``check(value)``, its refusal shown next to ``field``."""
    try:
        return check(value)
    except InvalidField:
        raise
    except InvalidInput as error:
        raise InvalidField(field, error.message) from None


def _optional_url(value: str | None, *, field: str) -> str | None:
    value = (value or "").strip()
    return checked_field(field, lambda v: validation.web_url(v, what="The meeting link"), value) if value else None


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
