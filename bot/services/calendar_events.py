"""An interview's event on its organizer's Google Calendar: what to write, and what follows.

``CalendarDeliverer`` (bot/jobs) asks ``plan`` what the event should be now, makes the one
Google call outside any transaction, and reports back: ``written`` stores the event id and the
Meet link (and refreshes the card when the link is new), ``grant_refused`` asks the host in Slack
to reconnect (once), and ``gave_up`` tells the channel that the calendar could not be updated.
"""

from dataclasses import dataclass
from typing import Literal

from bot.clock import Clock
from bot.integrations.google_calendar import GoogleCalendar
from bot.integrations.google_values import Attendee as GuestOfEvent
from bot.integrations.google_values import CalendarEvent, EventBody
from bot.services.calendar_access import CalendarAccess
from bot.services.notifications import Notifier
from storage.db import Database
from storage.enums import (
    AttendeeRole,
    CalendarProvider,
    Conferencing,
    ConnectionStatus,
    InterviewStatus,
)
from storage.models import CalendarConnection, Interview

WriteKind = Literal["insert", "update", "delete", "nothing"]


@dataclass(frozen=True)
class CalendarWrite:
    """One write to make, read from the interview as it is now."""

    interview_id: int
    kind: WriteKind
    connection_id: int | None = None
    event_id: str | None = None
    body: EventBody | None = None
    meet: bool = False  # the study uses Google Meet
    waiting_for: str | None = None  # why it cannot be written yet (e.g. the host must reconnect)


class CalendarEventService:
    def __init__(self, db: Database, clock: Clock, calendars: CalendarAccess, notifier: Notifier) -> None:
        self.db = db
        self.clock = clock
        self.calendars = calendars
        self.notifier = notifier

    def plan(self, interview_id: int) -> CalendarWrite:
        with self.db.transaction() as session:
            interview = session.get(Interview, interview_id)
            if interview is None or interview.calendar_provider is not CalendarProvider.GOOGLE:
                return CalendarWrite(interview_id, "nothing")
            connection = self.calendars.connection_of(session, interview.organizer_member_id)
            if interview.status is InterviewStatus.CANCELED:
                kind: WriteKind = "delete" if interview.google_event_id else "nothing"
                return CalendarWrite(interview_id, kind, _id(connection), interview.google_event_id,
                                     waiting_for=_waiting_for(connection, interview))
            return CalendarWrite(
                interview_id, "update" if interview.google_event_id else "insert", _id(connection),
                interview.google_event_id, event_body(interview), meet=interview.study.conferencing == Conferencing.GOOGLE_MEET,
                waiting_for=_waiting_for(connection, interview),
            )

    def calendar(self, write: CalendarWrite) -> GoogleCalendar:
        with self.db.transaction() as session:
            connection = session.get(CalendarConnection, write.connection_id)
            assert connection is not None  # plan() said it was there
            return self.calendars.client(connection)

    def written(self, write: CalendarWrite, event: CalendarEvent | None, calendar: GoogleCalendar) -> None:
        """Keep what Google answered: the event id, a Meet link (the card then shows it), and a
        token google-auth refreshed meanwhile."""
        now = self.clock()
        with self.db.transaction() as session:
            if write.connection_id is not None:
                self.calendars.keep_refreshed(session, write.connection_id, calendar)
            interview = session.get(Interview, write.interview_id, with_for_update={"key_share": True})
            if interview is None or event is None:
                return
            interview.google_event_id = event.id
            if event.i_cal_uid and event.i_cal_uid != interview.ical_uid:
                # Google names the event; our own invites, should the organizer disconnect, then
                # update the copies Google's invitations put in attendees' calendars.
                interview.ical_uid = event.i_cal_uid
            interview.ical_sequence = max(interview.ical_sequence, event.sequence)
            if write.meet and event.meet_url and event.meet_url != interview.conferencing_url:
                interview.conferencing_url, interview.conferencing_password = event.meet_url, None
                self.notifier.card(session, interview, now, f"meet:{event.meet_url}")

    def grant_refused(self, write: CalendarWrite, problem: str) -> None:
        """Google refused the organizer's grant: the write waits, and the host is asked (once) to
        reconnect; reconnecting sends what waited (``CalendarAccess``)."""
        with self.db.transaction() as session:
            if write.connection_id is not None:
                self.calendars.refused(session, write.connection_id, problem, self.clock())

    def gave_up(self, write: CalendarWrite, error: str) -> None:
        """The event could not be written for good: the interview's thread hears it."""
        now = self.clock()
        with self.db.transaction() as session:
            interview = session.get(Interview, write.interview_id)
            if interview is not None:
                self.notifier.card(session, interview, now, f"calendar_failed:{self.clock().timestamp():.0f}",
                                   note={"kind": "calendar_failed", "error": error})


def event_body(interview: Interview) -> EventBody:
    """The event as Google should show it: the organizer's calendar holds it, so everyone else
    on the interview is an attendee (Google invites them)."""
    study = interview.study
    people = [a for a in interview.attendees if a.email and not a.is_organizer]
    seats = [a for a in interview.attendees if a.role is AttendeeRole.PARTICIPANT]
    names = ", ".join(a.display_name or a.email or "" for a in seats)
    lines = [interview.description or "", f"Study: {study.name}"]
    if interview.conferencing_url and study.conferencing != Conferencing.GOOGLE_MEET:
        lines.append(f"Join: {interview.conferencing_url}")
    if interview.conferencing_password:
        lines.append(f"Password: {interview.conferencing_password}")
    return EventBody(
        summary=f"{interview.session_name} with {names}" if names else interview.session_name,
        start=interview.starts_at, end=interview.ends_at,
        description="\n".join(line for line in lines if line),
        attendees=tuple(GuestOfEvent(a.email or "", a.display_name, optional=a.role is AttendeeRole.GUEST) for a in people),
        location=interview.conferencing_url or "" if study.conferencing != Conferencing.GOOGLE_MEET else "",
        # No iCalUID: Google takes an event id or an iCalUID at creation, not both, and the id
        # (fixed per interview) is what makes a retried insert find its event.
        interview_id=interview.id, time_zone=study.timezone,
    )


def _id(connection: CalendarConnection | None) -> int | None:
    return connection.id if connection is not None else None


def _waiting_for(connection: CalendarConnection | None, interview: Interview) -> str | None:
    if connection is None:
        return "the organizer's Google Calendar is no longer connected"
    if connection.status is ConnectionStatus.NEEDS_RECONNECT:
        return "the organizer must reconnect Google Calendar (/interviews connect)"
    return None


