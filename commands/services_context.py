"""Middleware that puts the domain services, the outbox worker, the follow-up lanes and the app's
Slack client into every listener's context."""

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_bolt.context.respond import Respond
from slack_sdk import WebClient

from blocks.progress import REPORTED_KINDS
from bot.domain import Actor, SideEffectState
from bot.follow_ups import FollowUps
from bot.jobs.outbox_worker import OutboxWorker
from bot.services import Services
from commands.errors import handle_error

SERVICES_KEY = "services"
WORKER_KEY = "outbox_worker"
FOLLOW_UPS_KEY = "follow_ups"
INLINE_ANSWER_KEY = "inline_answer"


def install(
    app: App, services: Services, worker: OutboxWorker | None, follow_ups: FollowUps, inline_answer: float,
) -> None:
    def inject(context: BoltContext, next: Callable[[], None]) -> None:  # noqa: A002 (Bolt's name)
        # The app's own client for every listener, rather than Bolt's plain per-request copy:
        # it takes turns with the other after-ack work (bot.follow_ups). We never change its token.
        context["client"] = app.client
        context[SERVICES_KEY] = services
        context[WORKER_KEY] = worker
        context[FOLLOW_UPS_KEY] = follow_ups
        context[INLINE_ANSWER_KEY] = inline_answer
        next()

    app.use(inject)


def services(context: BoltContext) -> Services:
    return context[SERVICES_KEY]


def follow_ups(context: BoltContext) -> FollowUps:
    return context[FOLLOW_UPS_KEY]


def inline_answer(context: BoltContext) -> float:
    """Seconds a submission's acknowledgement waits for its change (SLACK_INLINE_ANSWER_SECONDS)."""
    return context[INLINE_ANSWER_KEY]


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


def acknowledge_then_answer(
    ack: Ack, context: BoltContext, body: dict[str, Any], respond: Respond, client: WebClient,
    logger: logging.Logger, work: Callable[[], None],
) -> None:
    """Acknowledge a click, then finish answering it on the answering lane (``bot.follow_ups``),
    off the listener's thread; a failure there is answered to the person as a listener's would
    be. If the lane is full, the acknowledgement waits for room first (at most 2 seconds)."""

    def answer() -> None:
        try:
            work()
        except Exception as error:
            handle_error(error, body, respond, client, logger)

    follow_ups: FollowUps = context[FOLLOW_UPS_KEY]
    took_room = follow_ups.wait_for_room()
    ack()
    follow_ups.answer(answer, took_room=took_room)


def waiting_for_slack(context: BoltContext) -> AbstractContextManager[None]:
    """Around a call to Slack made without the app's client (a response_url): the answering
    lane's turn goes to another meanwhile, as the client's calls do."""
    follow_ups: FollowUps = context[FOLLOW_UPS_KEY]
    return follow_ups.turns.waiting()


def workspace_id(context: BoltContext) -> str:
    """The workspace the request came from (the organization for org-wide installs)."""
    return context.team_id or context.enterprise_id or ""


def actor(context: BoltContext) -> Actor:
    """The Slack user behind the request, in the workspace the request came from."""
    return Actor.slack_user(workspace_id(context), context.user_id or "")
