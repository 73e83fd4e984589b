"""Middleware that puts the domain services (and the outbox worker) into every listener's context."""

from collections.abc import Callable

from slack_bolt import App, BoltContext

from bot.domain import Actor, SideEffectState
from bot.jobs.outbox_worker import OutboxWorker
from bot.services import Services

SERVICES_KEY = "services"
WORKER_KEY = "outbox_worker"


def install(app: App, services: Services, worker: OutboxWorker | None = None) -> None:
    def inject(context: BoltContext, next: Callable[[], None]) -> None:  # noqa: A002 (Bolt's name)
        context[SERVICES_KEY] = services
        context[WORKER_KEY] = worker
        next()

    app.use(inject)


def services(context: BoltContext) -> Services:
    return context[SERVICES_KEY]


def deliver_now(context: BoltContext, outbox_ids: tuple[int, ...]) -> list[SideEffectState]:
    """Deliver what an action just queued, so the person sees the outcome (the tick would,
    within seconds, on any server). Without a worker, report them as queued."""
    worker: OutboxWorker | None = context.get(WORKER_KEY)
    if worker is None or not outbox_ids:
        return []
    return worker.deliver_now(outbox_ids)


def workspace_id(context: BoltContext) -> str:
    """The workspace the request came from (the organization for org-wide installs)."""
    return context.team_id or context.enterprise_id or ""


def actor(context: BoltContext) -> Actor:
    """The Slack user behind the request, in the workspace the request came from."""
    return Actor.slack_user(workspace_id(context), context.user_id or "")
