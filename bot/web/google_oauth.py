"""``GET /google/oauth/callback``: where Google's consent page sends a host back.

Google redirects here with ``code`` and ``state``, or with ``error`` (``access_denied`` when the
host clicked Cancel). The page is thin: ``CalendarConnectService.complete`` checks the state,
trades the code and stores the grant; every outcome is a page saying what happened and what to
do next, with its status code. Nothing is stored unless the page says "connected".
"""

import logging
import re

from markupsafe import Markup, escape
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.services import Services
from bot.services.calendar_connect import (
    CalendarConnectService,
    ConnectLinkUsed,
    GoogleDidNotAnswer,
    GoogleNotConfigured,
    GoogleRefusedCode,
    ScopesNotGranted,
)
from bot.services.consent_state import ConnectLinkExpired, ConnectLinkInvalid
from bot.services.errors import DomainError
from bot.web.responses import render

log = logging.getLogger(__name__)

CALLBACK_PATH = "/google/oauth/callback"
MAX_PARAMETER = 2048  # Google's codes are ~100 characters; our states ~80
_ERROR_CODE = re.compile(r"^[a-z_]{1,64}$")  # OAuth error codes, e.g. access_denied
_COMMAND = re.compile(r"`([^`<>&]+)`")  # messages are written for Slack: `/interviews connect`

# (status, title) per outcome; the message is the error's own.
_PROBLEMS: dict[type[DomainError], tuple[int, str]] = {
    ConnectLinkInvalid: (400, "This link is not valid"),
    ConnectLinkExpired: (410, "This link has expired"),
    ConnectLinkUsed: (409, "This link was already used"),
    ScopesNotGranted: (403, "Google Calendar was not connected"),
    GoogleDidNotAnswer: (502, "Google did not answer"),
    GoogleNotConfigured: (503, "Google Calendar isn't set up"),
}


def google_oauth_routes(services: Services) -> list[BaseRoute]:
    return [Route(CALLBACK_PATH, GoogleCallback(services).page, methods=["GET"])]


class GoogleCallback:
    def __init__(self, services: Services) -> None:
        self._services = services

    @property
    def connect(self) -> CalendarConnectService:
        return self._services.calendar_connect

    async def page(self, request: Request) -> Response:
        query = request.query_params
        error, code, state = query.get("error"), query.get("code"), query.get("state")
        if error is not None:
            return declined(error)
        if not code or not state or len(code) > MAX_PARAMETER or len(state) > MAX_PARAMETER:
            return problem(400, "This page is Google's way back",
                           "It opens when Google sends you back after you connect your calendar. "
                           "Type `/interviews connect` in Slack to start.")
        try:
            connected = await run_in_threadpool(self.connect.complete, code=code, state=state)
        except DomainError as failure:
            return refused(failure)
        except Exception:  # never the code or the state in the log: they are credentials
            log.exception("connecting a Google Calendar failed")
            return problem(500, "Something went wrong", "Your calendar was not connected. Please type "
                           "`/interviews connect` in Slack and try again in a minute.")
        return render("google_connected", team_name=connected.team_name, reconnected=connected.reconnected)


def declined(error: str) -> Response:
    """Google came back without a code: the host cancelled, or Google could not ask them."""
    if error == "access_denied":
        return problem(403, "Google Calendar was not connected",
                       "You chose not to give Interview Desk access, so nothing changed. Interviews you "
                       "host keep getting emailed invitations. Changed your mind? Type "
                       "`/interviews connect` in Slack.")
    named = error if _ERROR_CODE.match(error) else "unknown"
    status = 503 if named in ("temporarily_unavailable", "server_error") else 502
    return problem(status, "Google could not connect your calendar",
                   f"Google answered “{named}”, so nothing was saved. Please type `/interviews connect` "
                   "in Slack and try again; if it happens again, tell your Interview Desk admin.")


def refused(failure: DomainError) -> Response:
    if isinstance(failure, GoogleRefusedCode):
        status = 400 if failure.code_spent else 502
        return problem(status, "Google did not accept this sign-in", failure.message)
    status, title = next(
        (found for kind, found in _PROBLEMS.items() if isinstance(failure, kind)), (400, "That didn't work"),
    )
    missing = failure.named if isinstance(failure, ScopesNotGranted) else ()
    return problem(status, title, failure.message, missing=missing)


def problem(status: int, title: str, message: str, *, missing: tuple[tuple[str, str], ...] = ()) -> Response:
    return render("google_problem", status=status, title=title, message=as_html(message), missing=missing)


def as_html(message: str) -> Markup:
    """A message written for Slack, escaped, with its `commands` as <code>."""
    return Markup(_COMMAND.sub(r"<code>\1</code>", str(escape(message))))


__all__ = ["CALLBACK_PATH", "google_oauth_routes"]
