"""The waitlist pages and the freed-time offers over real HTTP, on both databases.

From a cancel on the pages, through the ``slot_opened`` email on the real SMTP server, to the
link in it booking the freed time through the running server; two people racing for that time;
joining and leaving the list; every page's refusals; and the join button in headless Chromium.
"""

import html
import re
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import delete, select

from bot.composition import build_outbox_worker
from bot.domain import Actor
from bot.jobs.outbox_worker import OutboxWorker
from bot.services import Services
from bot.services.invitations import parse_lines
from bot.services.notifications import when
from bot.services.waitlist import unix
from bot.settings import Settings
from bot.web.views import start_value
from storage.enums import InterviewStatus, ParticipantStatus, StudyStatus
from storage.models import Participant, Study, StudyHost, TeamMember
from tests.conftest import ADA, BO, WORKSPACE, MovableClock, Seed, berlin
from tests.support.mail import messages, text_of, with_smtp
from tests.support.smtp_servers import SmtpServer
from tests.web import Link, interviews_at, interviews_of, link_for
from tests.web.test_browser import Watch, browser  # noqa: F401 (the Chromium fixture)
from tests.web.test_email_to_booking import Forms

BERLIN, NEW_YORK = "Europe/Berlin", "America/New_York"
FREED = berlin(7, 10)


# ---------------------------------------------------------------- set-up


@pytest.fixture
def settings(settings: Settings, smtp_server: SmtpServer) -> Settings:
    return with_smtp(settings, smtp_server)


@pytest.fixture
def worker(settings: Settings, services: Services) -> OutboxWorker:
    """The outbox as a server delivers it: emails to the real SMTP server, cards to the fake Slack."""
    return build_outbox_worker(settings, services)


@pytest.fixture
def single_host(services: Services, seeded: Seed) -> Seed:
    """The seeded study with Ada as its only host, so a freed time can be booked only once."""
    with services.db.transaction() as session:
        bo = select(TeamMember.id).where(TeamMember.slack_user_id == BO)
        session.execute(delete(StudyHost).where(StudyHost.study_id == seeded.study_id, StudyHost.member_id.in_(bo)))
    return seeded


@pytest.fixture
def http(server_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server_url, timeout=60, follow_redirects=False) as client:
        yield client


def invite(services: Services, study_id: int, *emails: str) -> list[Link]:
    people, bad = parse_lines("\n".join(emails))
    services.invitations.invite(actor=Actor.slack_user(WORKSPACE, ADA), people=people, bad_lines=bad,
                                send_email=True, study_ref=study_id)
    return [link_of(services, study_id, email) for email in emails]


def link_of(services: Services, study_id: int, email: str) -> Link:
    [participant] = [p for p in services.participants.list(study_id) if p.email == email]
    return link_for(services, participant.id)


def set_study(services: Services, study_id: int, **values: object) -> None:
    with services.db.transaction() as session:
        study = session.get(Study, study_id)
        assert study is not None
        for name, value in values.items():
            setattr(study, name, value)


def wants_openings_at(services: Services, link: Link) -> datetime | None:
    with services.db.transaction() as session:
        return session.scalars(select(Participant.wants_openings_at).where(Participant.id == link.participant_id)).one()


def offer_to(smtp: SmtpServer, address: str) -> EmailMessage:
    [offer] = [m for m in messages(smtp, to=address) if "A time opened up" in str(m["Subject"])]
    return offer


def path_of(message: EmailMessage, label: str) -> str:
    """The link after ``label`` in an email's text, as a path on our server."""
    match = re.search(rf"^{re.escape(label)}: (\S+?)\r?$", text_of(message), re.MULTILINE)
    assert match, text_of(message)
    url = urlsplit(match.group(1))
    return f"{url.path}?{url.query}" if url.query else url.path


def assert_private(response: httpx.Response) -> None:
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "default-src 'none'" in response.headers["content-security-policy"]


def h1(response: httpx.Response) -> str:
    match = re.search(r"<h1>(.*?)</h1>", response.text, re.DOTALL)
    assert match, response.text
    return html.unescape(match.group(1))


