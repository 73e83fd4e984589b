"""``GET /google/oauth/callback`` over real HTTP on the real app, with Google's consent screen and
token endpoint faked over HTTP: every outcome is a page with its status, and nothing is stored
unless the page says connected. On both databases."""

from html.parser import HTMLParser
from urllib.parse import urlencode

import httpx
import pytest

from bot.domain import Actor
from bot.services import Services
from bot.web.responses import SECURITY_HEADERS
from storage.db import Database
from storage.models import CalendarConnection, OutboxItem
from tests.conftest import ADA, CHANNEL, WORKSPACE, MovableClock, Seed
from tests.support.fake_google import FakeGoogle
from tests.support.google import (
    BASE_URL,
    CALLBACK,
    EVENTS,
    FREEBUSY,
    back_from_google,
    consent,
    query_of,
    token_calls,
)

ADA_ACTOR = Actor.slack_user(WORKSPACE, ADA)


pytestmark = pytest.mark.google_calendar


class Page(HTMLParser):
    """The h1, the lead paragraph and the list items of a page."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.h1 = self.lead = ""
        self.items: list[str] = []
        self._in: str | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = (dict(attrs).get("class") or "").split()
        if tag == "h1" or tag == "li" or (tag == "p" and "lead" in classes):
            self._in = "lead" if tag == "p" else tag
            if tag == "li":
                self.items.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("h1", "li", "p"):
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "h1":
            self.h1 += data
        elif self._in == "lead":
            self.lead += data
        elif self._in == "li":
            self.items[-1] += data


def _consent_url(services: Services) -> str:
    return services.calendar_connect.offer(ADA_ACTOR, channel_id=CHANNEL).consent_url


def _stored(db: Database) -> tuple[int, int]:
    with db.transaction() as session:
        return session.query(CalendarConnection).count(), session.query(OutboxItem).count()


def _assert_secured(response: httpx.Response) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value


def test_the_callback_connects_and_says_so(server_url: str, fake_google: FakeGoogle, services: Services, db: Database,
                                          seeded: Seed) -> None:
    response = back_from_google(server_url, consent(fake_google, _consent_url(services)))

    assert response.status_code == 200
    _assert_secured(response)
    page = Page(response.text)
    assert page.h1 == "Google Calendar connected ✓"
    assert page.lead == "You can close this tab."
    assert "UX Research" in response.text
    assert _stored(db) == (1, 1)  # the connection, and the message telling Ada


def test_reloading_the_callback_stores_no_second_grant(server_url: str, fake_google: FakeGoogle, services: Services,
                                                      db: Database, seeded: Seed) -> None:
    location = consent(fake_google, _consent_url(services))
    assert back_from_google(server_url, location).status_code == 200

    again = back_from_google(server_url, location)

    assert again.status_code == 409
    assert Page(again.text).h1 == "This link was already used"
    assert token_calls(fake_google) == 1 and _stored(db) == (1, 1)


def test_reconnecting_says_reconnected(
    server_url: str, fake_google: FakeGoogle, services: Services, seeded: Seed,
) -> None:
    assert back_from_google(server_url, consent(fake_google, _consent_url(services))).status_code == 200

    response = back_from_google(server_url, consent(fake_google, _consent_url(services)))

    assert response.status_code == 200 and Page(response.text).h1 == "Google Calendar reconnected ✓"


def test_declining_on_googles_page_changes_nothing(server_url: str, fake_google: FakeGoogle, services: Services,
                                                  db: Database, seeded: Seed) -> None:
    location = consent(fake_google, _consent_url(services), deny=True)
    assert query_of(location)["error"] == "access_denied"

    response = back_from_google(server_url, location)

    assert response.status_code == 403
    _assert_secured(response)
    page = Page(response.text)
    assert page.h1 == "Google Calendar was not connected"
    assert "You chose not to give Interview Desk access" in page.lead
    assert "<code>/interviews connect</code>" in response.text
    assert token_calls(fake_google) == 0 and _stored(db) == (0, 0)


def test_unticked_permissions_are_named_and_nothing_is_stored(server_url: str, fake_google: FakeGoogle,
                                                             services: Services, db: Database, seeded: Seed) -> None:
    response = back_from_google(server_url, consent(fake_google, _consent_url(services), scopes=(EVENTS,)))

    assert response.status_code == 403
    page = Page(response.text)
    assert page.h1 == "Google Calendar was not connected"
    assert page.items == [f"See your free/busy times ({FREEBUSY})"]
    assert _stored(db) == (0, 0)


def test_an_expired_link_is_gone(server_url: str, fake_google: FakeGoogle, services: Services, clock: MovableClock,
                                 db: Database, seeded: Seed) -> None:
    location = consent(fake_google, _consent_url(services))
    clock.advance(minutes=16)

    response = back_from_google(server_url, location)

    assert response.status_code == 410 and Page(response.text).h1 == "This link has expired"
    assert token_calls(fake_google) == 0 and _stored(db) == (0, 0)


@pytest.mark.parametrize("query", [
    {"code": "4/abc", "state": "1.9999999999.0000000000000000.forged"},
    {"code": "4/abc", "state": "x" * 3000},
    {"code": "4/abc"},
    {"state": "1.2.3.4"},
    {},
])
def test_a_forged_or_incomplete_callback_is_refused(server_url: str, fake_google: FakeGoogle, db: Database,
                                                    query: dict[str, str], seeded: Seed) -> None:
    response = httpx.get(f"{server_url}/google/oauth/callback?{urlencode(query)}")

    assert response.status_code == 400
    assert Page(response.text).h1 in ("This link is not valid", "This page is Google's way back")
    assert token_calls(fake_google) == 0 and _stored(db) == (0, 0)


def test_google_unreachable_is_a_502_and_nothing_is_stored(server_url: str, fake_google: FakeGoogle, services: Services,
                                                          db: Database, seeded: Seed) -> None:
    location = consent(fake_google, _consent_url(services))
    fake_google.fail_next("POST /token", 503)

    response = back_from_google(server_url, location)

    assert response.status_code == 502 and Page(response.text).h1 == "Google did not answer"
    assert _stored(db) == (0, 0)
    assert back_from_google(server_url, location).status_code == 200  # the same answer works once Google is back


def test_a_code_google_no_longer_accepts_is_a_400(server_url: str, fake_google: FakeGoogle, services: Services,
                                                 db: Database, seeded: Seed) -> None:
    location = consent(fake_google, _consent_url(services))
    spent = httpx.post(fake_google.token_url, data={
        "grant_type": "authorization_code", "code": query_of(location)["code"], "redirect_uri": CALLBACK,
        "client_id": fake_google.oauth.client_id, "client_secret": fake_google.oauth.client_secret,
    })
    assert spent.status_code == 200

    response = back_from_google(server_url, location)

    assert response.status_code == 400 and Page(response.text).h1 == "Google did not accept this sign-in"
    assert _stored(db) == (0, 0)


@pytest.mark.parametrize(("error", "status"), [("temporarily_unavailable", 503), ("invalid_scope", 502),
                                               ("<script>", 502)])
def test_other_errors_from_google_are_named(server_url: str, error: str, status: int) -> None:
    response = httpx.get(f"{server_url}/google/oauth/callback?{urlencode({'error': error, 'state': 's'})}")

    assert response.status_code == status
    named = error if error.isidentifier() else "unknown"
    assert f"Google answered “{named}”" in Page(response.text).lead
    assert "<script>" not in response.text


@pytest.mark.google_calendar(configured=False)
def test_without_google_configured_the_callback_says_so(server_url: str) -> None:
    response = httpx.get(f"{server_url}/google/oauth/callback?code=4%2Fabc&state=1.2.3.4")

    assert response.status_code == 503
    page = Page(response.text)
    assert page.h1 == "Google Calendar isn't set up"
    assert "GOOGLE_CLIENT_ID" in page.lead and BASE_URL not in page.lead
