"""Running the web server with uvicorn."""

import logging
import re

import uvicorn
from starlette.applications import Starlette

from bot.composition import build_lifecycle_runner, build_outbox_worker
from bot.jobs.calendar_tick import build_calendar_tick
from bot.server import create_web_app
from bot.services import Services
from bot.settings import Settings

log = logging.getLogger(__name__)
_TOKEN_IN_PATH = re.compile(r"(/s/)[A-Za-z0-9_-]{20,}")


class HideParticipantTokens(logging.Filter):
    """Access logs show /s/… instead of a participant's personal token."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_TOKEN_IN_PATH.sub(r"\1…", a) if isinstance(a, str) else a for a in record.args)
        return True


def run(settings: Settings, services: Services, *, host: str | None = None, port: int | None = None) -> None:
    if settings.secret_key is None:
        log.warning("SECRET_KEY is not set: participant links use a development key (see README).")
    bolt_app = None
    worker = build_outbox_worker(settings, services)
    if not settings.missing_slack_credentials():
        from bot.slack_app import build_bolt_app

        bolt_app = build_bolt_app(settings, services, worker)
    else:
        log.warning("Slack credentials not set: /slack/events answers 503 until they are.")
    calendar = build_calendar_tick(services) if services.calendars.configured else None
    app = create_web_app(settings, services, bolt_app, worker, build_lifecycle_runner(services), calendar)
    serve_asgi(app, host or settings.host, port or settings.port)


def serve_asgi(app: Starlette, host: str, port: int) -> None:
    """uvicorn as every server of ours runs it (the benchmark's floor too): access log on, tokens hidden."""
    logging.getLogger("uvicorn.access").addFilter(HideParticipantTokens())
    uvicorn.run(app, host=host, port=port, log_level="info")
