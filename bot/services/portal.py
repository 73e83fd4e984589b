"""What a participant can do through their personal link: see open times, book, change, cancel.

Every call starts from the link's token; the token is the participant's only credential, so
every lookup goes through ``_participant`` and nothing is reachable from another participant's
link. A booking is only made for a time ``open_slots`` offers at the moment of booking, inside a
locked transaction, so two people can never take the last seat.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.domain import Actor
from bot.integrations.ical import render_ics
from bot.services import activity, screener, validation, waitlist
from bot.services.booking import BookingService
from bot.services.errors import Conflict, InvalidInput, NotAllowed, NotFound
from bot.services.links import hash_token
from bot.services.notifications import Mailer, invite_for
from bot.services.slots import (
    Busy,
    GroupSlot,
    OpenSlot,
    SchedulingRules,
    busy_from_interviews,
    open_slots,
)
from storage import queries
from storage.db import Database
from storage.enums import (
    ActivityKind,
    ActorKind,
    AttendeeRole,
    CalendarConflicts,
    InterviewStatus,
    InviteStatus,
    ParticipantStatus,
    StudyStatus,
)
from storage.models import Attendee, Interview, Participant, Study, StudyHost

MAX_REASON = 1000


class LinkNotValid(NotFound):
    def __init__(self) -> None:
        super().__init__("This link is not valid. Please use the latest link the research team sent you.")


class SlotTaken(Conflict):
    """The time was taken a moment ago; ``alternatives`` are the nearest open times."""

    def __init__(self, alternatives: list[OpenSlot]) -> None:
        super().__init__("That time was just taken.")
        self.alternatives = alternatives


@dataclass(frozen=True)
class PortalBooking:
    interview_id: int
    starts_at: datetime
    ends_at: datetime
    meeting_url: str | None
    meeting_password: str | None
    can_change: bool  # the participant may still reschedule or cancel it themselves
    change_deadline: datetime | None


@dataclass(frozen=True)
class PortalState:
    participant_name: str
    participant_timezone: str | None
    study_name: str
    study_timezone: str
    duration_minutes: int
    host_names: tuple[str, ...]
    study_open: bool
    booking: PortalBooking | None


class ParticipantPortal:
    def __init__(self, db: Database, clock: Clock, booking: BookingService, mailer: Mailer) -> None:
        self.db = db
        self.clock = clock
        self.booking_service = booking
        self.mailer = mailer
        self.notifier = booking.notifier

    # -------------------------------------------------------------- reading

    def state(self, token: str) -> PortalState:
        with self.db.transaction() as session:
            participant = _participant(session, token)
            study = participant.study
            interview = _upcoming_interview(session, participant, self.clock())
            return PortalState(
                participant_name=participant.name, participant_timezone=participant.timezone,
                study_name=study.name, study_timezone=study.timezone, duration_minutes=study.duration_minutes,
                host_names=tuple(_host_name(h) for h in study.hosts), study_open=study.status is StudyStatus.ACTIVE,
                booking=self._booking_view(study, interview) if interview else None,
            )

    def slots(self, token: str) -> list[OpenSlot]:
        """The times this participant may book now, or move their one-on-one interview to."""
        now = self.clock()
        with self.db.transaction() as session:
            participant = _participant(session, token)
            interview = _upcoming_interview(session, participant, now)
            if interview is not None and _participants(interview) == 1:
                return self._open_slots(session, participant.study, now, moving=interview)
            return self._open_slots(session, participant.study, now)

    def invite(self, token: str) -> bytes:
        """The participant's current booking as an .ics file."""
        with self.db.transaction() as session:
            participant = _participant(session, token)
            interview = _upcoming_interview(session, participant, self.clock())
            if interview is None:
                raise NotFound("You have no upcoming interview.")
            return render_ics(invite_for(interview, self.mailer, method="REQUEST", now=self.clock()))

    # -------------------------------------------------------------- changing

    def book(self, token: str, starts_at: datetime, timezone: str) -> PortalBooking:
        """Book an offered time; the participant's zone is kept for the times in their emails."""
        zone = validation.timezone(timezone)
        now = self.clock()
        with self.db.transaction(write_lock=True) as session:
            participant = _participant(session, token, lock=True)
            study = participant.study
            self._require_open(study)
            screener.require_qualified(participant)
            existing = _upcoming_interview(session, participant, now)
            if existing is not None:
                if existing.starts_at == starts_at:  # a double submit: the booking stands
                    return self._booking_view(study, existing)
                raise Conflict("You already have an interview booked. Reschedule it from your booking page.")
            slot = self._take(session, study, starts_at, now)
            participant.timezone = zone
            actor = Actor(ActorKind.PARTICIPANT, name=participant.name)
            host = self.booking_service.study_host(session, study, slot.host)
            interview = self.booking_service.seat(session, study, participant, host, slot.start, actor, now, check_availability=True)
            return self._booking_view(study, interview)

    def reschedule(self, token: str, starts_at: datetime, timezone: str, reason: str | None) -> PortalBooking:
        """Move the participant's interview; a one-on-one keeps its UID with SEQUENCE+1."""
        zone = validation.timezone(timezone)
        reason = _reason(reason)
        now = self.clock()
        with self.db.transaction(write_lock=True) as session:
            participant = _participant(session, token, lock=True)
            study = participant.study
            interview = self._changeable(session, participant, study, now)
            if interview.starts_at == starts_at:  # a double submit
                return self._booking_view(study, interview)
            previous = (interview.starts_at, interview.ends_at)
            actor = Actor(ActorKind.PARTICIPANT, name=participant.name)
            participant.timezone = zone
            if _participants(interview) == 1:
                moved = self._move(session, study, interview, starts_at, now)
            else:  # a seat in a group slot: leave it and take one at the new time
                interview.attendees.remove(_seat_of(interview, participant))
                interview.ical_sequence += 1
                session.flush()
                slot = self._take(session, study, starts_at, now)
                host = self.booking_service.study_host(session, study, slot.host)
                moved = self.booking_service.seat(session, study, participant, host, slot.start, actor, now, check_availability=True, notify=False)
            activity.record(session, moved, ActivityKind.RESCHEDULED, actor, now,
                            previous=f"{previous[0]:%Y-%m-%d %H:%M} UTC", reason=reason)
            if self.notifier is not None:
                self.notifier.rescheduled(session, moved, participant, previous, now)
            return self._booking_view(study, moved)

    def cancel(self, token: str, reason: str | None) -> None:
        reason = _reason(reason)
        now = self.clock()
        with self.db.transaction(write_lock=True) as session:
            participant = _participant(session, token, lock=True)
            study = participant.study
            interview = self._changeable(session, participant, study, now)
            actor = Actor(ActorKind.PARTICIPANT, name=participant.name)
            participant.status = ParticipantStatus.CANCELED_INTERVIEW
            whole = _participants(interview) == 1
            interview.ical_sequence += 1
            if whole:
                interview.status = InterviewStatus.CANCELED
                interview.outcome_note = reason
                interview.outcome_at = now
            activity.record(session, interview, ActivityKind.CANCELED, actor, now, reason=reason, participant=participant.name)
            if self.notifier is not None:
                self.notifier.participant_withdrawn(session, interview, participant, now, reason)
            if not whole:  # the group slot goes on without them
                interview.attendees.remove(_seat_of(interview, participant))
                session.flush()
            if self.notifier is not None:
                self.notifier.hosts_told_of_cancel(session, interview, participant, now, reason, whole_interview=whole)
            waitlist.offer_freed_time(session, interview, now, self.mailer, left=participant)

    # -------------------------------------------------------------- helpers

    def _open_slots(self, session: Session, study: Study, now: datetime, *, moving: Interview | None = None) -> list[OpenSlot]:
        return open_times(session, study, now, moving=moving)

    def _move(self, session: Session, study: Study, interview: Interview, starts_at: datetime, now: datetime) -> Interview:
        """Give a one-on-one interview a new time with the same host (same UID, SEQUENCE+1)."""
        slot = self._take(session, study, starts_at, now, moving=interview)
        interview.starts_at, interview.ends_at = slot.start, slot.end
        interview.ical_sequence += 1
        interview.reschedule_requested_at = None  # done what the team asked
        interview.timed_at = now
        for attendee in interview.attendees:
            if attendee.role is AttendeeRole.PARTICIPANT:
                attendee.attendance_confirmed_at = None  # confirmed for the old time, not the new
                attendee.invite_status = InviteStatus.ACCEPTED  # they chose the new time themselves
        session.flush()
        return interview

    def _take(self, session: Session, study: Study, starts_at: datetime, now: datetime, *, moving: Interview | None = None) -> OpenSlot:
        # Lock every host first (PostgreSQL; SQLite holds the write lock already), then check
        # the time is still offered: any booking racing this one waits here and then sees it.
        session.execute(select(StudyHost.id).where(StudyHost.study_id == study.id).with_for_update()).all()
        offered = self._open_slots(session, study, now, moving=moving)
        chosen = next((s for s in offered if s.start == starts_at), None)
        if chosen is None:
            later = [s for s in offered if s.start >= starts_at] or offered
            raise SlotTaken(later[:3])
        return chosen

    def _changeable(self, session: Session, participant: Participant, study: Study, now: datetime) -> Interview:
        interview = _upcoming_interview(session, participant, now)
        if interview is None:
            raise NotFound("You have no upcoming interview to change.")
        view = self._booking_view(study, interview)
        if not view.can_change:
            raise NotAllowed("It is too late to change this interview here. Please reply to the research team's email.")
        return interview

    def _require_open(self, study: Study) -> None:
        if study.status is not StudyStatus.ACTIVE:
            raise NotAllowed("This study is closed and is not booking interviews any more. Thank you for your interest.")

    def _booking_view(self, study: Study, interview: Interview) -> PortalBooking:
        now = self.clock()
        if interview.reschedule_requested_at is not None and now < interview.starts_at:
            # The team asked them to pick a new time: the study's self-service rules don't apply.
            can_change, deadline = True, interview.starts_at
        else:
            deadline = interview.starts_at - timedelta(hours=study.participant_change_cutoff_hours)
            can_change = study.participants_can_reschedule and now < deadline
        return PortalBooking(
            interview_id=interview.id, starts_at=interview.starts_at, ends_at=interview.ends_at,
            meeting_url=interview.conferencing_url, meeting_password=interview.conferencing_password,
            can_change=can_change,
            change_deadline=deadline if study.participants_can_reschedule or can_change else None,
        )


