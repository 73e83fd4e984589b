"""Booking an interview: the one path used by the CLI, Slack and the participant pages."""

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.domain import Actor, BookingForm, BookingResult
from bot.services import activity, availability, validation
from bot.services.access import require_team_member
from bot.services.calendar_access import CalendarAccess
from bot.services.errors import Conflict, InvalidInput, NotAllowed
from bot.services.notifications import Notifier
from bot.services.participants import find_participant
from bot.services.studies import find_study, study_in_channel
from storage.db import Database
from storage.enums import (
    ActivityKind,
    AttendeeRole,
    CalendarProvider,
    Conferencing,
    InterviewStatus,
    ParticipantStatus,
)
from storage.models import (
    Attendee,
    Interview,
    Participant,
    Study,
    StudyHost,
    TeamMember,
)
from storage.queries import overlapping_interviews, upcoming_interview_of


class BookingService:
    def __init__(
        self, db: Database, clock: Clock, notifier: Notifier | None, calendars: CalendarAccess | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.notifier = notifier  # None only where nobody should be told (seeding demo data)
        self.calendars = calendars

    def book(
        self,
        *,
        study_ref: str | int,
        participant_email: str,
        starts_at: datetime,
        host_id: str,
        actor: Actor,
        override_availability: bool = False,
    ) -> BookingResult:
        """Book a participant at ``starts_at`` with a host, or seat them in that open group slot."""
        host_id = validation.slack_user_id(host_id)
        if starts_at.tzinfo is None:
            raise InvalidInput("Give the start time with its UTC offset, e.g. 2026-03-03T10:00+01:00.")
        if starts_at.second or starts_at.microsecond:
            raise InvalidInput("Interviews start on a whole minute.")
        starts_at = starts_at.astimezone(UTC)
        now = self.clock()
        if starts_at <= now:
            raise InvalidInput("That time has already passed; choose a time in the future.")
        with self.db.transaction(write_lock=True) as session:
            study = find_study(session, study_ref)
            require_team_member(session, study, actor)
            participant = find_participant(session, study, participant_email)
            host = self.study_host(session, study, host_id)
            interview = self.seat(
                session, study, participant, host, starts_at, actor, now,
                check_availability=not override_availability,
            )
            return BookingResult(
                interview_id=interview.id,
                study_id=study.id,
                starts_at=interview.starts_at,
                ends_at=interview.ends_at,
                ical_uid=interview.ical_uid,
                host_slack_user_id=host.member.slack_user_id,
                participant_email=participant.email,
                participant_name=participant.name,
            )

    def form(self, *, workspace_id: str, channel_id: str, actor: Actor) -> BookingForm:
        """The choices for booking in a channel's study (participants without an upcoming interview)."""
        now = self.clock()
        with self.db.transaction() as session:
            study = study_in_channel(session, workspace_id, channel_id, actor)
            booked = set(
                session.scalars(
                    select(Attendee.participant_id)
                    .join(Interview, Interview.id == Attendee.interview_id)
                    .where(Interview.study_id == study.id, Interview.status == InterviewStatus.UPCOMING,
                           Interview.ends_at > now, Attendee.participant_id.is_not(None))
                )
            )
            people = session.scalars(
                select(Participant).where(Participant.study_id == study.id).order_by(Participant.name)
            )
            return BookingForm(
                study_id=study.id, study_name=study.name, timezone=study.timezone,
                duration_minutes=study.duration_minutes,
                participants=tuple((p.email, p.name) for p in people if p.id not in booked),
                hosts=tuple((h.member.slack_user_id, h.member.display_name or h.member.slack_user_id) for h in study.hosts),
            )

    def seat(
        self, session: Session, study: Study, participant: Participant, host: StudyHost,
        starts_at: datetime, actor: Actor, now: datetime, *, check_availability: bool, notify: bool = True,
    ) -> Interview:
        """Seat a participant at ``starts_at`` with ``host``: the one place bookings are made.

        Call inside a ``write_lock`` transaction after ``study_host`` locked the host, so that
        the checks below still hold when the booking is committed.
        """
        ends_at = starts_at + timedelta(minutes=study.duration_minutes)
        self._refuse_second_booking(session, study, participant, now)
        interview = self._open_group_slot(session, study, host, starts_at)
        if interview is None:
            if check_availability and not availability.within(
                study.availability, study.timezone, starts_at, ends_at
            ):
                raise InvalidInput(
                    "That time is outside the study's availability: "
                    f"{availability.describe(study.availability, study.timezone)}. "
                    "Book it anyway with the availability override."
                )
            self._refuse_host_conflict(session, study, host.member, starts_at, ends_at)
            interview = self._new_interview(study, host, starts_at, ends_at)
            interview.timed_at = now
            if self._on_google(session, host):
                interview.calendar_provider = CalendarProvider.GOOGLE
                if study.conferencing == Conferencing.GOOGLE_MEET:
                    interview.conferencing_url = interview.conferencing_password = None  # Google makes one
            session.add(interview)
        interview.attendees.append(
            Attendee(
                role=AttendeeRole.PARTICIPANT,
                participant=participant,
                email=participant.email,
                display_name=participant.name,
                created_at=now,  # when they joined: reminders due before then were never owed
            )
        )
        participant.status = ParticipantStatus.SCHEDULED
        participant.wants_openings_at = None  # booked: the wish to hear of openings is answered
        session.flush()
        activity.record(
            session, interview, ActivityKind.BOOKED, actor, now,
            participant=participant.name, starts_at=starts_at.isoformat(),
        )
        if notify and self.notifier is not None:
            self.notifier.booked(session, interview, participant, now)
        return interview

    def _on_google(self, session: Session, host: StudyHost) -> bool:
        """The organizer has a working Google Calendar connection (and Google is configured)."""
        calendars = self.calendars
        return calendars is not None and calendars.configured and bool(calendars.connected(session, [host.member_id]))

    def study_host(self, session: Session, study: Study, host_id: str) -> StudyHost:
        # Lock the host's row: concurrent bookings for one host queue here on PostgreSQL, so two
        # of them can't both see the same free time.
        host = session.scalars(
            select(StudyHost)
            .join(TeamMember, TeamMember.id == StudyHost.member_id)
            .where(StudyHost.study_id == study.id, TeamMember.slack_user_id == host_id)
            .with_for_update(of=StudyHost)
        ).one_or_none()
        if host is None:
            raise NotAllowed(f"{host_id} is not a host of {study.name!r}.")
        return host

    def _refuse_second_booking(self, session: Session, study: Study, participant: Participant, now: datetime) -> None:
        booked = upcoming_interview_of(session, participant.id, now)
        if booked is not None:
            raise Conflict(
                f"{participant.name} already has an upcoming interview in this study "
                f"(starting {booked.starts_at:%Y-%m-%d %H:%M} UTC). Reschedule that one instead."
            )

    def _open_group_slot(
        self, session: Session, study: Study, host: StudyHost, starts_at: datetime
    ) -> Interview | None:
        """The host's upcoming interview of this study at exactly this time, if it has a seat."""
        slot = session.scalars(
            select(Interview)
            .where(
                Interview.study_id == study.id,
                Interview.organizer_member_id == host.member_id,
                Interview.starts_at == starts_at,
                Interview.status == InterviewStatus.UPCOMING,
            )
            .with_for_update(key_share=True)
        ).one_or_none()
        if slot is None:
            return None
        seated = sum(1 for a in slot.attendees if a.role is AttendeeRole.PARTICIPANT)
        if seated >= slot.participant_limit:
            raise Conflict("That slot is full. Choose another time.")
        return slot

    def _refuse_host_conflict(
        self, session: Session, study: Study, host: TeamMember, starts_at: datetime, ends_at: datetime
    ) -> None:
        buffer = timedelta(minutes=study.buffer_minutes)
        clashes = overlapping_interviews(session, host.slack_user_id, starts_at - buffer, ends_at + buffer)
        if clashes:
            clash = clashes[0]
            raise Conflict(
                f"{host.slack_user_id} already has an interview from "
                f"{clash.starts_at:%Y-%m-%d %H:%M} to {clash.ends_at:%H:%M} UTC"
                f"{' (plus a ' + str(study.buffer_minutes) + '-minute buffer)' if study.buffer_minutes else ''}."
            )

    @staticmethod
    def _new_interview(study: Study, host: StudyHost, starts_at: datetime, ends_at: datetime) -> Interview:
        member = host.member
        return Interview(
            study=study,
            starts_at=starts_at,
            ends_at=ends_at,
            session_name=study.session_name,
            status=InterviewStatus.UPCOMING,
            conferencing_url=host.conferencing_url,
            conferencing_password=host.conferencing_password,
            participant_limit=study.participant_limit,
            ical_uid=f"{uuid.uuid4()}@interview-desk",
            organizer_member_id=member.id,
            attendees=[
                Attendee(
                    role=AttendeeRole.HOST,
                    slack_user_id=member.slack_user_id,
                    email=member.email,
                    display_name=member.display_name or member.slack_user_id,
                    is_organizer=True,
                )
            ],
        )
