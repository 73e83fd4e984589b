"""The pages' stylesheet, script and icon, served from our own origin.

Files rather than inline ``<style>``/``<script>``, so the content security policy can refuse
every inline script; the icon spares browsers a guess at ``/favicon.ico``. Only the names
listed here are served; they carry no token and are the same for everyone, so unlike the pages
they may be cached.
"""

from functools import cache
from importlib.resources import files

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from bot.web.responses import SECURITY_HEADERS

ASSETS = {
    "pages.css": "text/css; charset=utf-8",
    "pages.js": "text/javascript; charset=utf-8",
    "icon.svg": "image/svg+xml",
}
ASSET_PATH = "/s/assets/{name}"


@cache
def _content(name: str) -> bytes:
    return files("bot").joinpath("templates", "pages", name).read_bytes()


async def asset(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in ASSETS:
        response: Response = PlainTextResponse("Not found", status_code=404)
    else:
        response = Response(_content(name), media_type=ASSETS[name])
    response.headers.update(SECURITY_HEADERS)
    response.headers["Cache-Control"] = "public, max-age=3600" if name in ASSETS else "no-store"
    return response
