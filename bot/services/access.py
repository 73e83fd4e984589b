"""Who may do what: only members of a study's research team act on its interviews."""

from sqlalchemy.orm import Session

from bot.domain import Actor
from bot.services.errors import NotAllowed
from storage.enums import ActorKind
from storage.models import Study
from storage.queries import team_member


def require_team_member(session: Session, study: Study, actor: Actor) -> None:
    """Raise ``NotAllowed`` unless the actor may act on the study (the CLI always may)."""
    if actor.kind is ActorKind.SYSTEM:
        return
    if (
        actor.kind is ActorKind.MEMBER
        and actor.slack_user_id is not None
        and actor.slack_workspace_id == study.slack_workspace_id
        and team_member(session, study.team_id, actor.slack_user_id) is not None
    ):
        return
    raise NotAllowed(
        f"Only the research team of *{study.name}* can see and manage its interviews. "
        "Ask a team admin to add you: `interview-desk team add-member "
        f"{study.team_id} {actor.slack_user_id or 'U…'}`."
    )
