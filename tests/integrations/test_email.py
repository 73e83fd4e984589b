"""Messages built for iMIP, delivered through a real SMTP server or into .eml files."""

import email
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.utils import formataddr
from pathlib import Path

import pytest
from icalendar import Calendar

from bot.integrations.email import (
    EmailDeliveryError,
    FileTransport,
    Mailbox,
    OutgoingEmail,
    SmtpTransport,
    build_message,
    transport_from_settings,
)
from bot.integrations.ical import render_ics
from bot.settings import Settings
from tests.integrations.samples import CANCEL, REQUEST, START, confirmation_email
from tests.support.smtp_servers import (
    HOST,
    PASSWORD,
    USERNAME,
    Certificate,
    RejectingHandler,
    SmtpServer,
    authenticator,
    free_port,
)

# The AUTH tests run without TLS on purpose; aiosmtpd warns about that on every connection.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


def parse(data: bytes) -> EmailMessage:
    message = email.message_from_bytes(data, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def structure(message: EmailMessage) -> list[str]:
    return [part.get_content_type() for part in message.walk()]


def calendar_part(message: EmailMessage) -> EmailMessage:
    (part,) = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    return part  # type: ignore[return-value]


def plain(server: SmtpServer, **options: object) -> SmtpTransport:
    return SmtpTransport(server.host, server.port, starttls=False, timeout=5, **options)  # type: ignore[arg-type]


# ------------------------------------------------------------------ building


def test_without_an_invite_the_message_is_text_and_html() -> None:
    message = build_message(confirmation_email(invite=None))
    assert structure(message) == ["multipart/alternative", "text/plain", "text/html"]


def test_with_an_invite_the_calendar_is_inline_and_attached() -> None:
    message = parse(build_message(confirmation_email()).as_bytes())

    assert structure(message) == [
        "multipart/mixed",
        "multipart/alternative", "text/plain", "text/html", "text/calendar",
        "application/ics",
    ]
    calendar = calendar_part(message)
    assert calendar.get_param("method") == "REQUEST"
    assert calendar.get_content_charset() == "utf-8"
    attachment = next(message.iter_attachments())
    assert attachment.get_filename() == "invite.ics"
    ics = render_ics(REQUEST)
    assert attachment.get_content() == ics
    assert calendar.get_payload(decode=True) == ics  # CRLF line ends kept
    assert sum(1 for _ in message.iter_attachments()) == 1


def test_headers() -> None:
    sent = datetime(2030, 3, 1, 9, 0, tzinfo=UTC)
    message = parse(build_message(confirmation_email(), date=sent).as_bytes())

    assert message["From"] == "Checkout redesign team <interviews@example.com>"
    assert message["To"] == "Zoë Ångström <zoe@example.com>"
    assert message["Subject"] == (
        "You're booked: Checkout redesign, Tue 5 March 2030, 10:00–10:45 (Europe/Berlin)"
    )
    assert message["Message-ID"] == "<outbox-42@interview-desk>"
    assert message["Date"].datetime == sent
    assert message["Reply-To"] == "Ada Lovelace <ada@example.com>"
    assert message["MIME-Version"] == "1.0"
    assert all(part["MIME-Version"] is None for part in message.walk() if part is not message)

    no_reply_to = build_message(replace(confirmation_email(), reply_to=None))
    assert "Reply-To" not in no_reply_to


@pytest.mark.parametrize("name", ["Nora <eve@evil.example> Quist ö", "Eve, eve@evil.example", 'Nora "Q" <x@y>'])
def test_a_name_with_address_characters_stays_a_name(name: str) -> None:
    mailbox = Mailbox(name, "nq@example.com")
    sender = Mailbox(f"{name} team", "interviews@example.com")
    message = parse(build_message(replace(confirmation_email(), to=(mailbox,), sender=sender, reply_to=mailbox)).as_bytes())

    expected = {"To": mailbox, "From": sender, "Reply-To": mailbox}
    for header, want in expected.items():
        assert [Mailbox(a.display_name, a.addr_spec) for a in message[header].addresses] == [want], header


def test_a_line_break_in_a_name_is_a_space() -> None:
    message = build_message(replace(confirmation_email(), to=(Mailbox("Nora\r\nBcc: eve@evil.example", "nq@example.com"),)))
    assert [(a.display_name, a.addr_spec) for a in message["To"].addresses] == [("Nora Bcc: eve@evil.example", "nq@example.com")]
    assert "Bcc" not in message


@pytest.mark.parametrize("address", ["", "not an address", "a@example.com, b@example.com"])
def test_an_address_no_header_can_hold_fails_for_good(address: str) -> None:
    with pytest.raises(EmailDeliveryError, match="cannot be an email address") as caught:
        build_message(replace(confirmation_email(), to=(Mailbox("Nora", address),)))
    assert caught.value.temporary is False


def test_a_mailbox_is_stored_as_a_name_address_pair() -> None:
    mailbox = Mailbox("Nora <eve@evil.example> Quist ö", "nq@example.com")
    assert mailbox.to_json() == ["Nora <eve@evil.example> Quist ö", "nq@example.com"]
    assert Mailbox.from_json(mailbox.to_json()) == mailbox


@pytest.mark.parametrize("name", ["Nora <eve@evil.example> Quist ö", "Quist, Nora", "Zoë Ångström", "Nora", ""])
def test_outbox_rows_queued_before_the_pairs_still_read(name: str) -> None:
    """Older rows hold email.utils.formataddr strings."""
    assert Mailbox.from_json(formataddr((name, "nq@example.com"))) == Mailbox(name, "nq@example.com")


def test_the_wire_format_is_seven_bit() -> None:
    raw = build_message(confirmation_email()).as_bytes()
    assert raw.isascii()  # non-ASCII travels encoded, so relays without 8BITMIME are fine
    assert b"=?utf-8?" in raw.split(b"\r\n\r\n", 1)[0]


# ------------------------------------------------------------------ SMTP


def test_a_confirmation_with_an_invite_arrives(smtp_server: SmtpServer) -> None:
    plain(smtp_server).send(build_message(confirmation_email()))

    (received,) = smtp_server.received
    assert received.mail_from == "interviews@example.com"
    assert received.rcpt_tos == ("zoe@example.com",)
    message = parse(received.data)
    assert message["Subject"].startswith("You're booked: Checkout redesign")
    assert message["To"] == "Zoë Ångström <zoe@example.com>"
    assert structure(message) == [
        "multipart/mixed",
        "multipart/alternative", "text/plain", "text/html", "text/calendar",
        "application/ics",
    ]
    text = message.get_body(preferencelist=("plain",))
    assert text is not None and "Hi Zoë Ångström," in text.get_content()
    body = message.get_body(preferencelist=("html",))
    assert body is not None and "Confirm attendance" in body.get_content()

    part = calendar_part(message)
    assert part.get_param("method") == "REQUEST"
    calendar = Calendar.from_ical(part.get_content())
    assert calendar["METHOD"] == "REQUEST"
    (event,) = calendar.events
    assert event["UID"] == REQUEST.uid
    assert event["SEQUENCE"] == 0
    assert event["DTSTART"].dt == START and event["DTSTART"].to_ical() == b"20300305T090000Z"
    assert event["ORGANIZER"] == "mailto:ada@example.com"
    attendees = {str(a): a.params for a in event["ATTENDEE"]}
    assert attendees["mailto:zoe@example.com"]["RSVP"] == "TRUE"
    assert attendees["mailto:zoe@example.com"]["PARTSTAT"] == "NEEDS-ACTION"
    assert attendees["mailto:zoe@example.com"]["CN"] == "Zoë Ångström"


def test_a_cancellation_arrives_with_the_same_uid(smtp_server: SmtpServer) -> None:
    cancel = replace(confirmation_email(CANCEL, "<outbox-43@interview-desk>"), subject="Cancelled")
    plain(smtp_server).send(build_message(cancel))

    part = calendar_part(parse(smtp_server.received[0].data))
    assert part.get_param("method") == "CANCEL"
    (event,) = Calendar.from_ical(part.get_content()).events
    assert event["STATUS"] == "CANCELLED"
    assert event["UID"] == REQUEST.uid
    assert event["SEQUENCE"] == 1


def test_login(auth_smtp_server: SmtpServer) -> None:
    plain(auth_smtp_server, username=USERNAME, password=PASSWORD).send(
        build_message(confirmation_email())
    )
    assert len(auth_smtp_server.received) == 1


def test_login_where_only_auth_login_is_offered(start_smtp: Callable[..., SmtpServer]) -> None:
    server = start_smtp(
        auth_required=True,
        auth_require_tls=False,
        authenticator=authenticator,
        auth_exclude_mechanism=["PLAIN"],
    )
    plain(server, username=USERNAME, password=PASSWORD).send(build_message(confirmation_email()))
    assert len(server.received) == 1


def test_a_wrong_password_is_permanent(auth_smtp_server: SmtpServer) -> None:
    transport = plain(auth_smtp_server, username=USERNAME, password="wrong")
    with pytest.raises(EmailDeliveryError, match="535") as caught:
        transport.send(build_message(confirmation_email()))
    assert caught.value.temporary is False
    assert auth_smtp_server.received == []


def test_no_login_where_one_is_required_is_permanent(auth_smtp_server: SmtpServer) -> None:
    with pytest.raises(EmailDeliveryError, match="530") as caught:
        plain(auth_smtp_server).send(build_message(confirmation_email()))
    assert caught.value.temporary is False


def test_451_is_temporary_and_a_retry_delivers_once(busy_smtp_server: SmtpServer) -> None:
    transport = plain(busy_smtp_server)
    message = build_message(confirmation_email())
    with pytest.raises(EmailDeliveryError, match="451") as caught:
        transport.send(message)
    assert caught.value.temporary is True
    assert busy_smtp_server.received == []

    transport.send(message)
    assert len(busy_smtp_server.received) == 1


def test_550_is_permanent(rejecting_smtp_server: SmtpServer) -> None:
    with pytest.raises(EmailDeliveryError, match="550 5.1.1") as caught:
        plain(rejecting_smtp_server).send(build_message(confirmation_email()))
    assert caught.value.temporary is False
    assert "zoe@example.com" in str(caught.value)
    assert rejecting_smtp_server.received == []


def test_a_partly_refused_message_is_not_retried(start_smtp: Callable[..., SmtpServer]) -> None:
    server = start_smtp(RejectingHandler(unknown=("gone@example.com",)))
    two = replace(confirmation_email(), to=(Mailbox("", "zoe@example.com"), Mailbox("", "gone@example.com")))
    with pytest.raises(EmailDeliveryError, match="gone@example.com") as caught:
        plain(server).send(build_message(two))
    assert caught.value.temporary is False  # Zoë has it: a retry would send it twice
    assert [r.rcpt_tos for r in server.received] == [("zoe@example.com",)]


def test_a_server_that_is_down_is_temporary() -> None:
    transport = SmtpTransport(HOST, free_port(), starttls=False, timeout=5)
    with pytest.raises(EmailDeliveryError, match="cannot deliver") as caught:
        transport.send(build_message(confirmation_email()))
    assert caught.value.temporary is True


def test_starttls_then_login(tls_smtp_server: SmtpServer, certificate: Certificate) -> None:
    transport = SmtpTransport(
        tls_smtp_server.host,
        tls_smtp_server.port,
        username=USERNAME,
        password=PASSWORD,
        timeout=5,
        ssl_context=certificate.client_context(),
    )
    transport.send(build_message(confirmation_email()))
    assert len(tls_smtp_server.received) == 1


def test_no_starttls_unless_asked(tls_smtp_server: SmtpServer) -> None:
    with pytest.raises(EmailDeliveryError, match="530") as caught:
        plain(tls_smtp_server).send(build_message(confirmation_email()))
    assert caught.value.temporary is False
    assert tls_smtp_server.received == []


def test_starttls_asked_but_not_offered_is_permanent(smtp_server: SmtpServer) -> None:
    transport = SmtpTransport(smtp_server.host, smtp_server.port, starttls=True, timeout=5)
    with pytest.raises(EmailDeliveryError, match="STARTTLS") as caught:
        transport.send(build_message(confirmation_email()))
    assert caught.value.temporary is False


# ------------------------------------------------------------------ files


def test_file_transport_writes_one_readable_file_per_message_id(tmp_path: Path) -> None:
    outbox = tmp_path / "outbox" / "mail"
    transport = FileTransport(outbox)
    message = build_message(confirmation_email())

    transport.send(message)
    transport.send(build_message(confirmation_email()))  # the same email, retried

    assert [p.name for p in outbox.iterdir()] == ["outbox-42@interview-desk.eml"]
    written = parse((outbox / "outbox-42@interview-desk.eml").read_bytes())
    assert written["Message-ID"] == "<outbox-42@interview-desk>"
    assert written["Subject"] == message["Subject"]
    assert Calendar.from_ical(calendar_part(written).get_content())["METHOD"] == "REQUEST"

    transport.send(build_message(confirmation_email(message_id="<outbox-43@interview-desk>")))
    assert sorted(p.name for p in outbox.iterdir()) == [
        "outbox-42@interview-desk.eml", "outbox-43@interview-desk.eml"
    ]


def test_file_names_stay_inside_the_outbox(tmp_path: Path) -> None:
    transport = FileTransport(tmp_path)
    for message_id in ("<../../etc/passwd@x>", "<a/b@x>", "<a_b@x>"):
        transport.send(build_message(confirmation_email(message_id=message_id)))

    names = sorted(p.name for p in tmp_path.iterdir())
    assert len(names) == 3  # "a/b" and "a_b" do not overwrite each other
    assert all("/" not in n and not n.startswith(".") and n.endswith(".eml") for n in names)


def test_file_transport_needs_a_message_id(tmp_path: Path) -> None:
    message = build_message(confirmation_email())
    del message["Message-ID"]
    with pytest.raises(ValueError, match="Message-ID"):
        FileTransport(tmp_path).send(message)


def test_a_file_that_cannot_be_written_is_a_delivery_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    with pytest.raises(EmailDeliveryError) as caught:
        FileTransport(blocker / "outbox").send(build_message(confirmation_email()))
    assert caught.value.temporary is True


# ------------------------------------------------------------------ settings


def test_transport_from_settings(tmp_path: Path) -> None:
    files = transport_from_settings(Settings(_env_file=None, smtp_host=None, outbox_dir=tmp_path))
    assert isinstance(files, FileTransport) and files.directory == tmp_path

    smtp = transport_from_settings(
        Settings(
            _env_file=None,
            smtp_host="mail.example.com",
            smtp_port=2525,
            smtp_username="desk",
            smtp_password="pw",
            smtp_starttls=False,
        )
    )
    assert isinstance(smtp, SmtpTransport)
    assert (smtp.host, smtp.port, smtp.username, smtp.password, smtp.starttls) == (
        "mail.example.com", 2525, "desk", "pw", False
    )


def test_the_outgoing_email_needs_a_recipient() -> None:
    with pytest.raises(ValueError, match="recipient"):
        build_message(replace(confirmation_email(), to=()))


def test_outgoing_email_is_a_plain_value() -> None:
    assert confirmation_email() == confirmation_email()
    assert isinstance(confirmation_email(), OutgoingEmail)
