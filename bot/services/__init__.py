"""Domain services: everything Interview Desk does, independent of Slack and of the web.

Listeners and the CLI call these; they never see a Slack payload and never return a model
object, only the plain types of ``bot.domain``.
"""

from dataclasses import dataclass

from bot.clock import Clock, system_clock
from bot.services.announcements import AnnouncementService
from bot.services.attendance import AttendanceService
from bot.services.attendee_changes import AttendeeChangeService
from bot.services.booking import BookingService
from bot.services.calendar_access import CalendarAccess, GoogleSetup
from bot.services.calendar_busy import BusyTimes
from bot.services.calendar_connect import CalendarConnectService
from bot.services.composed_emails import ComposedEmailService
from bot.services.home import HomeService
from bot.services.incentive_emails import IncentiveEmailService
from bot.services.interview_changes import InterviewChangeService
from bot.services.interview_outcomes import InterviewOutcomeService
from bot.services.interviews import InterviewService
from bot.services.invitations import InvitationService
from bot.services.lifecycle import LifecycleService
from bot.services.notifications import Mailer, Notifier
from bot.services.observers import ObserverService
from bot.services.participants import ParticipantService
from bot.services.portal import ParticipantPortal
from bot.services.profiles import ProfileService
from bot.services.reminders import ReminderService
from bot.services.screener import ScreenerService
from bot.services.studies import StudyService
from bot.services.teams import TeamService
from bot.services.waitlist import WaitlistService
from storage.db import Database


@dataclass(frozen=True)
class Services:
    db: Database
    clock: Clock
    teams: TeamService
    studies: StudyService
    participants: ParticipantService
    booking: BookingService
    interviews: InterviewService
    portal: ParticipantPortal
    invitations: InvitationService
    announcements: AnnouncementService
    profiles: ProfileService
    screener: ScreenerService
    # The interview actions taken from Slack
    changes: InterviewChangeService
    attendee_changes: AttendeeChangeService
    outcomes: InterviewOutcomeService
    composed_emails: ComposedEmailService
    incentive_emails: IncentiveEmailService
    observers: ObserverService
    home: HomeService
    waitlist: WaitlistService
    attendance: AttendanceService
    reminders: ReminderService
    lifecycle: LifecycleService
    # Google Calendar: hosts' connections
    calendars: CalendarAccess
    calendar_connect: CalendarConnectService
    busy_times: BusyTimes

    mailer: Mailer

    @classmethod
    def build(
        cls, db: Database, mailer: Mailer, clock: Clock = system_clock, *, google: GoogleSetup | None = None,
    ) -> "Services":
        notifier = Notifier(mailer)
        calendars = CalendarAccess(db, clock, google)
        booking = BookingService(db, clock, notifier, calendars)
        return cls(
            db=db,
            clock=clock,
            mailer=mailer,
            teams=TeamService(db),
            studies=StudyService(db),
            participants=ParticipantService(db, mailer.links),
            booking=booking,
            interviews=InterviewService(db, clock),
            portal=ParticipantPortal(db, clock, booking, mailer),
            invitations=InvitationService(db, clock, mailer),
            announcements=AnnouncementService(db, clock),
            profiles=ProfileService(db),
            screener=ScreenerService(db),
            changes=InterviewChangeService(db, clock, notifier, mailer),
            attendee_changes=AttendeeChangeService(db, clock, notifier, mailer),
            outcomes=InterviewOutcomeService(db, clock, notifier, mailer),
            composed_emails=ComposedEmailService(db, clock, notifier, mailer),
            incentive_emails=IncentiveEmailService(db, clock, notifier, mailer),
            observers=ObserverService(db, clock),
            home=HomeService(db, clock),
            waitlist=WaitlistService(db, clock, mailer),
            attendance=AttendanceService(db, clock, notifier, mailer),
            reminders=ReminderService(db, clock, notifier, mailer),
            lifecycle=LifecycleService(db, clock, notifier),
            calendars=calendars,
            calendar_connect=CalendarConnectService(db, clock, calendars, mailer.links.secret_key),
            busy_times=BusyTimes(db, clock, calendars),
        )
