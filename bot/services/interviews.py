"""Reading interviews: the Upcoming/Past lists and the details view with its timeline."""

from datetime import datetime

from bot.clock import Clock
from bot.domain import (
    ActivityPage,
    ActivityView,
    Actor,
    AttendeeView,
    InterviewDetails,
    InterviewPage,
    InterviewSummary,
    ListKey,
    ListTab,
    StudyFeatures,
    StudyRef,
)
from bot.services.access import require_team_member
from bot.services.errors import InvalidInput, NotFound
from bot.services.studies import NoStudyHere, study_in_channel  # noqa: F401 (NoStudyHere re-exported)
from storage import queries
from storage.db import Database
from storage.models import ActivityEvent, Attendee, Interview, Study

PAGE_SIZE = 10
TIMELINE_PAGE_SIZE = 10
COUNT_CAP = 1000  # a tab with more shows "1000+": counting further costs more than it tells


def study_ref(study: Study) -> StudyRef:
    return StudyRef(study.id, study.name, study.timezone, study.slack_channel_id)


def attendee_view(a: Attendee) -> AttendeeView:
    return AttendeeView(
        name=a.display_name,
        role=a.role,
        invite_status=a.invite_status,
        attendance_confirmed=a.attendance_confirmed_at is not None,
        attended=a.attended,
        is_organizer=a.is_organizer,
        slack_user_id=a.slack_user_id,
        email=a.email,
        incentive_sent=a.incentive_sent_at is not None,
        participant_id=a.participant_id,
    )


def features(study: Study) -> StudyFeatures:
    return StudyFeatures(
        observer_url=study.observer_url,
        has_notetaker=bool(study.notetaker_url),
        has_screener=bool(study.screener),
        has_incentive=study.incentive_amount is not None,
    )


def summary(interview: Interview, now: datetime) -> InterviewSummary:
    return InterviewSummary(
        id=interview.id,
        starts_at=interview.starts_at,
        ends_at=interview.ends_at,
        session_name=interview.session_name,
        status=interview.status,
        conferencing_url=interview.conferencing_url,
        attendees=tuple(attendee_view(a) for a in interview.attendees),
        has_ended=interview.ends_at <= now,
        has_started=interview.starts_at <= now,
        participant_limit=interview.participant_limit,
        features=features(interview.study),
    )


def activity_view(e: ActivityEvent) -> ActivityView:
    return ActivityView(
        kind=e.kind,
        actor_kind=e.actor_kind,
        actor_slack_user_id=e.actor_slack_user_id,
        actor_name=e.actor_name,
        occurred_at=e.occurred_at,
        details=dict(e.details or {}),
    )


class InterviewService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def list_page(
        self,
        *,
        actor: Actor,
        tab: ListTab,
        workspace_id: str | None = None,
        channel_id: str | None = None,
        study_id: int | None = None,
        key: ListKey | None = None,
        direction: queries.Direction = "after",
        offset: int = 0,
    ) -> InterviewPage:
        """One page of a study's interviews, found by its channel (Slack) or its id (CLI)."""
        now = self.clock()
        with self.db.transaction() as session:
            if study_id is not None:
                study = session.get(Study, study_id)
                if study is None:
                    raise NotFound(f"There is no study with ID {study_id}.")
                require_team_member(session, study, actor)
            elif workspace_id and channel_id:
                study = study_in_channel(session, workspace_id, channel_id, actor)
            else:
                raise InvalidInput("Say which study: its channel or its ID.")
            past = tab is ListTab.PAST
            rows, more = queries.interview_page(
                session, study.id, past=past, now=now, limit=PAGE_SIZE, key=key, direction=direction
            )
            if direction == "before" and more:
                # ``offset`` is the position of the page we came from; this page ends before it.
                offset = max(0, offset - len(rows))
                has_previous, has_next = offset > 0, True
            else:
                if direction == "before":
                    # Back at the start: show a full first page even if rows moved meanwhile.
                    rows, more = queries.interview_page(
                        session, study.id, past=past, now=now, limit=PAGE_SIZE
                    )
                    offset = 0
                has_previous, has_next = offset > 0, more
            upcoming_count, past_count = queries.tab_counts(session, study.id, now=now, cap=COUNT_CAP)
            return InterviewPage(
                study=study_ref(study),
                tab=tab,
                items=tuple(summary(i, now) for i in rows),
                offset=offset,
                upcoming_count=upcoming_count,
                past_count=past_count,
                count_cap=COUNT_CAP,
                has_previous=has_previous,
                has_next=has_next,
            )

    def details(self, interview_id: int, actor: Actor, *, activity_offset: int = 0) -> InterviewDetails:
        now = self.clock()
        with self.db.transaction() as session:
            interview = queries.interview_with_attendees(session, interview_id)
            if interview is None:
                raise NotFound("That interview no longer exists.")
            require_team_member(session, interview.study, actor)
            offset = max(0, activity_offset)
            events, total = queries.activity_page(
                session, interview.id, offset=offset, limit=TIMELINE_PAGE_SIZE
            )
            return InterviewDetails(
                summary=summary(interview, now),
                study=study_ref(interview.study),
                conferencing_password=interview.conferencing_password,
                description=interview.description,
                participant_limit=interview.participant_limit,
                rating=interview.rating,
                outcome_note=interview.outcome_note,
                activity=ActivityPage(tuple(activity_view(e) for e in events), offset, total),
            )
