"""Building and delivering emails, with the calendar invite inside when there is one.

Structure (RFC 6047): with an invite, ``multipart/mixed`` holding a ``multipart/alternative``
(text, HTML, ``text/calendar; method=...``) and the same calendar as ``invite.ics``, so calendar
clients show RSVP buttons and everyone else still has a file to open. Transports raise
``EmailDeliveryError`` whose ``temporary`` flag tells the outbox whether a retry can help.
"""

import os
import re
import smtplib
import ssl
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.header import decode_header, make_header
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from hashlib import sha256
from pathlib import Path
from typing import Protocol

from bot.integrations.ical import CalendarInvite, render_ics
from bot.settings import Settings


@dataclass(frozen=True)
class Mailbox:
    """A display name and an address, kept apart until the header is built: joined into one
    string earlier, a name such as 'Eve <eve@evil.example>' could become an address of its own."""

    name: str
    address: str

    def __str__(self) -> str:
        """For people to read (a CLI listing, a modal); never for a header."""
        return f"{self.name} <{self.address}>" if self.name else self.address

    def to_json(self) -> list[str]:
        """How the outbox stores it: ``[name, address]``."""
        return [self.name, self.address]

    @classmethod
    def from_json(cls, value: list[str] | str) -> "Mailbox":
        if isinstance(value, str):
            # Rows queued before mailboxes were stored as pairs hold email.utils.formataddr
            # strings, non-ASCII names as RFC 2047 encoded words: take them apart again.
            name, address = parseaddr(value)
            return cls(str(make_header(decode_header(name))), address)
        name, address = value
        return cls(name, address)


@dataclass(frozen=True)
class OutgoingEmail:
    to: tuple[Mailbox, ...]
    subject: str
    text: str
    html: str
    sender: Mailbox  # MAIL_FROM's address, e.g. with the name "Checkout redesign team"
    message_id: str  # stable across retries, e.g. "<outbox-42@interview-desk>"
    invite: CalendarInvite | None = None
    reply_to: Mailbox | None = None


class EmailDeliveryError(Exception):
    """Delivery failed; ``temporary`` says whether trying again later may succeed."""

    def __init__(self, message: str, *, temporary: bool) -> None:
        super().__init__(message)
        self.temporary = temporary


def build_message(email: OutgoingEmail, *, date: datetime | None = None) -> EmailMessage:
    """The MIME message for ``email``; ``date`` defaults to now. An address no header can hold
    raises a permanent ``EmailDeliveryError``."""
    if not email.to:
        raise ValueError("an email needs at least one recipient")
    message = EmailMessage(policy=policy.SMTP)  # the default policy, with SMTP's CRLF line ends
    message["From"] = header_address(email.sender)
    message["To"] = tuple(header_address(mailbox) for mailbox in email.to)
    message["Subject"] = email.subject
    message["Date"] = format_datetime((date or datetime.now(UTC)).astimezone(UTC))
    message["Message-ID"] = email.message_id
    if email.reply_to:
        message["Reply-To"] = header_address(email.reply_to)
    # Quoted-printable keeps non-ASCII text 7-bit clean for relays without 8BITMIME.
    message.set_content(email.text, cte="quoted-printable")
    message.add_alternative(email.html, subtype="html", cte="quoted-printable")
    if email.invite is not None:
        ics = render_ics(email.invite)  # bytes, so its CRLF line ends survive as they are
        calendar = {"method": email.invite.method, "charset": "utf-8"}
        message.add_alternative(
            ics, maintype="text", subtype="calendar", cte="base64", params=calendar
        )
        message.add_attachment(ics, maintype="application", subtype="ics", filename="invite.ics")
    for part in message.walk():
        if part is not message:  # the library repeats it on every part; only the top needs it
            del part["MIME-Version"]
    return message


def header_address(mailbox: Mailbox) -> Address:
    """The header's address object, which quotes or encodes the name so it stays a name."""
    name = " ".join(mailbox.name.split())  # a line break in a name is refused by Address
    try:
        return Address(display_name=name, addr_spec=mailbox.address)
    except (ValueError, IndexError) as exc:  # IndexError: an empty address
        raise EmailDeliveryError(f"{mailbox.address!r} cannot be an email address: {exc}", temporary=False) from exc


