"""Keeping team members' names and emails, so hosts get calendar invites and are named on pages."""

from collections.abc import Mapping

from sqlalchemy import select

from bot.domain import MemberProfile
from bot.services import validation
from bot.services.errors import InvalidInput
from storage.db import Database
from storage.models import ResearchTeam, TeamMember


class ProfileService:
    def __init__(self, db: Database) -> None:
        self.db = db

    def remember(self, workspace_id: str, profiles: Mapping[str, MemberProfile]) -> int:
        """Store what Slack says about these users on every team of the workspace; rows changed."""
        if not profiles:
            return 0
        changed = 0
        with self.db.transaction() as session:
            members = session.scalars(
                select(TeamMember)
                .join(ResearchTeam, ResearchTeam.id == TeamMember.team_id)
                .where(ResearchTeam.slack_workspace_id == workspace_id, TeamMember.slack_user_id.in_(list(profiles)))
            )
            for member in members:
                profile = profiles[member.slack_user_id]
                if profile.name:
                    member.display_name = profile.name[:200]
                if profile.email:
                    try:
                        member.email = validation.email(profile.email)
                    except InvalidInput:
                        pass  # keep what we had rather than store an address mail would bounce
                changed += 1
        return changed