def live_at(services: Services, study_id: int, start: datetime) -> list[int]:
    """Participants per upcoming interview at ``start``."""
    return [i.participants for i in interviews_at(services, study_id, start) if i.status is InterviewStatus.UPCOMING]


# ---------------------------------------------------------------- from the email to a booking


def test_the_link_in_the_email_books_the_freed_time_and_the_next_click_finds_it_taken(
    services: Services, single_host: Seed, worker: OutboxWorker, smtp_server: SmtpServer, http: httpx.Client
) -> None:
    pia, quinn, vera = invite(services, single_host.study_id, "pia@example.com", "quinn@example.com", "vera@example.com")
    services.portal.book(vera.token, FREED, BERLIN)
    canceled = http.post(vera.page("cancel"), data={"reason": "Travelling"})
    assert canceled.status_code == 303
    assert worker.drain().failed == 0

    email = offer_to(smtp_server, "pia@example.com")
    link = path_of(email, "Book this time")
    assert link == f"{pia.page('opening')}?start={unix(FREED)}"
    page = http.get(link)
    assert page.status_code == 200 and h1(page) == "A time has opened"
    assert_private(page)
    end = FREED + timedelta(minutes=45)
    assert f'<dd class="when">{when(FREED, end, BERLIN)}</dd>' in page.text
    form = Forms(page.text).posting_to("/book")
    assert form.action == pia.page("book") and form.fields == {"tz": BERLIN}
    assert form.starts == [start_value(FREED)]

    booked = http.post(form.action, data={**form.fields, "start": form.starts[0]})
    assert booked.status_code == 303 and booked.headers["location"].startswith(pia.page("booked"))
    assert "You're booked" in http.get(booked.headers["location"]).text
    [interview] = interviews_of(services, pia.participant_id)
    assert (interview.starts_at, interview.status) == (FREED, InterviewStatus.UPCOMING)
    assert live_at(services, single_host.study_id, FREED) == [1]

    # Quinn's email offered the same time: her click now finds it taken, with the nearest times
    # and the waitlist; a post from a page she had open already gets the booking's own answer.
    late = http.get(path_of(offer_to(smtp_server, "quinn@example.com"), "Book this time"))
    assert late.status_code == 409 and h1(late) == "That time was just taken"
    nearest = Forms(late.text).posting_to("/book")
    assert len(nearest.starts) == 3 and all(s > start_value(FREED) for s in nearest.starts)
    assert Forms(late.text).posting_to("/waitlist/join").action == quinn.page("waitlist/join")
    too_late = http.post(quinn.page("book"), data={"tz": BERLIN, "start": start_value(FREED)})
    assert too_late.status_code == 409 and "That time was just taken" in too_late.text
    assert Forms(too_late.text).posting_to("/waitlist/join").action == quinn.page("waitlist/join")
    assert interviews_of(services, quinn.participant_id) == []


def test_two_people_racing_for_one_freed_time_book_it_once(
    services: Services, single_host: Seed, server_url: str
) -> None:
    people = invite(services, single_host.study_id, *[f"p{i}@example.com" for i in range(9)])
    for round_, start in enumerate([berlin(7, 10), berlin(7, 14), berlin(8, 11)]):
        canceler, *racers = people[round_ * 3: round_ * 3 + 3]
        services.portal.book(canceler.token, start, BERLIN)
        services.portal.cancel(canceler.token, None)
        ready = threading.Barrier(len(racers))

        def book(link: Link, start: datetime = start, ready: threading.Barrier = ready) -> httpx.Response:
            with httpx.Client(base_url=server_url, timeout=120) as client:
                assert client.get(f"{link.page('opening')}?start={unix(start)}").status_code == 200
                ready.wait()
                return client.post(link.page("book"), data={"tz": BERLIN, "start": start_value(start)})

        with ThreadPoolExecutor(len(racers)) as pool:
            responses = list(pool.map(book, racers))

        assert sorted(r.status_code for r in responses) == [303, 409]
        [lost] = [r for r in responses if r.status_code == 409]
        assert "That time was just taken" in lost.text
        assert live_at(services, single_host.study_id, start) == [1]
        [winner] = [link for link, r in zip(racers, responses, strict=True) if r.status_code == 303]
        assert [i.starts_at for i in interviews_of(services, winner.participant_id)] == [start]


