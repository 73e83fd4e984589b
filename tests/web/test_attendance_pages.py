"""The Confirm attendance and Yes / Maybe / No pages over real HTTP and in headless Chromium.

A GET only asks (email link scanners fetch every link); the page's form posts the answer, and
in a real browser its script does that at once, so one click in the email is enough. The links
are taken from the emails the real SMTP server received; what the team sees arrives at the fake
Slack API when the outbox worker runs. On both databases.
"""

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import select

from bot.composition import build_outbox_worker
from bot.domain import Actor
from bot.jobs.outbox_worker import OutboxWorker
from bot.services import Services
from bot.services.notifications import when
from bot.settings import Settings
from bot.web.attendance import AUTO_SUBMIT_PATH
from bot.web.responses import SECURITY_HEADERS
from storage.db import Database
from storage.enums import ActivityKind, AttendeeRole, InviteStatus
from storage.models import ActivityEvent, Attendee, Interview, OutboxItem, Participant
from tests.conftest import ADA, CHANNEL, CLI, WORKSPACE, MovableClock, Seed, berlin
from tests.support.fake_slack import FakeSlackAPI
from tests.support.mail import html_of, messages, text_of, with_smtp
from tests.support.smtp_servers import SmtpServer
from tests.web.test_browser import CHROMIUM, CHROMIUM_ARGS, Watch

START = berlin(8, 10)
NORA = "nora@example.com"


# ---------------------------------------------------------------- reading pages


@dataclass
class AnswerPage:
    """What a participant sees and what their browser would post."""

    h1: str = ""
    lead: str = ""
    when: str = ""
    form_action: str | None = None
    fields: dict[str, str] = field(default_factory=dict)
    button: str = ""
    auto_submit: bool = False
    scripts: list[str] = field(default_factory=list)
    links: dict[str, str] = field(default_factory=dict)  # label -> href, inside <main>

    @classmethod
    def of(cls, html: str) -> "AnswerPage":
        page = cls()
        _Reader(page).feed(html)
        return page


class _Reader(HTMLParser):
    """Text is collected by what encloses it: the h1, the lead paragraph, the time, the button, a link."""

    VOID = frozenset({"input", "br", "meta", "link", "img"})

    def __init__(self, page: AnswerPage) -> None:
        super().__init__()
        self.page = page
        self.open: list[tuple[str, list[str], dict[str, str]]] = []
        self.link_text = ""

    def _inside(self, tag: str = "", css: str = "") -> dict[str, str] | None:
        for name, classes, attrs in reversed(self.open):
            if (not tag or name == tag) and (not css or css in classes):
                return attrs
        return None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {name: value or "" for name, value in attrs}
        if tag == "form" and a.get("method") == "post":
            self.page.form_action = a["action"]
            self.page.auto_submit = "data-auto-submit" in a
        elif tag == "input" and a.get("type") == "hidden":
            self.page.fields[a["name"]] = a.get("value", "")
        elif tag == "script" and a.get("src"):
            self.page.scripts.append(a["src"])
        if tag not in self.VOID:
            self.open.append((tag, a.get("class", "").split(), a))

    def handle_endtag(self, tag: str) -> None:
        link = self._inside("a")
        if tag == "a" and link is not None:
            if self._inside("main") is not None:  # the page's own links, not the skip link
                self.page.links[self.link_text.strip()] = link["href"]
            self.link_text = ""
        while self.open:
            if self.open.pop()[0] == tag:
                break

    def handle_data(self, data: str) -> None:
        if self._inside("h1") is not None:
            self.page.h1 += data
        if self._inside("p", "lead") is not None:
            self.page.lead += data
        if self._inside(css="when") is not None:
            self.page.when += data
        if self._inside("button") is not None:
            self.page.button += data
        if self._inside("a") is not None:
            self.link_text += data


def visible(html: str) -> str:
    """The main part's words, as read: inline tags leave no gap, blocks do."""
    main = html.split("<main", 1)[1].split(">", 1)[1].split("</main>", 1)[0]
    inline = re.sub(r"</?(strong|s|a|em)\b[^>]*>", "", main)
    return " ".join(re.sub(r"<[^>]+>", " ", inline).split())


