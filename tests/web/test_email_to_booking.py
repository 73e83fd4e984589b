"""From the invitation email to a cancelled interview, end to end with the real parts.

A participant is invited, the outbox delivers the scheduler email over SMTP to a real aiosmtpd
server, and the link in it is followed over HTTP to the running app: pick the first time, book,
reschedule, cancel, each through the pages' own forms. After each step the outbox is delivered
again and the email's calendar invite is checked: one UID for the interview's whole life, its
SEQUENCE going up, METHOD CANCEL at the end. On both databases.
"""

import email
import email.policy
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from html.parser import HTMLParser
from urllib.parse import urlsplit

import httpx
import pytest
from icalendar import Calendar, Event
from sqlalchemy import select

from bot.domain import Actor
from bot.integrations.email import SmtpTransport
from bot.jobs.deliverers import EmailDeliverer
from bot.jobs.outbox_worker import OutboxWorker
from bot.services import Services
from bot.services.invitations import parse_lines
from bot.services.notifications import when
from bot.web.views import parse_start
from storage.enums import ActivityKind, InterviewStatus, OutboxKind, OutboxStatus
from storage.models import ActivityEvent, Interview, OutboxItem, Study
from tests.conftest import ADA, CHANNEL, TEST_MAILER, WORKSPACE, MovableClock, Seed
from tests.support.smtp_servers import SmtpServer
from tests.web import interviews_of

PARTICIPANT = "pia@example.com"
ZONE = "America/New_York"


# ---------------------------------------------------------------- reading forms


@dataclass
class Form:
    method: str
    action: str
    fields: dict[str, str] = field(default_factory=dict)  # hidden inputs and textareas
    starts: list[str] = field(default_factory=list)  # the values of the slot buttons


class Forms(HTMLParser):
    """The forms of a page, as a browser would submit them."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self._open: Form | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {name: value or "" for name, value in attrs}
        if tag == "form":
            self._open = Form(a.get("method", "get").lower(), a.get("action", ""))
            self.forms.append(self._open)
        elif self._open is None:
            return
        elif tag == "input" and a.get("type") == "hidden":
            self._open.fields[a["name"]] = a.get("value", "")
        elif tag == "textarea":
            self._open.fields[a["name"]] = ""
        elif tag == "button" and a.get("name") == "start":
            self._open.starts.append(a.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._open = None

    def posting_to(self, path_end: str) -> Form:
        [form] = [f for f in self.forms if f.method == "post" and f.action.endswith(path_end)]
        return form


# ---------------------------------------------------------------- email


class Mailbox:
    """Delivers the outbox's emails over SMTP and hands out what arrived since the last look.

    Only emails: other kinds (Slack posts) have no deliverer here and wait for a later attempt.
    """

    def __init__(self, services: Services, clock: MovableClock, smtp: SmtpServer) -> None:
        transport = SmtpTransport(smtp.host, smtp.port, starttls=False, timeout=5)
        self.worker = OutboxWorker(
            services.db, clock, {OutboxKind.EMAIL: EmailDeliverer(transport)}
        )
        self.db = services.db
        self.smtp = smtp
        self.seen = 0

    def deliver(self, to: str) -> list[EmailMessage]:
        assert self.worker.drain().failed == 0
        with self.db.transaction() as session:
            unsent = session.scalars(
                select(OutboxItem.idempotency_key).where(
                    OutboxItem.kind == OutboxKind.EMAIL, OutboxItem.status != OutboxStatus.SENT
                )
            ).all()
        assert unsent == []
        new, self.seen = self.smtp.received[self.seen :], len(self.smtp.received)
        messages = [email.message_from_bytes(r.data, policy=email.policy.default) for r in new]
        return [m for m in messages if isinstance(m, EmailMessage) and to in m["To"]]


def text_of(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert isinstance(body, EmailMessage)
    return str(body.get_content())


def link_in(text: str, label: str, server_url: str) -> str:
    """The link after ``label`` in an email's text, moved from the mailer's base URL to ours."""
    match = re.search(rf"^{re.escape(label)}: (\S+)\r?$", text, re.MULTILINE)
    assert match, f"no {label!r} link in:\n{text}"
    url = match.group(1)
    assert url.startswith(TEST_MAILER.links.base_url + "/s/")
    return server_url + urlsplit(url).path


def invite_in(message: EmailMessage) -> tuple[Calendar, Event]:
    [part] = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    calendar = Calendar.from_ical(payload)
    [event] = calendar.walk("VEVENT")
    return calendar, event


def attendees(event: Event) -> dict[str, dict[str, str]]:
    """Each attendee's address with its parameters."""
    values = event.get("ATTENDEE")
    values = values if isinstance(values, list) else [values]
    return {str(v).lower(): dict(v.params) for v in values}


# ---------------------------------------------------------------- the journey


@pytest.fixture
def http(server_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30, follow_redirects=False) as client:
        yield client


def follow(http: httpx.Client, server_url: str, response: httpx.Response) -> httpx.Response:
    assert response.status_code == 303, response.text
    page = http.get(server_url + response.headers["location"])
    assert page.status_code == 200
    return page


def interview_row(services: Services, interview_id: int) -> Interview:
    with services.db.transaction() as session:
        interview = session.get(Interview, interview_id)
        assert interview is not None
        return interview