def open_times(session: Session, study: Study, now: datetime, *, moving: Interview | None = None) -> list[OpenSlot]:
    """The times a participant may book now (what the pages offer, and what booking re-checks);
    when ``moving`` a one-on-one interview, only its host's, ignoring itself."""
    rules = SchedulingRules(
        windows=list(study.availability), timezone=study.timezone, duration_minutes=study.duration_minutes,
        buffer_minutes=study.buffer_minutes, min_notice_minutes=study.min_notice_minutes,
        horizon_days=study.horizon_days, participant_limit=study.participant_limit,
    )
    hosts = [h.member.slack_user_id for h in study.hosts]
    host = _current_host(moving) if moving is not None else None
    if host is not None:
        hosts = [host]
    horizon_end = now + timedelta(days=study.horizon_days + 1)
    busy: dict[str, list[Busy]] = busy_from_interviews(
        queries.busy_intervals(
            session, hosts, now - timedelta(days=1), horizon_end,
            except_interview_id=moving.id if moving is not None else None,
        )
    )
    # Connected calendars' busy blocks, as the study's rule says: "busy" (free/busy), "all"
    # (events marked free too), "ignore". They are stored by the calendar refresh, never fetched
    # here, so booking's locked re-check stays fast; blocks of our own interviews were left out
    # when stored, so moving an interview is never blocked by its old time.
    if study.calendar_conflict_rule != CalendarConflicts.IGNORE:
        for user, start, end in queries.calendar_busy_blocks(
            session, study.team_id, hosts, now - timedelta(days=1), horizon_end,
            with_free_events=study.calendar_conflict_rule == CalendarConflicts.ALL,
        ):
            busy.setdefault(user, []).append(Busy(start, end))
    # A group slot is joined through its organizer (``BookingService._open_group_slot``), who
    # stays on it when its host changes; its attendees, the new host included, are busy anyway.
    groups = [
        GroupSlot(interview_id=i.id, host=i.organizer.slack_user_id if i.organizer else "", start=i.starts_at,
                  end=i.ends_at, seated=seated, limit=i.participant_limit)
        for i, seated in queries.open_group_slots(session, study.id, now)
    ] if study.participant_limit > 1 and moving is None else []
    return open_slots(rules, now=now, hosts=hosts, busy=busy, group_slots=groups)