# ---------------------------------------------------------------- fixtures


@pytest.fixture
def settings(settings: Settings, smtp_server: SmtpServer) -> Settings:
    return with_smtp(settings, smtp_server)


@pytest.fixture
def worker(settings: Settings, services: Services) -> OutboxWorker:
    """What the server's tick does: deliver the queued emails (SMTP) and channel posts (Slack)."""
    return build_outbox_worker(settings, services)


@pytest.fixture
def http(server_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server_url, timeout=30, follow_redirects=False) as client:
        yield client


@dataclass(frozen=True)
class Booked:
    interview_id: int
    links: dict[str, str]  # "Confirm attendance", "Yes", "Maybe", "No", "Reschedule or cancel": path?query

    @property
    def token(self) -> str:
        return self.links["Reschedule or cancel"].split("/")[2]


def email_links(message_text: str) -> dict[str, str]:
    """Each "Label: link" line of an email's text part, as the path and query on our server."""
    found = re.findall(r"^([A-Z][\w ]*): (http://participants\.test/\S+?)\r?$", message_text, re.MULTILINE)
    return {label: urlsplit(url).path + (f"?{urlsplit(url).query}" if urlsplit(url).query else "") for label, url in found}


def book(services: Services, seed: Seed, worker: OutboxWorker, smtp: SmtpServer, email: str = NORA, start: datetime = START) -> Booked:
    """Book, and deliver the confirmation email and the card as the app's tick would."""
    interview_id = services.booking.book(
        study_ref=seed.study_id, participant_email=email, starts_at=start, host_id=ADA, actor=CLI,
    ).interview_id
    assert worker.drain().failed == 0
    [confirmation] = [m for m in messages(smtp, to=email) if "You're booked" in str(m["Subject"])]
    return Booked(interview_id, email_links(text_of(confirmation)))


@pytest.fixture
def nora(services: Services, seeded: Seed, worker: OutboxWorker, smtp_server: SmtpServer, fake_slack: FakeSlackAPI) -> Booked:
    booked = book(services, seeded, worker, smtp_server)
    fake_slack.reset()  # what follows is what the answers caused
    return booked


def seat(db: Database, interview_id: int) -> tuple[InviteStatus, bool]:
    with db.transaction() as session:
        attendee = session.scalars(select(Attendee).where(
            Attendee.interview_id == interview_id, Attendee.role == AttendeeRole.PARTICIPANT,
        )).one()
        return attendee.invite_status, attendee.attendance_confirmed_at is not None


def answers_recorded(db: Database, interview_id: int) -> list[tuple[ActivityKind, dict[str, Any]]]:
    kinds = (ActivityKind.RSVP_CHANGED, ActivityKind.ATTENDANCE_CONFIRMED)
    with db.transaction() as session:
        return [(e.kind, e.details) for e in session.scalars(
            select(ActivityEvent).where(ActivityEvent.interview_id == interview_id, ActivityEvent.kind.in_(kinds))
            .order_by(ActivityEvent.id)
        )]


def outbox_size(db: Database) -> int:
    with db.transaction() as session:
        return len(session.scalars(select(OutboxItem.id)).all())


def assert_secured(response: httpx.Response) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value, name


def nothing_changed(db: Database, interview_id: int, outbox_before: int) -> None:
    assert seat(db, interview_id) == (InviteStatus.AWAITING, False)
    assert answers_recorded(db, interview_id) == []
    assert outbox_size(db) == outbox_before


def post_form(http: httpx.Client, page: AnswerPage, **override: str) -> httpx.Response:
    assert page.form_action is not None
    return http.post(page.form_action, data={**page.fields, **override})


def at(moment: datetime) -> str:
    return str(int(moment.timestamp()))


def nora_when(zone: str = "Europe/Berlin", start: datetime = START) -> str:
    return when(start, start + timedelta(minutes=45), zone)


# ---------------------------------------------------------------- a GET only asks


