"""Middleware that puts the domain services, the outbox worker, the follow-up lanes and the app's
Slack client into every listener's context."""

import logging
from collections.abc import Callable, Iterator
from concurrent.futures import Future, wait
from contextlib import AbstractContextManager, contextmanager
from typing import Any, TypeVar

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

T = TypeVar("T")


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
        follow_ups(context).run(deliver)


@contextmanager
def failures_told(body: dict[str, Any], respond: Respond, client: WebClient, logger: logging.Logger) -> Iterator[None]:
    """Around work after the ack: a failure is answered to the person as a listener's would be."""
    try:
        yield
    except Exception as error:
        handle_error(error, body, respond, client, logger)


def acknowledge_then_answer(
    ack: Ack, context: BoltContext, body: dict[str, Any], respond: Respond, client: WebClient,
    logger: logging.Logger, work: Callable[[], None],
) -> None:
    """Acknowledge a click, then finish answering it on the answering lane (``bot.follow_ups``),
    off the listener's thread. If the lane is full, the acknowledgement waits for room first
    (at most 2 seconds)."""

    def answer() -> None:
        with failures_told(body, respond, client, logger):
            work()

    lanes = follow_ups(context)
    took_room = lanes.wait_for_room()
    ack()
    lanes.answer(answer, took_room=took_room)


def answer_in_ack_or_later(
    context: BoltContext, work: Callable[[], T], *, meanwhile: Callable[[], None],
    later: Callable[["Future[T]"], None],
) -> "Future[T] | None":
    """Run ``work`` on the answering lane and wait for it up to SLACK_INLINE_ANSWER_SECONDS, so
    that a quick answer can travel in the acknowledgement.

    Done in time: its future (finished), for the caller to answer from. Not done: None, once
    ``meanwhile()`` has acknowledged; ``later(future)`` runs on the answering lane when it is.
    """
    lanes = follow_ups(context)
    outcome = lanes.compute(work)
    done, _ = wait([outcome], timeout=context[INLINE_ANSWER_KEY])
    if done:
        return outcome
    meanwhile()
    # The rest of the same answer: on the answering lane, not behind deliveries.
    outcome.add_done_callback(lambda _: lanes.answer(lambda: later(outcome), took_room=False))
    return None


def waiting_for_slack(context: BoltContext) -> AbstractContextManager[None]:
    """Around a call to Slack made without the app's client (a response_url): the answering
    lane's turn goes to another meanwhile, as the client's calls do."""
    return follow_ups(context).turns.waiting()


def workspace_id(context: BoltContext) -> str:
    """The workspace the request came from (the organization for org-wide installs)."""
    return context.team_id or context.enterprise_id or ""


def actor(context: BoltContext) -> Actor:
    """The Slack user behind the request, in the workspace the request came from."""
    return Actor.slack_user(workspace_id(context), context.user_id or "")
