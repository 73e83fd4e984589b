"""Middleware that puts the domain services, the outbox worker and the follow-up threads into
every listener's context."""

from collections.abc import Callable

from slack_bolt import App, BoltContext

from blocks.progress import REPORTED_KINDS
from bot.domain import Actor, SideEffectState
from bot.follow_ups import FollowUps
from bot.jobs.outbox_worker import OutboxWorker
from bot.services import Services

SERVICES_KEY = "services"
WORKER_KEY = "outbox_worker"
FOLLOW_UPS_KEY = "follow_ups"


def install(app: App, services: Services, worker: OutboxWorker | None, follow_ups: FollowUps) -> None:
    def inject(context: BoltContext, next: Callable[[], None]) -> None:  # noqa: A002 (Bolt's name)
        context[SERVICES_KEY] = services
        context[WORKER_KEY] = worker
        context[FOLLOW_UPS_KEY] = follow_ups
        next()

    app.use(inject)


def services(context: BoltContext) -> Services:
    return context[SERVICES_KEY]


def deliver_after_ack(
    context: BoltContext, outbox_ids: tuple[int, ...], then: Callable[[list[SideEffectState]], None] | None = None,
) -> None:
    """Deliver what an action just queued, so the person sees the outcome (the tick would, within
    seconds, on any server), then ``then(states)``. Without a worker, they are reported queued.

    ``then`` runs once what it reports has gone (emails, calendar writes): the channel's card
    and thread notes, which go out at Slack's pace of about one a second per channel, follow
    after it.
    """

    def deliver() -> None:
        worker: OutboxWorker | None = context.get(WORKER_KEY)
        if worker is None or not outbox_ids:
            if then is not None:
                then([])
            return
        if then is not None:
            then(worker.deliver_now(outbox_ids, kinds=REPORTED_KINDS))
        worker.deliver_now(outbox_ids)

    if outbox_ids or then is not None:  # on the follow-up threads, never the listener's
        follow_ups: FollowUps = context[FOLLOW_UPS_KEY]
        follow_ups.run(deliver)


def workspace_id(context: BoltContext) -> str:
    """The workspace the request came from (the organization for org-wide installs)."""
    return context.team_id or context.enterprise_id or ""


def actor(context: BoltContext) -> Actor:
    """The Slack user behind the request, in the workspace the request came from."""
    return Actor.slack_user(workspace_id(context), context.user_id or "")