class Transport(Protocol):
    def send(self, message: EmailMessage) -> None: ...


class SmtpTransport:
    """Delivers through an SMTP relay (STARTTLS on request, AUTH when a username is set)."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = True,
        timeout: float = 30,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.starttls = starttls
        self.timeout = timeout
        self.ssl_context = ssl_context

    def send(self, message: EmailMessage) -> None:
        where = f"{self.host}:{self.port}"
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as client:
                if self.starttls:
                    client.starttls(context=self.ssl_context or ssl.create_default_context())
                if self.username:
                    client.login(self.username, self.password or "")
                refused = client.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            raise EmailDeliveryError(
                f"{where} refused every recipient: {_describe(exc.recipients)}",
                temporary=all(_is_temporary(code) for code in codes),
            ) from exc
        except smtplib.SMTPResponseException as exc:
            raise EmailDeliveryError(
                f"{where} answered {exc.smtp_code} {_text(exc.smtp_error)}".rstrip(),
                temporary=_is_temporary(exc.smtp_code),
            ) from exc
        except (smtplib.SMTPNotSupportedError, UnicodeEncodeError) as exc:
            # STARTTLS or AUTH asked for but not offered, or credentials or addresses smtplib
            # cannot send as ASCII: configuration or data problems that a retry will not fix.
            raise EmailDeliveryError(f"{where}: {exc}", temporary=False) from exc
        except (smtplib.SMTPException, OSError) as exc:
            # Refused or dropped connections, timeouts, TLS handshakes that broke off.
            raise EmailDeliveryError(
                f"cannot deliver through {where}: {exc or type(exc).__name__}", temporary=True
            ) from exc
        if refused:
            # Some recipients have the message already: a retry would send it to them twice.
            raise EmailDeliveryError(
                f"{where} refused some recipients: {_describe(refused)}", temporary=False
            )


def _is_temporary(code: int) -> bool:
    # 4xx is "try again later"; codes outside 4xx/5xx mean the conversation itself broke.
    return not 500 <= code < 600


def _text(reply: bytes | str) -> str:
    return reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)


def _describe(recipients: dict[str, tuple[int, bytes]]) -> str:
    return "; ".join(
        f"{address} ({code} {_text(reply)})" for address, (code, reply) in recipients.items()
    )


class FileTransport:
    """Writes each message to ``<directory>/<message-id>.eml``: the default without SMTP.

    The file name comes from the Message-ID, so delivering the same outbox row twice leaves one
    file; the write goes through a temporary file and ``os.replace`` so a reader never sees half.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def path_for(self, message_id: str) -> Path:
        return self.directory / f"{_file_stem(message_id)}.eml"

    def send(self, message: EmailMessage) -> None:
        message_id = message["Message-ID"]
        if not message_id:
            raise ValueError("a message needs a Message-ID to be written to the outbox")
        target = self.path_for(str(message_id))
        data = message.as_bytes(policy=policy.SMTP)
        temp_name = None
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(
                dir=self.directory, prefix=".", suffix=".tmp", delete=False
            ) as handle:
                temp_name = handle.name
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp_name, target)
        except OSError as exc:
            if temp_name is not None and os.path.exists(temp_name):
                os.unlink(temp_name)
            raise EmailDeliveryError(f"cannot write {target}: {exc}", temporary=True) from exc


def _file_stem(message_id: str) -> str:
    raw = message_id.strip().removeprefix("<").removesuffix(">")
    safe = re.sub(r"[^A-Za-z0-9._@+-]", "_", raw).lstrip(".")[:150]
    if safe != raw or not safe:
        # Two ids that differ only in replaced characters must not share a file.
        safe = f"{safe}-{sha256(raw.encode()).hexdigest()[:12]}".lstrip("-")
    return safe


def transport_from_settings(settings: Settings) -> Transport:
    """SMTP when ``SMTP_HOST`` is set, else ``.eml`` files in ``OUTBOX_DIR``."""
    if settings.smtp_host:
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        return SmtpTransport(
            settings.smtp_host,
            settings.smtp_port,
            username=settings.smtp_username,
            password=password,
            starttls=settings.smtp_starttls,
        )
    return FileTransport(settings.outbox_dir)
