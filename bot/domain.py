"""Plain data types passed from the services to the Block Kit builders and the CLI.

Frozen dataclasses and enums only: no database sessions, no Slack payloads. ``blocks`` may import
this module; it imports nothing of ours but the stored vocabularies.
"""

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from storage.enums import (
    ActivityKind,
    ActorKind,
    AttendeeRole,
    InterviewStatus,
    InviteStatus,
    OutboxKind,
    OutboxStatus,
    ParticipantStatus,
)


class ListTab(StrEnum):
    UPCOMING = "upcoming"
    PAST = "past"


@dataclass(frozen=True)
class Actor:
    """Who asks for something: a Slack user in a workspace, a participant, or the system."""

    kind: ActorKind
    slack_user_id: str | None = None
    slack_workspace_id: str | None = None
    name: str | None = None

    @classmethod
    def slack_user(cls, workspace_id: str, user_id: str) -> "Actor":
        return cls(ActorKind.MEMBER, slack_user_id=user_id, slack_workspace_id=workspace_id)

    @classmethod
    def system(cls, name: str) -> "Actor":
        return cls(ActorKind.SYSTEM, name=name)


# The name of the system actor for changes made in Google Calendar (named as such in notes).
GOOGLE_CALENDAR = "Google Calendar"


@dataclass(frozen=True)
class StudyRef:
    id: int
    name: str
    timezone: str
    slack_channel_id: str


@dataclass(frozen=True)
class AttendeeView:
    name: str
    role: AttendeeRole
    invite_status: InviteStatus
    attendance_confirmed: bool
    attended: bool | None
    is_organizer: bool
    slack_user_id: str | None
    email: str | None
    incentive_sent: bool = False
    participant_id: int | None = None


@dataclass(frozen=True)
class StudyFeatures:
    """What a study is set up for, which decides the actions its interviews offer."""

    observer_url: str | None = None
    has_notetaker: bool = False
    has_screener: bool = False
    has_incentive: bool = False


@dataclass(frozen=True)
class InterviewSummary:
    id: int
    starts_at: datetime
    ends_at: datetime
    session_name: str
    status: InterviewStatus
    conferencing_url: str | None
    attendees: tuple[AttendeeView, ...]
    has_ended: bool  # the end time has passed (the status may still say upcoming)
    has_started: bool = False
    participant_limit: int = 1
    features: StudyFeatures = StudyFeatures()

    @property
    def duration_minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)

    @property
    def participants(self) -> tuple[AttendeeView, ...]:
        return tuple(a for a in self.attendees if a.role is AttendeeRole.PARTICIPANT)

    @property
    def hosts(self) -> tuple[AttendeeView, ...]:
        return tuple(a for a in self.attendees if a.role is AttendeeRole.HOST)

    @property
    def guests(self) -> tuple[AttendeeView, ...]:
        return tuple(a for a in self.attendees if a.role is AttendeeRole.GUEST)


    @property
    def is_group(self) -> bool:
        return self.participant_limit > 1

    @property
    def meeting_is_joinable(self) -> bool:
        return self.conferencing_url is not None and self.status is InterviewStatus.UPCOMING and not self.has_ended

    @property
    def awaiting_outcome(self) -> bool:
        return self.status is InterviewStatus.UPCOMING and self.has_ended

    @property
    def incentive_due(self) -> bool:
        return (
            self.features.has_incentive
            and self.status is InterviewStatus.COMPLETED
            and any(not p.incentive_sent for p in self.participants)
        )


# Position in a keyset-paginated list: (start as Unix seconds, interview id).
ListKey = tuple[int, int]


