"""Email bodies from Jinja2 templates in ``bot/templates/email/``.

Each email is three templates: ``<name>.subject.txt.j2``, ``<name>.txt.j2`` and
``<name>.html.j2``. Only the HTML part is autoescaped, so a participant's name reaches the text
part verbatim and cannot inject markup into the HTML part. Undefined variables raise, so a
missing value fails in tests instead of leaving a blank in someone's inbox; optional values are
tested with ``is given`` (present and not empty).
"""

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, Undefined, select_autoescape


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def _is_given(value: object) -> bool:
    return not isinstance(value, Undefined) and value is not None and value != ""


def _is_web_url(value: object) -> bool:
    # Only http(s) links become buttons; anything else is shown as text, never as an href.
    return isinstance(value, str) and value.lower().startswith(("https://", "http://"))


@cache
def environment() -> Environment:
    """The one Jinja2 environment over ``bot/templates``, built on first use."""
    env = Environment(
        loader=PackageLoader("bot", "templates"),
        autoescape=select_autoescape(
            enabled_extensions=("html", "html.j2"), default_for_string=False, default=False
        ),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        # The templates ship with the package and never change while it runs: no stat of the
        # file on every render.
        auto_reload=False,
    )
    env.tests["given"] = _is_given
    env.tests["web_url"] = _is_web_url
    return env


def render_email(name: str, /, **context: Any) -> RenderedEmail:
    """Render the subject, text and HTML parts of ``email/<name>``."""
    env = environment()
    subject = env.get_template(f"email/{name}.subject.txt.j2").render(context)
    text = env.get_template(f"email/{name}.txt.j2").render(context)
    html = env.get_template(f"email/{name}.html.j2").render(context, subject=_one_line(subject))
    return RenderedEmail(subject=_one_line(subject), text=_tidy(text), html=html)


def _one_line(value: str) -> str:
    # A header is one line: a newline in a study or participant name must not end up in it.
    return " ".join(value.split())


def _tidy(text: str) -> str:
    # Optional paragraphs leave runs of blank lines behind; keep one.
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"
