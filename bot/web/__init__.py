"""The participant pages: server-rendered HTML over ``bot.services.portal``.

A participant's personal link (``/s/<token>``) is their only credential, so every page starts
from the token, and a page never shows anything the portal did not return for that token.
Everything works without JavaScript; the one script only picks the browser's time zone.
"""

from starlette.routing import BaseRoute

from bot.services import Services
from bot.web.attendance import attendance_routes
from bot.web.google_oauth import google_oauth_routes
from bot.web.google_push import google_push_routes
from bot.web.pages import page_routes
from bot.web.waitlist import waitlist_routes


def participant_routes(services: Services) -> list[BaseRoute]:
    """Every participant route for ``create_web_app`` (the asset route first, so it wins over a token)."""
    return [*page_routes(services), *attendance_routes(services), *waitlist_routes(services), *google_oauth_routes(services),
            *google_push_routes(services)]


__all__ = ["participant_routes"]
