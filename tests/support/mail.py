"""Reading what reached the test SMTP server: messages, their text, and their calendar invites."""

import email
import email.policy
from email.message import EmailMessage

from icalendar import Calendar, Event

from bot.settings import Settings
from tests.support.smtp_servers import SmtpServer


def with_smtp(settings: Settings, server: SmtpServer) -> Settings:
    """``settings`` with email going to ``server`` (plain SMTP on loopback)."""
    return settings.model_copy(update={"smtp_host": server.host, "smtp_port": server.port, "smtp_starttls": False})


def messages(server: SmtpServer, *, to: str | None = None) -> list[EmailMessage]:
    """Every message the server received (to ``to`` only, when given), oldest first."""
    parsed = [email.message_from_bytes(r.data, policy=email.policy.default) for r in server.received]
    found = [m for m in parsed if isinstance(m, EmailMessage)]
    return [m for m in found if to is None or to in str(m["To"])]


def text_of(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert isinstance(body, EmailMessage)
    return str(body.get_content())


def html_of(message: EmailMessage) -> str:
    body = message.get_body(("html",))
    assert isinstance(body, EmailMessage)
    return str(body.get_content())


def invite_in(message: EmailMessage) -> tuple[Calendar, Event]:
    """The message's text/calendar part, parsed: the calendar (METHOD) and its one event."""
    [part] = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    calendar = Calendar.from_ical(payload)
    [event] = calendar.walk("VEVENT")
    return calendar, event


def has_invite(message: EmailMessage) -> bool:
    return any(p.get_content_type() == "text/calendar" for p in message.walk())


def invite_attendees(event: Event) -> dict[str, dict[str, str]]:
    """Each attendee's address (lower-cased ``mailto:…``) with its parameters."""
    values = event.get("ATTENDEE")
    values = values if isinstance(values, list) else [values]
    return {str(v).lower(): dict(v.params) for v in values}
