"""SQLAlchemy 2 typed models: the whole data model of Interview Desk.

Conventions (the base and column types in ``storage.base``): integer surrogate keys; every
datetime is timezone-aware UTC; enumerations are stored as their string values
(``storage.enums``); JSON columns hold small, schema-validated documents (availability windows,
screener, details of an activity event). Indexes are named after the query they serve.
"""

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.base import Base, Json, Timestamped, stored_enum, utcnow
from storage.enums import (
    ActivityKind,
    ActorKind,
    AttendeeRole,
    CalendarProvider,
    ConnectionStatus,
    InterviewStatus,
    InviteStatus,
    OutboxKind,
    OutboxStatus,
    ParticipantStatus,
    StudyStatus,
    TeamRole,
)


class ResearchTeam(Timestamped, Base):
    """A research team inside one Slack workspace (Slack calls a workspace a "team": T…)."""

    __tablename__ = "research_teams"
    __table_args__ = (UniqueConstraint("slack_workspace_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slack_workspace_id: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))

    members: Mapped[list["TeamMember"]] = relationship(
        back_populates="team", order_by="TeamMember.id", cascade="all, delete-orphan"
    )
    studies: Mapped[list["Study"]] = relationship(back_populates="team")


class TeamMember(Timestamped, Base):
    __tablename__ = "team_members"
    __table_args__ = (
        UniqueConstraint("team_id", "slack_user_id"),
        Index("ix_team_members_slack_user_id", "slack_user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("research_teams.id", ondelete="CASCADE"))
    slack_user_id: Mapped[str] = mapped_column(String(32))
    display_name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    role: Mapped[TeamRole] = mapped_column(stored_enum(TeamRole), default=TeamRole.MEMBER)
    can_host: Mapped[bool] = mapped_column(Boolean, default=True)

    team: Mapped[ResearchTeam] = relationship(back_populates="members")


class Study(Timestamped, Base):
    """A study, bound to one Slack channel, with its scheduling settings."""

    __tablename__ = "studies"
    __table_args__ = (
        # One study per channel: `/interviews` finds the study by the channel it is typed in.
        UniqueConstraint("slack_workspace_id", "slack_channel_id"),
        Index("ix_studies_team_id", "team_id"),
        # The lifecycle tick re-reads only the schedules that changed.
        Index("ix_studies_updated_at", "updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("research_teams.id"))
    slack_workspace_id: Mapped[str] = mapped_column(String(32))
    slack_channel_id: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[StudyStatus] = mapped_column(stored_enum(StudyStatus), default=StudyStatus.ACTIVE)

    # Scheduling
    session_name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64))
    duration_minutes: Mapped[int] = mapped_column(Integer)
    participant_limit: Mapped[int] = mapped_column(Integer, default=1)
    buffer_minutes: Mapped[int] = mapped_column(Integer, default=0)
    min_notice_minutes: Mapped[int] = mapped_column(Integer, default=24 * 60)
    horizon_days: Mapped[int] = mapped_column(Integer, default=30)
    # [{"weekday": 0-6 (Monday=0), "start": "09:00", "end": "17:00"}] in the study's time zone
    availability: Mapped[list[dict[str, Any]]] = mapped_column(Json, default=list)
    participants_can_reschedule: Mapped[bool] = mapped_column(Boolean, default=True)
    participant_change_cutoff_hours: Mapped[int] = mapped_column(Integer, default=24)

    # Conferencing and calendars
    conferencing: Mapped[str] = mapped_column(String(32), default="link")  # link | google_meet
    calendar_conflict_rule: Mapped[str] = mapped_column(String(32), default="busy")
    observer_url: Mapped[str | None] = mapped_column(String(2000))
    notetaker_url: Mapped[str | None] = mapped_column(String(2000))

    # Screener (Immediate Scheduling)
    immediate_scheduling: Mapped[bool] = mapped_column(Boolean, default=False)
    # [{"id": "q1", "question": "...", "choices": [...], "qualifying": [...]}]
    screener: Mapped[list[dict[str, Any]]] = mapped_column(Json, default=list)

    # Lifecycle
    reminder_offsets_minutes: Mapped[list[int]] = mapped_column(Json, default=lambda: [1440, 60])
    completion_grace_minutes: Mapped[int] = mapped_column(Integer, default=30)
    unconfirmed_warning_hours: Mapped[int | None] = mapped_column(Integer)
    incentive_amount: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    incentive_currency: Mapped[str | None] = mapped_column(String(3))

    team: Mapped[ResearchTeam] = relationship(back_populates="studies")
    hosts: Mapped[list["StudyHost"]] = relationship(
        back_populates="study", order_by="StudyHost.id", cascade="all, delete-orphan"
    )


class StudyHost(Base):
    """A team member who hosts a study's interviews, with their own conferencing room."""

    __tablename__ = "study_hosts"
    __table_args__ = (UniqueConstraint("study_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("team_members.id", ondelete="CASCADE"))
    conferencing_url: Mapped[str | None] = mapped_column(String(2000))
    conferencing_password: Mapped[str | None] = mapped_column(String(200))

    study: Mapped[Study] = relationship(back_populates="hosts")
    member: Mapped[TeamMember] = relationship()


class Participant(Timestamped, Base):
    __tablename__ = "participants"
    __table_args__ = (
        # Emails are stored lower-cased, so this also stops "Nora@X" next to "nora@x".
        UniqueConstraint("study_id", "email"),
        Index("ix_participants_study_id_status", "study_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    status: Mapped[ParticipantStatus] = mapped_column(
        stored_enum(ParticipantStatus), default=ParticipantStatus.INVITED
    )
    screener_answers: Mapped[dict[str, Any] | None] = mapped_column(Json)
    # The personal scheduling token is derived from SECRET_KEY and this nonce, and only its
    # SHA-256 is stored: the link can be shown again, but not read from the database.
    # A new nonce revokes the old link.
    scheduling_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    token_nonce: Mapped[str | None] = mapped_column(String(32))
    # The zone the participant chose on the scheduling page, for the times in their emails.
    timezone: Mapped[str | None] = mapped_column(String(64))
    invited_at: Mapped[datetime | None] = mapped_column()
    # Asked, on a full booking page, to be told when a time opens (the waitlist).
    wants_openings_at: Mapped[datetime | None] = mapped_column()

    study: Mapped[Study] = relationship()


class Interview(Timestamped, Base):
    __tablename__ = "interviews"
    __table_args__ = (
        # The Upcoming list, and the Past list's canceled/completed-early part.
        Index("ix_interviews_study_status_start", "study_id", "status", "starts_at", "id"),
        # The Past list's part that has ended.
        Index("ix_interviews_study_start", "study_id", "starts_at", "id"),
        # The lifecycle jobs: interviews that have ended but are still upcoming.
        Index("ix_interviews_status_ends_at", "status", "ends_at"),
        # The lifecycle tick: reminders and warnings by start, the next-day prompt by outcome time.
        Index("ix_interviews_status_starts_at", "status", "starts_at"),
        Index("ix_interviews_status_outcome_at", "status", "outcome_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime] = mapped_column()
    ends_at: Mapped[datetime] = mapped_column()
    session_name: Mapped[str] = mapped_column(String(200))
    status: Mapped[InterviewStatus] = mapped_column(
        stored_enum(InterviewStatus), default=InterviewStatus.UPCOMING
    )
    conferencing_url: Mapped[str | None] = mapped_column(String(2000))
    conferencing_password: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    participant_limit: Mapped[int] = mapped_column(Integer, default=1)
    rating: Mapped[int | None] = mapped_column(Integer)
    outcome_note: Mapped[str | None] = mapped_column(Text)  # e.g. the cancellation reason
    outcome_at: Mapped[datetime | None] = mapped_column()
    # The team asked the participant to pick a new time: until the interview moves or starts,
    # they may, whatever the study's self-service rules say.
    reschedule_requested_at: Mapped[datetime | None] = mapped_column()
    # When the interview got its current time (booked or last moved): reminders due before
    # then were never owed, so a late booking gets only the reminders still ahead.
    timed_at: Mapped[datetime | None] = mapped_column()

    # The calendar identity: UID never changes, SEQUENCE goes up on every change (RFC 5546).
    ical_uid: Mapped[str] = mapped_column(String(255), unique=True)
    ical_sequence: Mapped[int] = mapped_column(Integer, default=0)
    organizer_member_id: Mapped[int | None] = mapped_column(ForeignKey("team_members.id"))
    google_event_id: Mapped[str | None] = mapped_column(String(1024))
    # Chosen at booking: an organizer with a connected Google Calendar gets the event there and
    # Google sends the invitations; otherwise we email our own iCalendar invites.
    calendar_provider: Mapped[CalendarProvider] = mapped_column(
        stored_enum(CalendarProvider), default=CalendarProvider.EMAIL, server_default=CalendarProvider.EMAIL.value
    )

    # The interview's card in the study channel, edited in place.
    slack_card_channel_id: Mapped[str | None] = mapped_column(String(32))
    slack_card_ts: Mapped[str | None] = mapped_column(String(32))

    # Optimistic concurrency: an action taken on a stale view is detected, not applied.
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version}

    study: Mapped[Study] = relationship()
    organizer: Mapped[TeamMember | None] = relationship()
    attendees: Mapped[list["Attendee"]] = relationship(
        back_populates="interview", order_by="Attendee.id", cascade="all, delete-orphan"
    )


class Attendee(Timestamped, Base):
    __tablename__ = "attendees"
    __table_args__ = (
        UniqueConstraint("interview_id", "participant_id"),
        UniqueConstraint("interview_id", "slack_user_id"),
        UniqueConstraint("interview_id", "email"),
        Index("ix_attendees_participant_id", "participant_id"),
        # A Slack user's interviews: the Home tab, and a host's busy times.
        Index("ix_attendees_slack_user_id", "slack_user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    interview_id: Mapped[int] = mapped_column(ForeignKey("interviews.id", ondelete="CASCADE"))
    role: Mapped[AttendeeRole] = mapped_column(stored_enum(AttendeeRole))
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE")
    )
    slack_user_id: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(320))
    display_name: Mapped[str] = mapped_column(String(200))
    is_organizer: Mapped[bool] = mapped_column(Boolean, default=False)
    invite_status: Mapped[InviteStatus] = mapped_column(
        stored_enum(InviteStatus), default=InviteStatus.AWAITING
    )
    attendance_confirmed_at: Mapped[datetime | None] = mapped_column()
    # Set after the interview: True attended, False no-show, None not recorded.
    attended: Mapped[bool | None] = mapped_column(Boolean)
    # The participant's incentive for this interview: when it was sent, and what it was
    # ({"amount": "25.00", "currency": "EUR", "code": ..., "claim_url": ...}).
    incentive_sent_at: Mapped[datetime | None] = mapped_column()
    incentive: Mapped[dict[str, Any] | None] = mapped_column(Json)

    interview: Mapped[Interview] = relationship(back_populates="attendees")
    participant: Mapped[Participant | None] = relationship()


class CalendarConnection(Timestamped, Base):
    """A host's connected Google Calendar: the OAuth grant (tokens sealed with a key derived from
    SECRET_KEY), the push channel Google tells us of changes through, and where incremental sync
    stands."""

    __tablename__ = "calendar_connections"
    __table_args__ = (
        # The sync job: channels to renew before they expire, calendars to poll.
        Index("ix_calendar_connections_status_channel_expires_at", "status", "channel_expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(
        ForeignKey("team_members.id", ondelete="CASCADE"), unique=True
    )
    status: Mapped[ConnectionStatus] = mapped_column(
        stored_enum(ConnectionStatus), default=ConnectionStatus.ACTIVE
    )
    calendar_id: Mapped[str] = mapped_column(String(255), default="primary")
    scopes: Mapped[str] = mapped_column(String(1000), default="")
    access_token: Mapped[str] = mapped_column(Text)  # sealed
    refresh_token: Mapped[str] = mapped_column(Text)  # sealed
    access_expires_at: Mapped[datetime | None] = mapped_column()
    # Why Google refused us last, shown to the host when they are asked to reconnect.
    problem: Mapped[str | None] = mapped_column(String(500))
    # The push channel (events.watch): its id, Google's resource id, the SHA-256 of the token
    # each notification must carry, and when Google stops sending.
    channel_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    channel_resource_id: Mapped[str | None] = mapped_column(String(255))
    channel_token_hash: Mapped[str | None] = mapped_column(String(64))
    channel_expires_at: Mapped[datetime | None] = mapped_column()
    sync_token: Mapped[str | None] = mapped_column(Text)
    synced_at: Mapped[datetime | None] = mapped_column()
    busy_checked_at: Mapped[datetime | None] = mapped_column()

    member: Mapped[TeamMember] = relationship()


class CalendarBusy(Base):
    """A busy block of a connected calendar (freebusy.query), kept so that availability is
    computed from the database, never by calling Google inside a booking's transaction."""

    __tablename__ = "calendar_busy"
    __table_args__ = (Index("ix_calendar_busy_connection_start", "connection_id", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(
        ForeignKey("calendar_connections.id", ondelete="CASCADE")
    )
    starts_at: Mapped[datetime] = mapped_column()
    ends_at: Mapped[datetime] = mapped_column()
    # An event the host marked "free": it blocks a time only for studies that respect every event.
    transparent: Mapped[bool] = mapped_column(Boolean, default=False)


class ActivityEvent(Base):
    """One line of an interview's activity timeline."""

    __tablename__ = "activity_events"
    __table_args__ = (
        Index("ix_activity_events_interview_time", "interview_id", "occurred_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    interview_id: Mapped[int] = mapped_column(ForeignKey("interviews.id", ondelete="CASCADE"))
    kind: Mapped[ActivityKind] = mapped_column(stored_enum(ActivityKind))
    actor_kind: Mapped[ActorKind] = mapped_column(stored_enum(ActorKind))
    actor_slack_user_id: Mapped[str | None] = mapped_column(String(32))
    actor_name: Mapped[str | None] = mapped_column(String(200))
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    details: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)

    interview: Mapped[Interview] = relationship()


class OutboxItem(Base):
    """A side effect (email, Slack post, calendar write, ...) waiting to happen exactly once.

    Written in the same transaction as the change that causes it; delivered by whichever
    server claims it first; retried with backoff until it succeeds or gives up.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "status", "available_at"),
        Index("ix_outbox_ordering", "ordering_key", "status", "id"),
        Index("ix_outbox_interview_id", "interview_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(255), unique=True)
    kind: Mapped[OutboxKind] = mapped_column(stored_enum(OutboxKind))
    # Items with the same ordering key (e.g. one Slack channel) are delivered in id order.
    ordering_key: Mapped[str | None] = mapped_column(String(255))
    payload: Mapped[dict[str, Any]] = mapped_column(Json)
    interview_id: Mapped[int | None] = mapped_column(
        ForeignKey("interviews.id", ondelete="SET NULL")
    )
    status: Mapped[OutboxStatus] = mapped_column(stored_enum(OutboxStatus), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    available_at: Mapped[datetime] = mapped_column(default=utcnow)  # due time or next retry
    locked_by: Mapped[str | None] = mapped_column(String(255))
    locked_until: Mapped[datetime | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column()