def _participant(session: Session, token: str, *, lock: bool = False) -> Participant:
    """The link's participant. ``lock``: one participant's changes queue (double submits see the
    first one's result instead of racing it); SQLite's write lock does this already."""
    if not token or len(token) > 100:
        raise LinkNotValid()
    query = select(Participant).where(Participant.scheduling_token_hash == hash_token(token))
    if lock:
        query = query.with_for_update(key_share=True)
    participant = session.scalars(query).one_or_none()
    if participant is None:
        raise LinkNotValid()
    return participant


def _upcoming_interview(session: Session, participant: Participant, now: datetime) -> Interview | None:
    return queries.upcoming_interview_of(session, participant.id, now)


def _seat_of(interview: Interview, participant: Participant) -> Attendee:
    return next(a for a in interview.attendees if a.participant_id == participant.id)


def _current_host(interview: Interview) -> str | None:
    """Who hosts the interview now: its host attendee. After a host change the organizer stays
    on the interview (as a guest), so the organizer is only the fallback."""
    host = next((a.slack_user_id for a in interview.attendees if a.role is AttendeeRole.HOST and a.slack_user_id), None)
    return host or (interview.organizer.slack_user_id if interview.organizer else None)


def _participants(interview: Interview) -> int:
    return sum(1 for a in interview.attendees if a.role is AttendeeRole.PARTICIPANT)


def _host_name(host: StudyHost) -> str:
    return host.member.display_name or "the research team"


def _reason(reason: str | None) -> str | None:
    reason = " ".join((reason or "").split())
    if len(reason) > MAX_REASON:
        raise InvalidInput(f"Please keep the reason under {MAX_REASON} characters.")
    return reason or None