# ---------------------------------------------------------------- joining and leaving


def test_join_from_the_empty_picker_then_leave(
    services: Services, seeded: Seed, clock: MovableClock, http: httpx.Client
) -> None:
    nora = link_of(services, seeded.study_id, "nora@example.com")
    set_study(services, seeded.study_id, availability=[])
    empty = http.get(nora.path)
    assert empty.status_code == 200 and "No times are open right now." in empty.text
    join = Forms(empty.text).posting_to("/waitlist/join")
    assert join.action == nora.page("waitlist/join")
    assert "Tell me when a time opens" in empty.text

    joined = http.post(join.action, data=join.fields)
    assert joined.status_code == 303 and joined.headers["location"] == nora.page("waitlist")
    assert_private(joined)
    listed = http.get(joined.headers["location"])
    assert listed.status_code == 200 and h1(listed) == "You're on the list"
    assert "We'll email you as soon as a time opens." in listed.text
    assert_private(listed)
    asked = wants_openings_at(services, nora)
    assert asked == clock()

    clock.advance(hours=2)
    assert http.post(join.action).status_code == 303  # again: the first ask's place is kept
    assert wants_openings_at(services, nora) == asked

    leave = Forms(listed.text).posting_to("/waitlist/leave")
    left = http.post(leave.action, data=leave.fields)
    assert left.status_code == 303 and left.headers["location"] == f"{nora.page('waitlist')}?left=1"
    off = http.get(left.headers["location"])
    assert off.status_code == 200 and h1(off) == "You're not on the list"
    assert "Done — we won't email you when a time opens." in off.text
    assert Forms(off.text).posting_to("/waitlist/join").action == nora.page("waitlist/join")
    assert wants_openings_at(services, nora) is None

    assert http.post(join.action, json={}).status_code == 415  # only our own form
    assert wants_openings_at(services, nora) is None


def test_the_waitlist_refuses_what_it_cannot_do(
    services: Services, seeded: Seed, http: httpx.Client
) -> None:
    nora = link_of(services, seeded.study_id, "nora@example.com")
    otto = link_of(services, seeded.study_id, "otto@example.com")
    for token in ("not-a-token", nora.token[:-1] + ("A" if nora.token[-1] != "A" else "B")):
        for method, page in [("GET", "/waitlist"), ("POST", "/waitlist/join"), ("POST", "/waitlist/leave"),
                             ("GET", f"/opening?start={unix(FREED)}")]:
            response = http.request(method, f"/s/{token}{page}")
            assert response.status_code == 404 and "This link is not valid" in response.text, (method, page)
            assert "Checkout redesign" not in response.text
            assert_private(response)

    # Booked: nothing to wait for, and the way to the booking.
    services.portal.book(nora.token, FREED, BERLIN)
    refused = http.post(nora.page("waitlist/join"))
    assert refused.status_code == 409 and "already have an interview booked" in refused.text
    assert f'href="{nora.page("manage")}"' in refused.text
    assert h1(http.get(nora.page("waitlist"))) == "You have an interview booked"
    assert wants_openings_at(services, nora) is None
    # Moving a booking to a taken time is no reason to join: that page has no waitlist form.
    services.portal.book(otto.token, berlin(8, 10), BERLIN)
    moved = http.post(nora.page("reschedule"), data={"tz": BERLIN, "start": start_value(berlin(8, 10))})
    assert moved.status_code == 409 and "/waitlist/join" not in moved.text

    # Screened out.
    services.portal.cancel(otto.token, None)
    with services.db.transaction() as session:
        session.get(Participant, otto.participant_id).status = ParticipantStatus.NOT_QUALIFIED  # type: ignore[union-attr]
    not_qualified = http.post(otto.page("waitlist/join"))
    assert not_qualified.status_code == 403 and "looking for a different profile" in not_qualified.text
    assert wants_openings_at(services, otto) is None

    # Closed.
    set_study(services, seeded.study_id, status=StudyStatus.CLOSED)
    for response in (http.post(otto.page("waitlist/join")), http.get(otto.page("waitlist")),
                     http.get(f"{otto.page('opening')}?start={unix(FREED)}")):
        assert response.status_code == 403 and "This study is closed" in response.text
        assert_private(response)
    assert http.post(otto.page("waitlist/leave")).status_code == 303  # leaving is always possible


