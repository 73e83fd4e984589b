"""Team members' names and emails, as Slack reports them."""

from sqlalchemy import select

from bot.domain import MemberProfile
from bot.services import Services
from storage.db import Database
from storage.models import TeamMember
from tests.conftest import ADA, BO, WORKSPACE, Seed


def _member(db: Database, user_id: str) -> tuple[str | None, str | None]:
    with db.transaction() as session:
        member = session.scalars(select(TeamMember).where(TeamMember.slack_user_id == user_id)).one()
        return member.display_name, member.email


def test_profiles_are_stored_for_the_workspace_only(services: Services, seeded: Seed, db: Database) -> None:
    services.teams.create("Elsewhere", "T0OTHER", [ADA])
    changed = services.profiles.remember(WORKSPACE, {ADA: MemberProfile("Ada Lovelace", "Ada@Example.com"), BO: MemberProfile(None, "not an email")})
    assert changed == 2
    assert _member(db, BO) == (None, None)  # an address mail would bounce is not kept
    with db.transaction() as session:
        stored = {(m.team.slack_workspace_id, m.display_name, m.email) for m in session.scalars(select(TeamMember).where(TeamMember.slack_user_id == ADA))}
    assert stored == {(WORKSPACE, "Ada Lovelace", "ada@example.com"), ("T0OTHER", None, None)}