def test_from_the_invitation_email_to_booking_rescheduling_and_cancelling(
    services: Services,
    seeded: Seed,
    clock: MovableClock,
    smtp_server: SmtpServer,
    server_url: str,
    http: httpx.Client,
) -> None:
    with services.db.transaction() as session:
        # The first time offered lies exactly a day's notice ahead; with the default cutoff of a
        # day it could never be changed on the pages, so here changes close 12 hours before.
        study = session.get(Study, seeded.study_id)
        assert study is not None
        study.participant_change_cutoff_hours = 12
    mailbox = Mailbox(services, clock, smtp_server)
    people, bad = parse_lines(f"Pia Lund <{PARTICIPANT}>")
    invited = services.invitations.invite(
        actor=Actor.slack_user(WORKSPACE, ADA),
        people=people,
        bad_lines=bad,
        send_email=True,
        workspace_id=WORKSPACE,
        channel_id=CHANNEL,
    )
    assert (invited.added, invited.emailed, invited.bad_lines) == ((PARTICIPANT,), 1, ())

    # The scheduler email carries the personal link.
    [scheduler] = mailbox.deliver(PARTICIPANT)
    personal = link_in(text_of(scheduler), "Choose a time", server_url)
    token = urlsplit(personal).path.removeprefix("/s/")
    [participant] = [
        p for p in services.participants.list(seeded.study_id) if p.email == PARTICIPANT
    ]

    # The picker, in the zone the page's script would pick, and its first time booked.
    picker = http.get(personal, params={"tz": ZONE})
    assert picker.status_code == 200
    assert "Choose a time for your interview" in picker.text
    form = Forms(picker.text).posting_to("/book")
    assert form.fields == {"tz": ZONE} and form.starts
    first = parse_start(form.starts[0])
    assert first == services.portal.slots(token)[0].start
    booked = follow(
        http,
        server_url,
        http.post(server_url + form.action, data={**form.fields, "start": form.starts[0]}),
    )
    assert "You're booked" in booked.text

    [interview] = interviews_of(services, participant.id)
    assert (interview.starts_at, interview.status, interview.ical_sequence) == (
        first,
        InterviewStatus.UPCOMING,
        0,
    )
    duration = interview_row(services, interview.id).ends_at - first

    [confirmation] = mailbox.deliver(PARTICIPANT)
    assert f"When: {when(first, first + duration, ZONE)}" in text_of(confirmation)
    calendar, event = invite_in(confirmation)
    assert str(calendar["METHOD"]) == "REQUEST"
    assert str(event["UID"]) == interview.ical_uid
    assert int(event["SEQUENCE"]) == 0
    assert event.decoded("DTSTART") == first
    assert attendees(event)[f"mailto:{PARTICIPANT}"]["RSVP"] == "TRUE"

    # The confirmation's manage link, and a move to another time through its form.
    manage_url = link_in(text_of(confirmation), "Reschedule or cancel", server_url)
    manage = http.get(manage_url)
    assert manage.status_code == 200
    form = Forms(manage.text).posting_to("/reschedule")
    assert form.starts and form.starts[0] != form.starts[-1]
    later: datetime = parse_start(form.starts[-1])
    moved = http.post(
        server_url + form.action,
        data={**form.fields, "reason": "A clash at work", "start": form.starts[-1]},
    )
    assert "Your interview has moved" in follow(http, server_url, moved).text

    [rescheduled] = mailbox.deliver(PARTICIPANT)
    assert "Your Checkout redesign interview has moved" in text_of(rescheduled)
    calendar, event = invite_in(rescheduled)
    assert str(calendar["METHOD"]) == "REQUEST"
    assert (str(event["UID"]), int(event["SEQUENCE"])) == (interview.ical_uid, 1)
    assert event.decoded("DTSTART") == later
    assert attendees(event)[f"mailto:{PARTICIPANT}"]["RSVP"] == "TRUE"

    # Cancelling from the same page.
    form = Forms(http.get(manage_url).text).posting_to("/cancel")
    canceled = http.post(
        server_url + form.action, data={**form.fields, "reason": "Something came up"}
    )
    assert "Your interview is canceled" in follow(http, server_url, canceled).text

    [cancellation] = mailbox.deliver(PARTICIPANT)
    calendar, event = invite_in(cancellation)
    assert str(calendar["METHOD"]) == "CANCEL"
    assert (str(event["UID"]), int(event["SEQUENCE"])) == (interview.ical_uid, 2)
    assert event.decoded("DTSTART") == later
    assert "Reason: Something came up" in text_of(cancellation)

    [after] = interviews_of(services, participant.id)
    assert (after.id, after.status, after.starts_at) == (
        interview.id,
        InterviewStatus.CANCELED,
        later,
    )

    # The timeline: each change, each email once it was sent.
    with services.db.transaction() as session:
        events = session.scalars(
            select(ActivityEvent)
            .where(ActivityEvent.interview_id == interview.id)
            .order_by(ActivityEvent.id)
        ).all()
        timeline = [(e.kind, e.details.get("template")) for e in events]
        reasons = {
            e.kind: e.details.get("reason") for e in events if e.kind != ActivityKind.EMAIL_SENT
        }
    assert timeline == [
        (ActivityKind.BOOKED, None),
        (ActivityKind.EMAIL_SENT, "booking_confirmation"),
        (ActivityKind.RESCHEDULED, None),
        (ActivityKind.EMAIL_SENT, "reschedule_confirmation"),
        (ActivityKind.CANCELED, None),
        (ActivityKind.EMAIL_SENT, "cancellation"),
    ]
    assert reasons[ActivityKind.RESCHEDULED] == "A clash at work"
    assert reasons[ActivityKind.CANCELED] == "Something came up"