def test_the_confirm_link_asks_and_a_get_alone_changes_nothing(nora: Booked, db: Database, http: httpx.Client) -> None:
    before = outbox_size(db)
    response = http.get(nora.links["Confirm attendance"])

    assert response.status_code == 200
    assert_secured(response)
    page = AnswerPage.of(response.text)
    assert page.h1 == "Confirm your attendance"
    assert page.when == nora_when()  # the participant's zone, named
    assert page.form_action == f"/s/{nora.token}/attend/{nora.interview_id}"  # the same address, posted
    assert page.fields == {"at": at(START)} and page.button == "Confirm attendance"
    assert page.auto_submit and AUTO_SUBMIT_PATH in page.scripts
    # Fetched again, as scanners do: still only a question.
    assert http.get(nora.links["Confirm attendance"]).status_code == 200
    nothing_changed(db, nora.interview_id, before)


def test_times_are_shown_in_the_zone_the_participant_chose(
    services: Services, seeded: Seed, db: Database, http: httpx.Client, worker: OutboxWorker, smtp_server: SmtpServer,
) -> None:
    with db.transaction() as session:
        session.scalars(select(Participant).where(Participant.email == "otto@example.com")).one().timezone = "America/New_York"
    otto = book(services, seeded, worker, smtp_server, "otto@example.com")
    page = AnswerPage.of(http.get(otto.links["Maybe"]).text)
    assert page.when == nora_when("America/New_York") and page.when.endswith("(America/New_York)")


def test_the_answer_script_is_served_like_the_other_assets(http: httpx.Client) -> None:
    response = http.get(AUTO_SUBMIT_PATH)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.headers["content-security-policy"] == SECURITY_HEADERS["Content-Security-Policy"]
    assert "requestSubmit" in response.text and "data-auto-submit" in response.text


# ---------------------------------------------------------------- answering


def test_confirming_posts_then_thanks_and_a_repeat_changes_nothing(
    nora: Booked, db: Database, http: httpx.Client,
) -> None:
    page = AnswerPage.of(http.get(nora.links["Confirm attendance"]).text)

    posted = post_form(http, page)

    assert posted.status_code == 303
    assert_secured(posted)
    assert posted.headers["location"] == f"/s/{nora.token}/attend/{nora.interview_id}?at={at(START)}"
    thanks = http.get(posted.headers["location"])
    assert thanks.status_code == 200
    assert_secured(thanks)
    shown = AnswerPage.of(thanks.text)
    assert shown.h1 == "Thank you" and shown.lead == f"You're confirmed ✓✓ for {nora_when()}."
    assert shown.form_action is None and shown.scripts == ["/s/assets/pages.js"]  # nothing left to send
    assert shown.links["Reschedule or cancel"] == f"/s/{nora.token}/manage"
    assert seat(db, nora.interview_id) == (InviteStatus.ACCEPTED, True)

    # The same click again (a reload, a second tap): the same thanks, nothing recorded twice.
    before = outbox_size(db)
    assert post_form(http, page).status_code == 303
    assert AnswerPage.of(http.get(nora.links["Confirm attendance"]).text).h1 == "Thank you"
    assert answers_recorded(db, nora.interview_id) == [(ActivityKind.ATTENDANCE_CONFIRMED, {"attendee": "Nora Quist"})]
    assert outbox_size(db) == before


@pytest.mark.parametrize(("label", "status", "button", "thanks"), [
    ("Yes", InviteStatus.ACCEPTED, "Yes, I'll be there", "Thanks — see you then ✓"),
    ("Maybe", InviteStatus.TENTATIVE, "Maybe — I'm not sure yet", "Thanks — we've noted a maybe"),
    ("No", InviteStatus.DECLINED, "No, I can't make it", "Thanks — we've told the team you can't make it"),
])
def test_each_answer_asks_once_then_is_taken(
    nora: Booked, db: Database, http: httpx.Client, label: str, status: InviteStatus, button: str, thanks: str,
) -> None:
    before = outbox_size(db)
    asked = AnswerPage.of(http.get(nora.links[label]).text)
    assert asked.button == button and asked.when == nora_when() and asked.auto_submit
    nothing_changed(db, nora.interview_id, before)

    posted = post_form(http, asked)
    page = http.get(posted.headers["location"])

    assert (posted.status_code, page.status_code) == (303, 200)
    shown = AnswerPage.of(page.text)
    assert shown.h1 == thanks and nora_when() in shown.lead
    assert seat(db, nora.interview_id) == (status, False)
    assert answers_recorded(db, nora.interview_id) == [
        (ActivityKind.RSVP_CHANGED, {"attendee": "Nora Quist", "status": status.value}),
    ]
    # A second post of the same answer records nothing more.
    assert post_form(http, asked).status_code == 303
    assert len(answers_recorded(db, nora.interview_id)) == 1


