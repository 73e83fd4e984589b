"""Rows written straight through the models, for tests that need many of them quickly."""

import uuid
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from storage.enums import ActivityKind, ActorKind, InterviewStatus
from storage.models import ActivityEvent, Interview


def add_interview(
    session: Session,
    study_id: int,
    starts_at: datetime,
    *,
    minutes: int = 45,
    status: InterviewStatus = InterviewStatus.UPCOMING,
) -> Interview:
    interview = Interview(
        study_id=study_id,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=minutes),
        session_name="Test session",
        status=status,
        ical_uid=f"{uuid.uuid4()}@test",
    )
    session.add(interview)
    session.flush()
    return interview


def add_event(
    session: Session,
    interview_id: int,
    occurred_at: datetime,
    kind: ActivityKind = ActivityKind.DETAILS_UPDATED,
    **details: object,
) -> ActivityEvent:
    event = ActivityEvent(
        interview_id=interview_id,
        kind=kind,
        actor_kind=ActorKind.SYSTEM,
        actor_name="test",
        occurred_at=occurred_at,
        details=dict(details),
    )
    session.add(event)
    session.flush()
    return event