@dataclass(frozen=True)
class InterviewPage:
    study: StudyRef
    tab: ListTab
    items: tuple[InterviewSummary, ...]
    offset: int  # how many rows come before this page
    upcoming_count: int
    past_count: int
    count_cap: int  # counts are exact below this, "at least" at it
    has_previous: bool
    has_next: bool

    @property
    def first_key(self) -> ListKey | None:
        return _key(self.items[0]) if self.items else None

    @property
    def last_key(self) -> ListKey | None:
        return _key(self.items[-1]) if self.items else None

    @property
    def total(self) -> int:
        return self.upcoming_count if self.tab is ListTab.UPCOMING else self.past_count


def _key(item: InterviewSummary) -> ListKey:
    return (int(item.starts_at.timestamp()), item.id)


@dataclass(frozen=True)
class ActivityView:
    kind: ActivityKind
    actor_kind: ActorKind
    actor_slack_user_id: str | None
    actor_name: str | None
    occurred_at: datetime
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ActivityPage:
    items: tuple[ActivityView, ...]
    offset: int
    total: int

    @property
    def has_older(self) -> bool:
        return self.offset + len(self.items) < self.total

    @property
    def has_newer(self) -> bool:
        return self.offset > 0


@dataclass(frozen=True)
class InterviewDetails:
    summary: InterviewSummary
    study: StudyRef
    conferencing_password: str | None
    description: str | None
    participant_limit: int
    rating: int | None
    outcome_note: str | None
    activity: ActivityPage


@dataclass(frozen=True)
class TeamInfo:
    id: int
    name: str
    slack_workspace_id: str
    member_slack_user_ids: tuple[str, ...]


@dataclass(frozen=True)
class StudyInfo:
    id: int
    name: str
    team_id: int
    slack_workspace_id: str
    slack_channel_id: str
    timezone: str
    duration_minutes: int
    session_name: str
    host_slack_user_ids: tuple[str, ...]


@dataclass(frozen=True)
class ParticipantInfo:
    id: int
    study_id: int
    name: str
    email: str
    status: ParticipantStatus


@dataclass(frozen=True)
class BookingResult:
    interview_id: int
    study_id: int
    starts_at: datetime
    ends_at: datetime
    ical_uid: str
    host_slack_user_id: str
    participant_email: str
    participant_name: str


@dataclass(frozen=True)
class BookingForm:
    """What the manual-booking modal offers: the study's participants and hosts."""

    study_id: int
    study_name: str
    timezone: str
    duration_minutes: int
    participants: tuple[tuple[str, str], ...]  # (email, name), not yet booked
    hosts: tuple[tuple[str, str], ...]  # (Slack user id, name)


@dataclass(frozen=True)
class MemberProfile:
    """What Slack says about a team member: their name, and where calendar invites go."""

    name: str | None
    email: str | None


@dataclass(frozen=True)
class SideEffectState:
    """Where one queued side effect stands, for telling the person who caused it."""

    id: int
    kind: OutboxKind
    status: OutboxStatus
    last_error: str | None
    recipients: tuple[str, ...]  # an email's To by name (else address), for "sent to Nora"


@dataclass(frozen=True)
class ScreenerAnswer:
    question_id: str
    question: str  # the question's text when it was answered
    answer: str


@dataclass(frozen=True)
class ScreenerResponses:
    participant_id: int
    name: str
    email: str
    status: ParticipantStatus
    qualified: bool | None  # None until they answer
    answers: tuple[ScreenerAnswer, ...]  # in the order asked


@dataclass(frozen=True)
class InterviewScreener:
    """Every participant's screener answers for one interview."""

    interview_id: int
    study_name: str
    session_name: str
    starts_at: datetime
    participants: tuple[ScreenerResponses, ...]


@dataclass(frozen=True)
class HomeInterview:
    """One interview on a user's Home tab."""

    study: StudyRef
    summary: InterviewSummary
    role: AttendeeRole  # the user's own: host or guest
    can_act: bool  # they are on the study's research team, so they may act on it


@dataclass(frozen=True)
class HomePage:
    items: tuple[HomeInterview, ...]
    has_more: bool
    limit: int
