"""HTTP plumbing shared by the participant pages: rendering, headers, bounded form reading.

The token is in every URL, so every response tells the browser not to store the page and not
to send the URL on as a referrer; the content security policy allows nothing from another
origin and no inline script, so an escaped value that slipped through could still not run.
"""

from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from bot.integrations.templates import environment
from bot.services.errors import Conflict, DomainError, InvalidInput, NotAllowed, NotFound

MAX_FORM_BYTES = 32 * 1024  # a 1,000-character reason, percent-encoded, fits several times over
MAX_FORM_FIELDS = 20

SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; "
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
}

# Defaults for what the layout reads, so a page passes only what it shows.
_LAYOUT = {"header": None, "zone": None, "zone_chosen": True, "zone_form": None}


class RequestProblem(InvalidInput):
    """A request the pages cannot read at all, with its own status (413, 415)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def secured(response: Response) -> Response:
    response.headers.update(SECURITY_HEADERS)
    return response


def render(template: str, *, status: int = 200, **context: Any) -> Response:
    html = environment().get_template(f"pages/{template}.html.j2").render({**_LAYOUT, **context})
    return secured(HTMLResponse(html, status_code=status))


def redirect(path: str, **query: str) -> Response:
    """A 303 after a POST, so reloading the next page never repeats the action."""
    target = f"{path}?{urlencode(query)}" if query else path
    return secured(RedirectResponse(target, status_code=303))


def link(token: str, page: str = "") -> str:
    """The path of one of a participant's pages, e.g. ``link(token, "manage")``."""
    base = f"/s/{quote(token, safe='')}"
    return f"{base}/{page}" if page else base


def status_for(error: DomainError) -> int:
    if isinstance(error, RequestProblem):
        return error.status
    if isinstance(error, NotFound):
        return 404
    if isinstance(error, NotAllowed):
        return 403
    if isinstance(error, Conflict):
        return 409
    return 400


async def read_form(request: Request) -> dict[str, str]:
    """The posted form's fields (first value of each), read to at most ``MAX_FORM_BYTES``.

    Browsers post these forms URL-encoded; anything else is refused rather than parsed, and
    the body is read in chunks so an endless upload is cut off, not buffered. A post with no
    body at all (a cancel without a reason, from a client that sends no type) is an empty form.
    """
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in ("application/x-www-form-urlencoded", ""):
        raise RequestProblem("This page only accepts its own form.", 415)
    too_large = RequestProblem("That form was too large. Please keep the reason short.", 413)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_FORM_BYTES:
        raise too_large
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise too_large
    if kind == "" and body:  # an empty post needs no type; anything else must say it is a form
        raise RequestProblem("This page only accepts its own form.", 415)
    try:
        pairs = parse_qsl(
            body.decode("utf-8"),
            keep_blank_values=True,
            strict_parsing=False,
            max_num_fields=MAX_FORM_FIELDS,
        )
    except (UnicodeDecodeError, ValueError):
        raise InvalidInput("That form could not be read. Please try again from the page.") from None
    form: dict[str, str] = {}
    for name, value in pairs:
        form.setdefault(name, value)
    return form
