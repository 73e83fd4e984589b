"""After an interview: marked completed by itself once it is over, the team asked how it went, and
the answers to that prompt (a rating, "they attended").

The tick (``bot/jobs/lifecycle.py``) finds what is due and calls ``complete_due`` and
``prompt_again_due`` with the interview ids; each locks its rows and checks again before acting, so
any number of servers may tick at once. The prompt and its one repeat are thread notes with
idempotency keys naming the interview and its start: each is posted once per time the interview
took place.

``rate`` and ``confirm_attended`` are interview actions like the others (``load_for_action`` →
check → change → timeline → card and note → ``result``); a repeat changes nothing.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from bot.clock import Clock
from bot.domain import Actor
from bot.services import activity
from bot.services.errors import Conflict, InvalidInput
from bot.services.interview_actions import (
    ActionResult,
    ChangedBy,
    Seen,
    load_for_action,
    result,
)
from bot.services.notifications import Notifier
from storage import outbox
from storage.db import Database
from storage.enums import (
    ActivityKind,
    ActorKind,
    AttendeeRole,
    InterviewStatus,
    OutboxKind,
    ParticipantStatus,
)
from storage.models import ActivityEvent, Attendee, Interview, OutboxItem

# Who acts when nobody pressed a button (the timeline says "Interview Desk").
SYSTEM = Actor.system("Interview Desk")
PROMPT_AGAIN_AFTER = timedelta(days=1)
RATINGS = range(1, 6)

NOT_STARTED = "It hasn't taken place yet: rate it and confirm attendance once it is over."
WAS_CANCELED = "This interview was canceled, so there is no session to rate or attend."
NOBODY_CAME = "This interview was marked as a no-show, so there is no session to rate. If they came after all, press *Attended*."


@dataclass(frozen=True)
class LifecycleResult(ActionResult):
    """An ``ActionResult``; when nothing changed because it was already so, who made it so."""

    already_by: ChangedBy | None = None
    previous_rating: int | None = None


def thread_note(
    session: Session, interview: Interview, now: datetime, change: str, note: dict[str, Any],
) -> bool:
    """A note in the card's thread, once per ``change`` (``note:{interview}:{change}``), without
    refreshing the card: for what the bot has to say that changes nothing on the card."""
    return outbox.enqueue(
        session, key=f"note:{interview.id}:{change}", kind=OutboxKind.SLACK_POST,
        payload={"note": note, "interview_id": interview.id}, now=now,
        ordering_key=f"slack:{interview.study.slack_channel_id}", interview_id=interview.id,
    )


def start_mark(interview: Interview) -> int:
    """The interview's start in Unix seconds: keys name it, so a moved interview is asked again."""
    return int(interview.starts_at.timestamp())


def prompt_change(interview: Interview, *, again: bool = False) -> str:
    return f"{'prompt_again' if again else 'prompt'}:{start_mark(interview)}"


def lock_interviews(session: Session, ids: Sequence[int], *, skip_locked: bool = False) -> list[Interview]:
    """The interviews, locked in id order (so two servers never deadlock), with what a side
    effect needs loaded; ``skip_locked``: without those another transaction holds."""
    if not ids:
        return []
    return list(session.scalars(
        select(Interview)
        .where(Interview.id.in_(sorted(set(ids))))
        .order_by(Interview.id)
        .options(
            selectinload(Interview.study),
            selectinload(Interview.attendees).selectinload(Attendee.participant),
        )
        .with_for_update(of=Interview, skip_locked=skip_locked, key_share=True)
    ))


def seats(interview: Interview) -> list[Attendee]:
    return [a for a in interview.attendees if a.role is AttendeeRole.PARTICIPANT]


def _by(actor: Actor) -> dict[str, str]:
    if actor.slack_user_id:
        return {"by": actor.slack_user_id}
    return {"who": actor.name or "Interview Desk"}


