"""What every interview action shares: load the interview for a change, check who asks, and
notice a stale view before acting on it.

An action arrives from a button or a modal built from the interview as it was then. If it has
since been moved, canceled or given an outcome by someone else, acting would apply the click to
something the person never saw, so ``load_for_action`` raises ``StaleView`` instead, saying what
changed and who changed it. Every action service starts with it and returns an ``ActionResult``.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.domain import Actor, InterviewSummary
from bot.services.access import require_team_member
from bot.services.errors import Conflict, NotFound
from bot.services.interviews import summary
from storage import outbox
from storage.enums import ActivityKind, ActorKind, InterviewStatus
from storage.models import ActivityEvent, Interview


@dataclass(frozen=True)
class Seen:
    """The interview as the person saw it when they clicked (from ``ActionChoice``)."""

    starts_at: datetime | None = None
    status: InterviewStatus | None = None

    @classmethod
    def of(cls, seen_start: int | None, seen_status: InterviewStatus | None) -> "Seen":
        start = datetime.fromtimestamp(seen_start, UTC) if seen_start is not None else None
        return cls(start, seen_status)


@dataclass(frozen=True)
class ChangedBy:
    """Who made the change the person did not see, for "… by @bo"."""

    slack_user_id: str | None
    name: str | None
    kind: ActorKind


class StaleView(Conflict):
    """The interview changed since the view was built; ``current`` is how it is now."""

    def __init__(self, current: InterviewSummary, previous: Seen, changed_by: ChangedBy | None) -> None:
        super().__init__("This interview changed since this was shown.")
        self.current = current
        self.previous = previous
        self.changed_by = changed_by


@dataclass(frozen=True)
class ActionResult:
    """What an action did: the interview now, whether anything changed (a repeated click
    changes nothing), and the side effects it queued, to deliver at once."""

    interview: InterviewSummary
    changed: bool
    outbox_ids: tuple[int, ...] = ()


# The events that explain a changed start or status, newest first.
_EXPLAINING = (
    ActivityKind.RESCHEDULED, ActivityKind.CANCELED, ActivityKind.COMPLETED, ActivityKind.NO_SHOW, ActivityKind.BOOKED,
)


def load_for_action(
    session: Session, interview_id: int, actor: Actor, now: datetime, seen: Seen | None = None
) -> Interview:
    """The interview, locked for the change, if the actor may act on it and saw it as it is.

    The row lock (PostgreSQL) makes concurrent actions on one interview queue: a double click's
    second request waits for the first, then sees its result as a change and stops. It is FOR NO
    KEY UPDATE, like every lock on an interview: rows that merely refer to it (its timeline, the
    outbox) can still be written meanwhile, so the outbox settling an earlier action's email
    never deadlocks with this one.
    """
    interview = session.scalars(
        select(Interview).where(Interview.id == interview_id).with_for_update(key_share=True)
    ).one_or_none()
    if interview is None:
        raise NotFound("That interview no longer exists.")
    require_team_member(session, interview.study, actor)
    if seen is not None:
        moved = seen.starts_at is not None and seen.starts_at != interview.starts_at
        settled = seen.status is not None and seen.status is not interview.status
        if moved or settled:
            raise StaleView(summary(interview, now), seen, _last_change(session, interview.id))
    return interview


def result(session: Session, interview: Interview, now: datetime, *, changed: bool = True) -> ActionResult:
    """The ``ActionResult`` of an action done in ``session`` (call last, before the commit)."""
    session.flush()
    return ActionResult(summary(interview, now), changed, outbox.added_in(session))


def _last_change(session: Session, interview_id: int) -> ChangedBy | None:
    event = session.scalars(
        select(ActivityEvent)
        .where(ActivityEvent.interview_id == interview_id, ActivityEvent.kind.in_(_EXPLAINING))
        .order_by(ActivityEvent.id.desc())  # the latest written, whatever clocks said
        .limit(1)
    ).first()
    if event is None:
        return None
    return ChangedBy(event.actor_slack_user_id, event.actor_name, event.actor_kind)
