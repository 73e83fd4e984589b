"""The Bolt app: one per process, with every listener registered once."""

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
)

from bot.composition import build_outbox_worker
from bot.follow_ups import CpuTurns, FollowUps
from bot.jobs.outbox_worker import OutboxWorker
from bot.services import Services
from bot.settings import Settings
from commands import register_all


class TurnTakingWebClient(WebClient):
    """A Web API client whose thread gives its after-ack turn (``bot.follow_ups``) to another
    while Slack answers: waiting for the network needs no interpreter."""

    def __init__(self, *args: Any, turns: CpuTurns | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._turns = turns

    def api_call(self, *args: Any, **kwargs: Any) -> Any:  # every Web API method comes through here
        if self._turns is None:
            return super().api_call(*args, **kwargs)
        with self._turns.waiting():
            return super().api_call(*args, **kwargs)


def web_client(settings: Settings, turns: CpuTurns | None = None) -> WebClient:
    """A Web API client for SLACK_API_URL that waits out 429s and retries dropped connections."""
    assert settings.slack_bot_token is not None
    return TurnTakingWebClient(
        turns=turns,
        token=settings.slack_bot_token.get_secret_value(),
        base_url=str(settings.slack_api_url),
        timeout=10,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=2),
            RateLimitErrorRetryHandler(max_retry_count=2),
        ],
    )


def build_bolt_app(
    settings: Settings, services: Services, worker: OutboxWorker | None = None, follow_ups: FollowUps | None = None,
) -> App:
    """The Bolt app; ``worker`` delivers what an action queued while the user waits (by
    default one built from the settings, like the background tick's), on ``follow_ups``."""
    assert settings.slack_signing_secret is not None
    follow_ups = follow_ups or FollowUps()
    app = App(
        client=web_client(settings, follow_ups.turns),
        signing_secret=settings.slack_signing_secret.get_secret_value(),
        # No network call at start: the bot's identity is fetched on the first request instead.
        token_verification_enabled=False,
        logger=logging.getLogger("interview_desk.slack"),
        # Every request's listener starts here, and an ack waits for a free thread: the slow work
        # after an ack (answering, sending) goes to ``follow_ups`` instead, so these stay free.
        listener_executor=ThreadPoolExecutor(max_workers=32, thread_name_prefix="slack-listener"),
    )
    register_all(app, services, worker or build_outbox_worker(settings, services), follow_ups,
                 inline_answer=settings.slack_inline_answer_seconds)
    return app
