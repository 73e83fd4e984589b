"""The App Home tab: a Slack user's own upcoming interviews, as host or guest, across studies."""


from sqlalchemy import select
from sqlalchemy.orm import selectinload

from bot.clock import Clock
from bot.domain import HomeInterview, HomePage
from bot.services.interviews import study_ref, summary
from storage.db import Database
from storage.enums import AttendeeRole, InterviewStatus
from storage.models import Attendee, Interview, Study, TeamMember
from storage.queries import MAX_INTERVIEW_LENGTH

HOME_LIMIT = 20  # two blocks each keeps the tab far below Slack's 100






class HomeService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def upcoming_for(self, workspace_id: str, slack_user_id: str, *, limit: int = HOME_LIMIT) -> HomePage:
        """Interviews the user hosts or is a guest at in this workspace, soonest first.

        Only what they attend is shown; actions only where they are on the study's team
        (a guest from elsewhere sees the interview and can join the meeting).
        """
        if not (workspace_id and slack_user_id):
            return HomePage((), False, limit)
        now = self.clock()
        with self.db.transaction() as session:
            rows = session.execute(
                select(Interview, Attendee.role)
                .join(Attendee, Attendee.interview_id == Interview.id)
                .join(Study, Study.id == Interview.study_id)
                .where(
                    Attendee.slack_user_id == slack_user_id,
                    Attendee.role.in_([AttendeeRole.HOST, AttendeeRole.GUEST]),
                    Study.slack_workspace_id == workspace_id,
                    Interview.status == InterviewStatus.UPCOMING,
                    Interview.ends_at > now,
                    # Implied by ends_at; bounds the scan as the study lists do.
                    Interview.starts_at > now - MAX_INTERVIEW_LENGTH,
                )
                .order_by(Interview.starts_at, Interview.id)
                .limit(limit + 1)
                .options(selectinload(Interview.attendees), selectinload(Interview.study))
            ).all()
            teams = set(session.scalars(select(TeamMember.team_id).where(TeamMember.slack_user_id == slack_user_id)))
            items = tuple(
                HomeInterview(study_ref(interview.study), summary(interview, now), role, interview.study.team_id in teams)
                for interview, role in rows[:limit]
            )
            return HomePage(items, len(rows) > limit, limit)
