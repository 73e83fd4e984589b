"""Running the web server with uvicorn."""

import logging

import uvicorn

from bot.composition import build_outbox_worker
from bot.server import create_web_app
from bot.services import Services
from bot.settings import Settings

log = logging.getLogger(__name__)


def run(settings: Settings, services: Services, *, host: str | None = None, port: int | None = None) -> None:
    bolt_app = None
    if not settings.missing_slack_credentials():
        from bot.slack_app import build_bolt_app

        bolt_app = build_bolt_app(settings, services)
    else:
        log.warning("Slack credentials not set: /slack/events answers 503 until they are.")
    app = create_web_app(settings, services, bolt_app, build_outbox_worker(settings, services))
    uvicorn.run(app, host=host or settings.host, port=port or settings.port, log_level="info")