def test_after_a_no_the_page_offers_another_time_and_after_a_maybe_the_other_answers(
    nora: Booked, http: httpx.Client,
) -> None:
    declined = AnswerPage.of(http.get(post_form(http, AnswerPage.of(http.get(nora.links["No"]).text)).headers["location"]).text)
    assert declined.links["Reschedule or cancel"] == f"/s/{nora.token}/manage"

    maybe = AnswerPage.of(http.get(post_form(http, AnswerPage.of(http.get(nora.links["Maybe"]).text)).headers["location"]).text)
    assert maybe.links["Yes, I'll be there"] == nora.links["Yes"]
    assert maybe.links["No, I can't make it"] == nora.links["No"]


# ---------------------------------------------------------------- refusals


def test_a_link_that_is_not_valid_says_so_and_changes_nothing(
    services: Services, seeded: Seed, nora: Booked, db: Database, http: httpx.Client, worker: OutboxWorker,
    smtp_server: SmtpServer,
) -> None:
    otto = book(services, seeded, worker, smtp_server, "otto@example.com", berlin(8, 14))
    before = outbox_size(db)
    wrong = [
        f"/s/not-a-token/attend/{nora.interview_id}",
        f"/s/{nora.token}/attend/{otto.interview_id}",  # Otto's interview on Nora's link
        f"/s/{otto.token}/rsvp/{nora.interview_id}/yes",
        f"/s/{nora.token}/attend/999999",
        f"/s/{nora.token}/attend/first",
        f"/s/{nora.token}/rsvp/{nora.interview_id}/perhaps",
    ]
    for path in wrong:
        for response in (http.get(path), http.post(path, data={"at": at(START)})):
            assert response.status_code == 404, path
            assert_secured(response)
            assert AnswerPage.of(response.text).h1 == "This link is not valid"
            assert "Please use the latest link the research team sent you." in response.text
    nothing_changed(db, nora.interview_id, before)
    nothing_changed(db, otto.interview_id, before)


def test_a_canceled_interview_is_gone_with_the_way_to_book_again(
    services: Services, nora: Booked, db: Database, http: httpx.Client,
) -> None:
    page = AnswerPage.of(http.get(nora.links["Confirm attendance"]).text)
    services.outcomes.cancel(nora.interview_id, Actor.slack_user(WORKSPACE, ADA))
    before = outbox_size(db)

    for response in (http.get(nora.links["Yes"]), post_form(http, page)):
        assert response.status_code == 410
        assert_secured(response)
        shown = AnswerPage.of(response.text)
        assert shown.h1 == "This interview was canceled"
        assert shown.links == {"Choose a new time": f"/s/{nora.token}"}
    assert answers_recorded(db, nora.interview_id) == [] and outbox_size(db) == before


def test_a_past_interview_is_over(nora: Booked, db: Database, http: httpx.Client, clock: MovableClock) -> None:
    page = AnswerPage.of(http.get(nora.links["No"]).text)
    clock.now = START + timedelta(hours=3)
    before = outbox_size(db)
    for response in (http.get(nora.links["Confirm attendance"]), post_form(http, page)):
        assert response.status_code == 410
        assert AnswerPage.of(response.text).h1 == "This interview is over"
        assert "already taken place" in response.text
    nothing_changed(db, nora.interview_id, before)


