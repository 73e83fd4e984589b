"""The web server: Slack's Request URL, the health check and (later) the participant pages."""

import contextlib
import logging
from collections.abc import AsyncIterator

from slack_bolt import App, BoltRequest
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.request.internals import parse_body
from slack_sdk.signature import SignatureVerifier
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot import __version__, slack_envelope
from bot.jobs import scheduler
from bot.jobs.calendar_tick import CalendarTick
from bot.jobs.lifecycle import LifecycleRunner
from bot.jobs.outbox_worker import OutboxWorker
from bot.services import Services
from bot.settings import Settings
from bot.web import participant_routes

log = logging.getLogger(__name__)

MAX_SLACK_BODY = 1 << 20  # Slack's payloads are far smaller; anything bigger is not Slack
SLACK_NOT_CONFIGURED = (
    "Slack is not configured on this server: set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET."
)


def _slack_endpoint(settings: Settings, bolt_app: App | None):  # noqa: ANN202 (Starlette endpoint)
    verifier = (
        SignatureVerifier(settings.slack_signing_secret.get_secret_value())
        if settings.slack_signing_secret is not None
        else None
    )

    async def slack_events(request: Request) -> Response:
        if bolt_app is None or verifier is None:
            return JSONResponse({"error": SLACK_NOT_CONFIGURED}, status_code=503)
        body = await request.body()
        if len(body) > MAX_SLACK_BODY:
            return JSONResponse({"error": "request too large"}, status_code=413)
        # Verified here, before the body is parsed, so a forged request costs one HMAC and
        # nothing else; Bolt checks the signature again as part of its dispatch.
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return JSONResponse({"error": "the body is not UTF-8"}, status_code=400)
        try:
            signed = verifier.is_valid_request(text, dict(request.headers))
        except ValueError:  # e.g. a timestamp header that is not a number
            signed = False
        if not signed:
            return JSONResponse({"error": "invalid signature"}, status_code=401)
        try:
            # Parsed exactly as Bolt will parse it, so the shape check sees what Bolt sees.
            payload = parse_body(text, request.headers.get("content-type"))
        except ValueError:
            payload = None
        malformed = slack_envelope.problem(payload)
        if malformed is not None:
            return JSONResponse({"error": f"malformed Slack payload: {malformed}"}, status_code=400)
        bolt_request = BoltRequest(
            body=text, query=dict(request.query_params), headers=dict(request.headers)
        )
        # Bolt's dispatch is synchronous and waits for the listener's ack: run it off the loop.
        bolt_response = await run_in_threadpool(bolt_app.dispatch, bolt_request)
        return Response(
            status_code=bolt_response.status,
            content=bolt_response.body,
            headers=bolt_response.first_headers_without_set_cookie(),
        )

    return slack_events


def _healthz(services: Services):  # noqa: ANN202 (Starlette endpoint)
    async def healthz(_request: Request) -> Response:
        try:
            await run_in_threadpool(services.db.ping)
        except Exception:  # any failure to reach the database is "unreachable"
            log.warning("health check: database unreachable", exc_info=True)
            return JSONResponse(
                {"status": "degraded", "database": "unreachable", "version": __version__},
                status_code=503,
            )
        return JSONResponse({"status": "ok", "database": "ok", "version": __version__})

    return healthz


def create_web_app(
    settings: Settings, services: Services, bolt_app: App | None, worker: OutboxWorker | None = None,
    lifecycle: LifecycleRunner | None = None, calendar: CalendarTick | None = None,
) -> Starlette:
    """The ASGI app. With a ``worker``, the outbox is delivered in the background while it runs,
    with a ``lifecycle`` runner, reminders, completion and prompts come due, and with a
    ``calendar`` tick, connected Google Calendars are synced."""

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        ticker = (scheduler.start(worker, lifecycle, every_seconds=settings.outbox_tick_seconds, calendar=calendar)
                  if worker is not None else None)
        socket_mode = None
        if bolt_app is not None and settings.slack_app_token is not None:
            # Socket Mode alongside HTTP: development without a public URL.
            socket_mode = SocketModeHandler(bolt_app, settings.slack_app_token.get_secret_value())
            await run_in_threadpool(socket_mode.connect)
            log.info("connected to Slack in Socket Mode")
        try:
            yield
        finally:
            if socket_mode is not None:
                await run_in_threadpool(socket_mode.close)
            if ticker is not None:
                await run_in_threadpool(ticker.shutdown)
            await run_in_threadpool(services.db.dispose)

    return Starlette(
        routes=[
            Route("/slack/events", _slack_endpoint(settings, bolt_app), methods=["POST"]),
            Route("/healthz", _healthz(services), methods=["GET"]),
            *participant_routes(services),
        ],
        lifespan=lifespan,
    )
