"""Closed vocabularies stored in the database.

Plain ``StrEnum``s (stdlib only), so that services, Block Kit builders and the CLI can share them
without importing SQLAlchemy. Values are stored as strings; renaming a member needs a migration.
"""

from enum import StrEnum


class TeamRole(StrEnum):
    ADMIN = "admin"
    MEMBER = "member"


class StudyStatus(StrEnum):
    ACTIVE = "active"
    CLOSED = "closed"


class ParticipantStatus(StrEnum):
    """Where a participant stands in their study (the reference article's study statuses)."""

    INVITED = "invited"
    SCHEDULED = "scheduled"
    CANCELED_INTERVIEW = "canceled_interview"
    COMPLETED = "completed"
    NO_SHOW = "no_show"
    NOT_QUALIFIED = "not_qualified"


class InterviewStatus(StrEnum):
    UPCOMING = "upcoming"
    COMPLETED = "completed"
    NO_SHOW = "no_show"
    CANCELED = "canceled"


class AttendeeRole(StrEnum):
    HOST = "host"
    GUEST = "guest"
    PARTICIPANT = "participant"


class InviteStatus(StrEnum):
    """How an attendee answered the calendar invite (iCalendar PARTSTAT / Google responseStatus)."""

    AWAITING = "awaiting"
    ACCEPTED = "accepted"
    TENTATIVE = "tentative"
    DECLINED = "declined"


class ActorKind(StrEnum):
    MEMBER = "member"  # a research-team member acting in Slack
    PARTICIPANT = "participant"  # a participant on a web page or through an invite reply
    SYSTEM = "system"  # the scheduler, the CLI, a calendar sync


class ActivityKind(StrEnum):
    BOOKED = "booked"
    RSVP_CHANGED = "rsvp_changed"
    ATTENDANCE_CONFIRMED = "attendance_confirmed"
    DETAILS_UPDATED = "details_updated"
    CONFERENCING_UPDATED = "conferencing_updated"
    HOST_CHANGED = "host_changed"
    GUEST_ADDED = "guest_added"
    LIMIT_CHANGED = "limit_changed"
    RESCHEDULED = "rescheduled"
    CANCELED = "canceled"
    NO_SHOW = "no_show"
    COMPLETED = "completed"
    RATED = "rated"
    EMAIL_SENT = "email_sent"
    REMINDER_SENT = "reminder_sent"
    INCENTIVE_SENT = "incentive_sent"
    OBSERVER_BOT_SENT = "observer_bot_sent"


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # gave up after the last retry; kept with its last error
    DROPPED = "dropped"  # no longer wanted (e.g. a reminder for a canceled interview)


class OutboxKind(StrEnum):
    EMAIL = "email"
    SLACK_POST = "slack_post"
    SLACK_UPDATE = "slack_update"
    CALENDAR = "calendar"
    NOTETAKER = "notetaker"


class CalendarProvider(StrEnum):
    """Where an interview's calendar invitation lives."""

    EMAIL = "email"  # our own iCalendar invites, emailed (the default)
    GOOGLE = "google"  # an event on the organizer's connected Google Calendar; Google invites


class ConnectionStatus(StrEnum):
    ACTIVE = "active"
    NEEDS_RECONNECT = "needs_reconnect"  # Google refused the grant: the host is asked to reconnect


class Conferencing(StrEnum):
    """How a study's interviews are joined (``Study.conferencing``)."""

    LINK = "link"  # each host's own room (a Zoom, Teams or any link)
    GOOGLE_MEET = "google_meet"  # a Meet link Google makes per interview (hosts with Google Calendar)


class CalendarConflicts(StrEnum):
    """What in a connected host's calendar keeps a time from being offered (``Study.calendar_conflict_rule``)."""

    BUSY = "busy"  # events that show the host as busy (Google's free/busy)
    ALL = "all"  # every event, those marked "free" too
    IGNORE = "ignore"  # the calendar is not consulted
