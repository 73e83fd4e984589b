"""The lifecycle tick: what comes due with time alone — reminders, the unconfirmed-attendance
warning, marking an interview completed after its grace, and the next-day prompt.

The tick only finds what is due and asks the services to queue it; the services lock the rows,
check again, and queue outbox items with idempotency keys. So any number of servers may tick at
once and nothing is sent twice, and a server that starts after downtime first looks at
everything still owed, then only at what came due since its last tick (with some overlap for
transactions that committed late). Every query is an index range scan over what is due:

- reminders and warnings: per lead time in use (e.g. 24 h), interviews starting in the window
  that lead time puts in front of now (``ix_interviews_status_starts_at``);
- completion: upcoming interviews that have ended (``ix_interviews_status_ends_at``);
- the prompt's repeat: interviews completed a day ago (``ix_interviews_status_outcome_at``);
- each study's schedule: read once, then only the studies changed since (``ix_studies_updated_at``).
"""

import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.services.lifecycle import PROMPT_AGAIN_AFTER, LifecycleService
from bot.services.reminders import ReminderService
from storage.db import Database
from storage.enums import InterviewStatus
from storage.models import Interview, Study

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StudySchedule:
    reminders: tuple[int, ...]  # minutes before the start
    grace_minutes: int
    warning_hours: int | None


class Schedules:
    """Every study's schedule, kept in memory: the first read takes all studies, later ones only
    those whose ``updated_at`` is recent (with room for servers' clocks disagreeing)."""

    SKEW = timedelta(minutes=10)

    def __init__(self) -> None:
        self.by_study: dict[int, StudySchedule] = {}
        self._newest: datetime | None = None

    def refresh(self, session: Session) -> None:
        query = select(Study.id, Study.reminder_offsets_minutes, Study.completion_grace_minutes,
                       Study.unconfirmed_warning_hours, Study.updated_at)
        if self._newest is not None:
            query = query.where(Study.updated_at >= self._newest - self.SKEW)
        for study_id, reminders, grace, warning, updated_at in session.execute(query):
            self.by_study[study_id] = StudySchedule(tuple(int(m) for m in reminders or ()), grace, warning)
            if self._newest is None or updated_at > self._newest:
                self._newest = updated_at

    def reminder_leads(self) -> dict[timedelta, set[int]]:
        """Each lead time in use, with the studies that use it."""
        return _by_lead((timedelta(minutes=m), study) for study, s in self.by_study.items() for m in s.reminders)

    def warning_leads(self) -> dict[timedelta, set[int]]:
        return _by_lead((timedelta(hours=s.warning_hours), study) for study, s in self.by_study.items() if s.warning_hours)

    def grace(self, study_id: int) -> timedelta:
        schedule = self.by_study.get(study_id)
        return timedelta(minutes=schedule.grace_minutes if schedule else 0)


def _by_lead(pairs: Iterable[tuple[timedelta, int]]) -> dict[timedelta, set[int]]:
    leads: dict[timedelta, set[int]] = {}
    for lead, study in pairs:
        leads.setdefault(lead, set()).add(study)
    return leads


def _chunks(ids: Iterable[int], size: int) -> Iterator[list[int]]:
    ordered = sorted(set(ids))
    for start in range(0, len(ordered), size):
        yield ordered[start:start + size]


@dataclass
class TickResult:
    reminders: int = 0  # emails queued
    warnings: int = 0
    completed: int = 0
    prompted_again: int = 0

    @property
    def anything(self) -> bool:
        return any((self.reminders, self.warnings, self.completed, self.prompted_again))


@dataclass
class LifecycleRunner:
    db: Database
    clock: Clock
    reminders: ReminderService
    lifecycle: LifecycleService
    # How far each tick looks back past the previous one: a booking committed a little after
    # the tick that should have seen it is still found.
    overlap: timedelta = timedelta(minutes=2)
    # After downtime, how late the next-day prompt may still come.
    prompt_catch_up: timedelta = timedelta(days=1)
    chunk: int = 100
    schedules: Schedules = field(default_factory=Schedules)
    # The previous tick's now; None (a fresh start): look at everything still owed.
    _since: datetime | None = field(default=None, init=False)

    def tick(self) -> TickResult:
        now = self.clock().astimezone(UTC)  # in UTC: a zone's wall-clock arithmetic would skip DST hours
        since = self._since if self._since is not None and self._since <= now else None
        with self.db.transaction() as session:
            self.schedules.refresh(session)
            reminder_ids = self._starting_within(session, self.schedules.reminder_leads(), since, now)
            warning_ids = self._starting_within(session, self.schedules.warning_leads(), since, now)
            ended_ids = self._past_grace(session, now)
            prompted_ids = self._completed_a_day_ago(session, since, now)
        done = TickResult()
        for ids in _chunks(reminder_ids, self.chunk):
            done.reminders += self.reminders.send_due(ids)
        for ids in _chunks(warning_ids, self.chunk):
            done.warnings += self.reminders.warn_unconfirmed(ids)
        for ids in _chunks(ended_ids, self.chunk):
            done.completed += self.lifecycle.complete_due(ids)
        for ids in _chunks(prompted_ids, self.chunk):
            done.prompted_again += self.lifecycle.prompt_again_due(ids)
        self._since = now  # only after every step went through: a failed tick is looked at again
        return done

    def _starting_within(
        self, session: Session, leads: dict[timedelta, set[int]], since: datetime | None, now: datetime,
    ) -> set[int]:
        """Interviews with something due, for each lead time, between the last tick and now."""
        found: set[int] = set()
        for lead, studies in leads.items():
            after = now if since is None else max(now, since - self.overlap + lead)
            rows = session.execute(
                select(Interview.id, Interview.study_id).where(
                    Interview.status == InterviewStatus.UPCOMING,
                    Interview.starts_at > after,
                    Interview.starts_at <= now + lead,
                )
            )
            found.update(interview_id for interview_id, study_id in rows if study_id in studies)
        return found

    def _past_grace(self, session: Session, now: datetime) -> list[int]:
        """Upcoming interviews that ended longer ago than their study's grace."""
        rows = session.execute(
            select(Interview.id, Interview.study_id, Interview.ends_at)
            .where(Interview.status == InterviewStatus.UPCOMING, Interview.ends_at <= now)
        )
        return [i for i, study_id, ends_at in rows if ends_at + self.schedules.grace(study_id) <= now]

    def _completed_a_day_ago(self, session: Session, since: datetime | None, now: datetime) -> Sequence[int]:
        upper = now - PROMPT_AGAIN_AFTER
        lower = upper - self.prompt_catch_up if since is None else since - self.overlap - PROMPT_AGAIN_AFTER
        return session.scalars(
            select(Interview.id).where(
                Interview.status == InterviewStatus.COMPLETED,
                Interview.outcome_at > lower,
                Interview.outcome_at <= upper,
            )
        ).all()


def run_tick(runner: LifecycleRunner) -> None:
    """One tick from the scheduler: failures are logged, and the next tick tries again."""
    try:
        done = runner.tick()
    except Exception:  # the database may be away for a moment
        log.exception("lifecycle tick failed")
        return
    if done.anything:
        log.info(
            "lifecycle: %s reminders, %s warnings, %s completed, %s prompted again",
            done.reminders, done.warnings, done.completed, done.prompted_again,
        )
