"""Who may do what: only members of a study's research team act on its interviews."""

from sqlalchemy.orm import Session

from bot.domain import Actor
from bot.services.errors import NotAllowed
from storage.enums import ActorKind
from storage.models import Study
from storage.queries import team_member

# To someone of another Slack workspace: ids are sequential, so naming the study (or its team)
# would tell anyone who tries them the names of other customers' studies.
FOREIGN_REFUSAL = (
    "Only the research team of that study can see and manage its interviews, "
    "and it is not one of your team's."
)


def require_team_member(session: Session, study: Study, actor: Actor) -> None:
    """Raise ``NotAllowed`` unless the actor may act on the study (the CLI always may)."""
    if actor.kind is ActorKind.SYSTEM:
        return
    same_workspace = actor.kind is ActorKind.MEMBER and actor.slack_workspace_id == study.slack_workspace_id
    if same_workspace and actor.slack_user_id and team_member(session, study.team_id, actor.slack_user_id) is not None:
        return
    if not same_workspace:
        raise NotAllowed(FOREIGN_REFUSAL)
    raise NotAllowed(_ask_to_join(study, actor))


def _ask_to_join(study: Study, actor: Actor) -> str:
    """The refusal inside the study's own workspace: which study, and how to get added."""
    return (
        f"Only the research team of *{study.name}* can see and manage its interviews. "
        "Ask a team admin to add you: `interview-desk team add-member "
        f"{study.team_id} {actor.slack_user_id or 'U…'}`."
    )
