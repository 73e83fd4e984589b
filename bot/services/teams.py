"""Research teams and their members."""

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.domain import TeamInfo
from bot.services import validation
from bot.services.errors import Conflict, InvalidInput
from bot.services.lookup import find_one
from storage.db import Database
from storage.enums import TeamRole
from storage.models import ResearchTeam, TeamMember


def team_info(team: ResearchTeam) -> TeamInfo:
    return TeamInfo(
        id=team.id,
        name=team.name,
        slack_workspace_id=team.slack_workspace_id,
        member_slack_user_ids=tuple(m.slack_user_id for m in team.members),
    )


def find_team(session: Session, ref: str | int) -> ResearchTeam:
    """A team by ID, or by its name (unique within a workspace; refused where ambiguous)."""
    return find_one(session, ResearchTeam, ref, what="team", matches=ResearchTeam.name == str(ref))


class TeamService:
    def __init__(self, db: Database) -> None:
        self.db = db

    def create(self, name: str, workspace_id: str, member_ids: list[str]) -> TeamInfo:
        name = validation.name(name, what="Team name")
        workspace_id = validation.slack_workspace_id(workspace_id)
        members = list(dict.fromkeys(validation.slack_user_id(m) for m in member_ids))
        if not members:
            raise InvalidInput("A team needs at least one member (--member U…).")
        try:
            with self.db.transaction() as session:
                team = ResearchTeam(name=name, slack_workspace_id=workspace_id)
                # The first member administers the team.
                team.members = [
                    TeamMember(
                        slack_user_id=user_id,
                        role=TeamRole.ADMIN if i == 0 else TeamRole.MEMBER,
                    )
                    for i, user_id in enumerate(members)
                ]
                session.add(team)
                session.flush()
                return team_info(team)
        except IntegrityError:
            raise Conflict(f"This workspace already has a team named {name!r}.") from None

    def add_members(self, team_ref: str | int, member_ids: list[str]) -> TeamInfo:
        """Add members; ones already on the team are left as they are."""
        users = list(dict.fromkeys(validation.slack_user_id(m) for m in member_ids))
        with self.db.transaction() as session:
            team = find_team(session, team_ref)
            present = {m.slack_user_id for m in team.members}
            for user_id in users:
                if user_id not in present:
                    team.members.append(TeamMember(slack_user_id=user_id))
            session.flush()
            return team_info(team)

    def list(self) -> list[TeamInfo]:
        with self.db.transaction() as session:
            teams = session.scalars(select(ResearchTeam).order_by(ResearchTeam.id)).all()
            return [team_info(t) for t in teams]
