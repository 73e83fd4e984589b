"""Writing the activity timeline; every change to an interview goes through ``record``."""

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bot.domain import Actor
from storage.enums import ActivityKind
from storage.models import ActivityEvent, Interview


def record(
    session: Session,
    interview: Interview,
    kind: ActivityKind,
    actor: Actor,
    at: datetime,
    **details: Any,
) -> ActivityEvent:
    event = ActivityEvent(
        interview=interview,
        kind=kind,
        actor_kind=actor.kind,
        actor_slack_user_id=actor.slack_user_id,
        actor_name=actor.name,
        occurred_at=at,
        details=details,
    )
    session.add(event)
    return event
