"""The clock that runs background work inside `interview-desk serve`.

APScheduler only ticks: every due side effect lives in our tables and is claimed atomically, so
any number of servers can tick at once (one job store can't be shared by several schedulers,
which is why none is used). Two jobs: the outbox worker delivers what is queued; the lifecycle
tick queues what time alone makes due (reminders, completion, prompts). With Google Calendar
configured, a third syncs hosts' calendars and refreshes their busy times.
"""

import logging
from datetime import UTC

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.jobs import calendar_tick
from bot.jobs.calendar_tick import CalendarTick
from bot.jobs.lifecycle import LifecycleRunner, run_tick
from bot.jobs.outbox_worker import OutboxWorker

log = logging.getLogger(__name__)


def start(
    worker: OutboxWorker, lifecycle: LifecycleRunner | None = None, *,
    every_seconds: float = 2.0, lifecycle_every_seconds: float = 5.0,
    calendar: CalendarTick | None = None, calendar_every_seconds: float = 5.0,
) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(timezone=UTC)
    scheduler.add_job(
        _drain, IntervalTrigger(seconds=every_seconds), args=[worker], id="outbox",
        max_instances=1, coalesce=True,  # a slow tick is never run twice at once, nor piled up
    )
    if lifecycle is not None:
        scheduler.add_job(
            run_tick, IntervalTrigger(seconds=lifecycle_every_seconds), args=[lifecycle], id="lifecycle",
            max_instances=1, coalesce=True,
        )
    if calendar is not None and calendar.configured:
        scheduler.add_job(
            calendar_tick.run_tick, IntervalTrigger(seconds=calendar_every_seconds), args=[calendar], id="calendar",
            max_instances=1, coalesce=True,
        )
    scheduler.start()
    return scheduler


def _drain(worker: OutboxWorker) -> None:
    try:
        result = worker.drain()
    except Exception:  # the database may be away for a moment; the next tick tries again
        log.exception("outbox tick failed")
        return
    if result.handled:
        log.info("outbox: %s sent, %s to retry, %s failed, %s dropped",
                 result.sent, result.retried, result.failed, result.dropped)