def test_an_interview_moved_since_the_email_is_asked_about_at_its_new_time(
    services: Services, nora: Booked, db: Database, http: httpx.Client,
) -> None:
    old_page = AnswerPage.of(http.get(nora.links["Confirm attendance"]).text)
    later = berlin(7, 14)
    services.changes.reschedule(nora.interview_id, Actor.slack_user(WORKSPACE, ADA), None, starts_at=later)
    before = outbox_size(db)

    for response in (http.get(nora.links["Confirm attendance"]), post_form(http, old_page)):
        assert response.status_code == 409
        assert_secured(response)
        moved = AnswerPage.of(response.text)
        assert moved.h1 == "Your interview has moved"
        assert f"The email you came from was about {nora_when()}. The time has changed since." in visible(response.text)
        assert moved.lead == f"Your interview is now: {nora_when(start=later)}"
        assert moved.button == "Confirm attendance at the new time"
        assert moved.fields == {"at": at(later)}
        assert not moved.auto_submit and AUTO_SUBMIT_PATH not in moved.scripts  # never answered unseen
    assert answers_recorded(db, nora.interview_id) == [] and outbox_size(db) == before

    # Confirmed at the new time, from the page that named it.
    posted = post_form(http, moved)
    assert posted.status_code == 303
    assert AnswerPage.of(http.get(posted.headers["location"]).text).lead == f"You're confirmed ✓✓ for {nora_when(start=later)}."
    assert seat(db, nora.interview_id) == (InviteStatus.ACCEPTED, True)


def test_a_post_that_is_not_the_pages_own_form_changes_nothing(nora: Booked, db: Database, http: httpx.Client) -> None:
    path = f"/s/{nora.token}/attend/{nora.interview_id}"
    before = outbox_size(db)
    refused = [
        (http.post(path), 400),  # no time named: not from the page
        (http.post(path, data={"at": "soon"}), 400),
        (http.post(path, data={"at": at(START)}, headers={"Sec-Fetch-Site": "cross-site"}), 403),
        (http.post(path, json={"at": at(START)}), 415),
    ]
    for response, status in refused:
        assert response.status_code == status, response.text
        assert_secured(response)
    assert "Please answer with the button on the page" in refused[0][0].text
    nothing_changed(db, nora.interview_id, before)


# ---------------------------------------------------------------- from the email to the channel


def _card_and_notes(fake: FakeSlackAPI, db: Database, interview_id: int) -> tuple[str, list[dict[str, Any]]]:
    with db.transaction() as session:
        interview = session.get(Interview, interview_id)
        assert interview is not None
        ts = interview.slack_card_ts
    [update] = fake.calls_to("chat.update")
    assert update.params["channel"] == CHANNEL and update.params["ts"] == ts
    notes = [c.params for c in fake.calls_to("chat.postMessage") if c.params.get("thread_ts") == ts]
    return json.dumps(update.params["blocks"], ensure_ascii=False), notes


