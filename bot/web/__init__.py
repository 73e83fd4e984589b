"""The participant pages: server-rendered HTML over ``bot.services.portal``.

A participant's personal link (``/s/<token>``) is their only credential, so every page starts
from the token, and a page never shows anything the portal did not return for that token.
Everything works without JavaScript; the one script only picks the browser's time zone.
"""

from bot.web.pages import participant_routes

__all__ = ["participant_routes"]