def test_the_offer_page_checks_the_time_and_the_person(
    services: Services, seeded: Seed, http: httpx.Client
) -> None:
    nora = link_of(services, seeded.study_id, "nora@example.com")
    otto = link_of(services, seeded.study_id, "otto@example.com")
    for start in ("", "soon", "1e9", "-1", "²", "9" * 13, "9" * 12):  # the last: past year 9999
        response = http.get(nora.page("opening"), params={"start": start})
        assert response.status_code == 400 and "could not be read" in response.text, start
    assert http.get(nora.page("opening")).status_code == 400

    # A Saturday: never offered. The nearest open times instead, in the zone asked for.
    saturday = berlin(9, 10)
    gone = http.get(nora.page("opening"), params={"start": unix(saturday), "tz": NEW_YORK})
    assert gone.status_code == 409 and h1(gone) == "That time was just taken"
    assert Forms(gone.text).posting_to("/book").starts == [
        start_value(s.start) for s in services.portal.slots(nora.token) if s.start >= saturday
    ][:3]
    assert f'<strong class="zone-name">{NEW_YORK}</strong>' in gone.text

    # In the participant's chosen zone, which the zone form keeps along with the time.
    shown = http.get(nora.page("opening"), params={"start": unix(FREED), "tz": NEW_YORK})
    assert shown.status_code == 200
    assert when(FREED, FREED + timedelta(minutes=45), NEW_YORK) in shown.text
    assert f'<input type="hidden" name="start" value="{unix(FREED)}">' in shown.text
    assert Forms(shown.text).posting_to("/book").fields == {"tz": NEW_YORK}

    services.portal.book(nora.token, FREED, BERLIN)
    again = http.get(nora.page("opening"), params={"start": unix(FREED)})  # booked from it already
    assert again.status_code == 303 and again.headers["location"] == nora.page("booked")
    services.portal.book(otto.token, berlin(8, 10), BERLIN)
    elsewhere = http.get(otto.page("opening"), params={"start": unix(berlin(8, 14))})
    assert elsewhere.status_code == 409 and "already have an interview booked" in elsewhere.text


# ---------------------------------------------------------------- in the browser


def test_joining_from_the_taken_page_in_chromium(
    browser: Any, services: Services, single_host: Seed, server_url: str  # noqa: F811
) -> None:
    pia, quinn, vera = invite(services, single_host.study_id, "pia@example.com", "quinn@example.com", "vera@example.com")
    services.portal.book(vera.token, FREED, BERLIN)
    services.portal.cancel(vera.token, None)
    services.portal.book(quinn.token, FREED, BERLIN)  # Quinn was quicker
    context = browser.new_context(timezone_id=BERLIN, locale="en-GB")
    page = context.new_page()
    watch = Watch(page, server_url)
    try:
        page.goto(f"{server_url}{pia.page('opening')}?start={unix(FREED)}")
        assert page.locator("h1").inner_text() == "That time was just taken"
        page.get_by_role("button", name="Tell me when a time opens").click()

        page.wait_for_url(f"**{pia.page('waitlist')}")
        assert page.locator("h1").inner_text() == "You're on the list"
        assert wants_openings_at(services, pia) is not None
        # The taken page answers 409 by design; nothing else failed, nothing left our origin.
        assert [e for e in watch.errors if "409" not in e] == [] and watch.elsewhere == []
    finally:
        context.close()