def test_from_the_email_to_the_thread_no_then_confirm(
    nora: Booked, smtp_server: SmtpServer, db: Database, http: httpx.Client, worker: OutboxWorker, fake_slack: FakeSlackAPI,
) -> None:
    emails_before = len(messages(smtp_server))
    [confirmation] = [m for m in messages(smtp_server, to=NORA) if "You're booked" in str(m["Subject"])]
    html = html_of(confirmation)
    for label in ("Confirm attendance", "Yes", "Maybe", "No"):  # the HTML part has the same links
        assert f'href="http://participants.test{nora.links[label]}"' in html.replace("&amp;", "&")

    # "No": one click in the email, then the page's button.
    declined = post_form(http, AnswerPage.of(http.get(nora.links["No"]).text))
    assert declined.status_code == 303
    assert worker.drain().failed == 0
    card, notes = _card_and_notes(fake_slack, db, nora.interview_id)
    assert "Nora Quist ✗ declined" in card
    [note] = notes
    assert note["text"] == "Nora Quist declined the invite ✗."
    [ask] = [e for b in note["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert ask["text"]["text"] == "Ask to reschedule"

    # Changed their mind: "Confirm attendance" from the same email.
    fake_slack.reset()
    confirmed = post_form(http, AnswerPage.of(http.get(nora.links["Confirm attendance"]).text))
    assert confirmed.status_code == 303
    assert worker.drain().failed == 0
    card, notes = _card_and_notes(fake_slack, db, nora.interview_id)
    assert "Nora Quist ✓✓" in card
    assert [n["text"] for n in notes] == ["Nora Quist confirmed attendance ✓✓"]
    assert notes[0].get("blocks") in (None, [])  # a plain line: nothing to ask the team
    assert answers_recorded(db, nora.interview_id) == [
        (ActivityKind.RSVP_CHANGED, {"attendee": "Nora Quist", "status": "declined"}),
        (ActivityKind.ATTENDANCE_CONFIRMED, {"attendee": "Nora Quist"}),
    ]
    assert len(messages(smtp_server)) == emails_before  # an answer is told in the channel, not emailed


def test_a_team_reschedule_emails_new_links_that_answer_for_the_new_time(
    services: Services, nora: Booked, smtp_server: SmtpServer, db: Database, http: httpx.Client, worker: OutboxWorker,
) -> None:
    later = berlin(7, 14)
    services.changes.reschedule(nora.interview_id, Actor.slack_user(WORKSPACE, ADA), None, starts_at=later)
    assert worker.drain().failed == 0
    [update] = [m for m in messages(smtp_server, to=NORA) if "The attached invite updates" in text_of(m)]
    links = email_links(text_of(update))
    assert links["Yes"].endswith(f"?at={at(later)}")

    page = AnswerPage.of(http.get(links["Yes"]).text)
    assert page.when == nora_when(start=later) and page.auto_submit
    assert post_form(http, page).status_code == 303
    assert seat(db, nora.interview_id) == (InviteStatus.ACCEPTED, False)


# ---------------------------------------------------------------- in a real browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        reason = f"Chromium is not installed at {CHROMIUM} (Debian package 'chromium')"
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"REQUIRE_BROWSER=1 but {reason}", pytrace=False)
        pytest.skip(f"{reason}; set REQUIRE_BROWSER=1 to make this a failure")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(Path(CHROMIUM)), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def test_one_click_on_the_emailed_link_confirms_in_a_browser(
    browser: Any, nora: Booked, db: Database, server_url: str,
) -> None:
    context = browser.new_context(timezone_id="America/New_York")
    page = context.new_page()
    watch = Watch(page, server_url)
    try:
        page.goto(server_url + nora.links["Confirm attendance"])  # what a click in the email does
        page.get_by_role("heading", name="Thank you").wait_for(timeout=10_000)  # after the script's post
        assert page.locator(".confirmation").inner_text() == f"You're confirmed ✓✓ for {nora_when()}."
        assert seat(db, nora.interview_id) == (InviteStatus.ACCEPTED, True)
        assert len(answers_recorded(db, nora.interview_id)) == 1  # sent once
        assert watch.errors == [] and watch.elsewhere == []  # the CSP let our own script run
    finally:
        context.close()


def test_one_click_on_no_in_a_browser_tells_the_team(browser: Any, nora: Booked, db: Database, server_url: str) -> None:
    context = browser.new_context()
    page = context.new_page()
    try:
        page.goto(server_url + nora.links["No"])
        page.get_by_role("heading", name="Thanks — we've told the team you can't make it").wait_for(timeout=10_000)
        assert page.get_by_role("link", name="Reschedule or cancel").get_attribute("href") == f"/s/{nora.token}/manage"
        assert seat(db, nora.interview_id) == (InviteStatus.DECLINED, False)
    finally:
        context.close()


def test_without_javascript_the_link_only_asks_and_the_button_answers(
    browser: Any, nora: Booked, db: Database, server_url: str,
) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    before = outbox_size(db)
    try:
        page.goto(server_url + nora.links["Confirm attendance"])
        assert page.locator("h1").inner_text() == "Confirm your attendance"
        nothing_changed(db, nora.interview_id, before)

        page.get_by_role("button", name="Confirm attendance").click()
        page.get_by_role("heading", name="Thank you").wait_for(timeout=10_000)
        assert page.url == server_url + nora.links["Confirm attendance"]  # posted, then shown again
        assert seat(db, nora.interview_id) == (InviteStatus.ACCEPTED, True)
    finally:
        context.close()