class LifecycleService:
    def __init__(self, db: Database, clock: Clock, notifier: Notifier) -> None:
        self.db = db
        self.clock = clock
        self.notifier = notifier

    # -------------------------------------------------------------- the tick's part

    def complete_due(self, interview_ids: Sequence[int]) -> int:
        """Mark completed those of these interviews that ended longer ago than their study's
        grace and are still upcoming (not marked no-show or canceled meanwhile); then ask the
        team how it went. Returns how many were completed."""
        now = self.clock()
        done = 0
        with self.db.transaction(write_lock=True) as session:
            for interview in lock_interviews(session, interview_ids):
                grace = timedelta(minutes=interview.study.completion_grace_minutes)
                if interview.status is InterviewStatus.UPCOMING and interview.ends_at + grace <= now:
                    self._complete(session, interview, now)
                    done += 1
        return done

    def _complete(self, session: Session, interview: Interview, now: datetime) -> None:
        for seat in seats(interview):
            if seat.attended is None:  # nobody said otherwise: they came
                seat.attended = True
            if seat.attended and seat.participant is not None:
                seat.participant.status = ParticipantStatus.COMPLETED
        interview.status = InterviewStatus.COMPLETED
        interview.outcome_at = now
        activity.record(session, interview, ActivityKind.COMPLETED, SYSTEM, now, automatic=True)
        session.flush()
        self.notifier.card(session, interview, now, f"auto_completed:{start_mark(interview)}",
                           note={"kind": "auto_completed"})
        thread_note(session, interview, now, prompt_change(interview), {"kind": "prompt"})

    def prompt_again_due(self, interview_ids: Sequence[int]) -> int:
        """Ask once more, a day after the prompt, where nobody answered it. Returns how many."""
        now = self.clock()
        asked = 0
        with self.db.transaction(write_lock=True) as session:
            for interview in lock_interviews(session, interview_ids):
                if self._owes_second_prompt(session, interview, now):
                    asked += thread_note(session, interview, now, prompt_change(interview, again=True),
                                         {"kind": "prompt", "again": True})
        return asked

    def _owes_second_prompt(self, session: Session, interview: Interview, now: datetime) -> bool:
        if interview.status is not InterviewStatus.COMPLETED or interview.outcome_at is None:
            return False
        if interview.outcome_at + PROMPT_AGAIN_AFTER > now or interview.rating is not None:
            return False
        prompted = session.scalar(select(OutboxItem.id).where(
            OutboxItem.idempotency_key == f"note:{interview.id}:{prompt_change(interview)}"))
        return prompted is not None and not _answered_by_a_person(session, interview)

    # -------------------------------------------------------------- the prompt's answers

    def rate(self, interview_id: int, actor: Actor, seen: Seen | None, rating: int | None) -> LifecycleResult:
        """How the session went, 1–5; rating again changes it."""
        if rating not in RATINGS:
            raise InvalidInput("A rating is 1 to 5 stars.")
        now = self.clock()
        with self.db.transaction(write_lock=True) as session:
            interview = load_for_action(session, interview_id, actor, now, seen)
            if interview.status is InterviewStatus.NO_SHOW:
                raise Conflict(NOBODY_CAME)
            _require_took_place(interview, now)
            previous = interview.rating
            if previous == rating:
                return _already(session, interview, now, (ActivityKind.RATED,))
            interview.rating = rating
            details: dict[str, Any] = {"rating": rating}
            if previous is not None:
                details["previous"] = previous
            event = activity.record(session, interview, ActivityKind.RATED, actor, now, **details)
            session.flush()
            self.notifier.card(session, interview, now, f"rated:e{event.id}",
                               note={"kind": "rated", "rating": rating, **_by(actor)})
            done = result(session, interview, now)
            return LifecycleResult(done.interview, True, done.outbox_ids, previous_rating=previous)

    def confirm_attended(self, interview_id: int, actor: Actor, seen: Seen | None) -> LifecycleResult:
        """A teammate says the participants came: they attended, and the interview is completed
        (a correction of a no-show too). In a group, someone marked as not attending stays so."""
        now = self.clock()
        with self.db.transaction(write_lock=True) as session:
            interview = load_for_action(session, interview_id, actor, now, seen)
            _require_took_place(interview, now)
            people = seats(interview)
            if not people:
                raise Conflict("This interview has no participants to confirm.")
            if interview.status is InterviewStatus.COMPLETED and _confirmed_by_a_person(session, interview):
                return _already(session, interview, now, (ActivityKind.COMPLETED,))
            previous = interview.status
            keep_marks = previous is not InterviewStatus.NO_SHOW and any(s.attended is not False for s in people)
            for seat in people:
                if keep_marks and seat.attended is False:
                    continue
                seat.attended = True
                if seat.participant is not None:
                    seat.participant.status = ParticipantStatus.COMPLETED
            interview.status = InterviewStatus.COMPLETED
            if previous is not InterviewStatus.COMPLETED:
                interview.outcome_at = now
            details: dict[str, Any] = {"attended": [s.display_name for s in people if s.attended]}
            if previous not in (InterviewStatus.UPCOMING, InterviewStatus.COMPLETED):  # a correction
                details["previous"] = previous.value
            event = activity.record(session, interview, ActivityKind.COMPLETED, actor, now, **details)
            session.flush()
            self.notifier.card(session, interview, now, f"attended:e{event.id}", note={"kind": "attended", **_by(actor)})
            done = result(session, interview, now)
            return LifecycleResult(done.interview, True, done.outbox_ids)


def _require_took_place(interview: Interview, now: datetime) -> None:
    if interview.status is InterviewStatus.CANCELED:
        raise Conflict(WAS_CANCELED)
    if interview.starts_at > now:
        raise Conflict(NOT_STARTED)


_PERSON_ANSWERS = (ActivityKind.COMPLETED, ActivityKind.NO_SHOW, ActivityKind.RATED)


def _answered_by_a_person(session: Session, interview: Interview) -> bool:
    """Someone rated the session or said who came since it was marked completed."""
    return session.scalar(
        select(ActivityEvent.id).where(
            ActivityEvent.interview_id == interview.id,
            ActivityEvent.occurred_at >= interview.outcome_at,
            ActivityEvent.kind.in_(_PERSON_ANSWERS),
            ActivityEvent.actor_kind != ActorKind.SYSTEM,
        ).limit(1)
    ) is not None


def _latest(session: Session, interview: Interview, kinds: Sequence[ActivityKind]) -> ActivityEvent | None:
    return session.scalars(
        select(ActivityEvent)
        .where(ActivityEvent.interview_id == interview.id, ActivityEvent.kind.in_(kinds))
        .order_by(ActivityEvent.id.desc())
        .limit(1)
    ).first()


def _confirmed_by_a_person(session: Session, interview: Interview) -> bool:
    """The interview's latest outcome is a teammate's "completed" (not the system's)."""
    event = _latest(session, interview, (ActivityKind.COMPLETED, ActivityKind.NO_SHOW, ActivityKind.CANCELED,
                                         ActivityKind.RESCHEDULED))
    return event is not None and event.kind is ActivityKind.COMPLETED and event.actor_kind is not ActorKind.SYSTEM


def _already(session: Session, interview: Interview, now: datetime, kinds: Sequence[ActivityKind]) -> LifecycleResult:
    """Nothing to do: it is already so; who made it so, from the latest such event."""
    done = result(session, interview, now, changed=False)
    event = _latest(session, interview, kinds)
    by = ChangedBy(event.actor_slack_user_id, event.actor_name, event.actor_kind) if event is not None else None
    return LifecycleResult(done.interview, False, done.outbox_ids, already_by=by)
