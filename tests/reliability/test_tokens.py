"""Tokens that are not what they claim: refused, and nothing changed.

* Participants' personal links (``/s/<token>``): one character changed, cut short, lengthened,
  signed with another SECRET_KEY, revoked, or another participant's: every page and every form
  answers the "This link is not valid" page (404), or refuses another participant's interview.
* The Google OAuth ``state`` of ``/interviews connect``: changed, re-addressed to another team
  member, signed with another key, expired, or used twice: refused, no grant stored, and the
  code is never taken to Google unless the state is good.
* Google's push notifications: a channel token changed, or another channel's token or calendar:
  the same 404 for all, and no calendar marked for a sync.

Both databases.
"""

import hashlib
from datetime import timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
import pytest
from sqlalchemy import update

from bot.domain import Actor
from bot.services import Services
from bot.services.consent_state import StateSigner
from bot.services.links import LinkSigner
from storage.db import Database
from storage.models import CalendarConnection, Participant
from tests.conftest import ADA, BO, CHANNEL, WORKSPACE, MovableClock, Seed
from tests.reliability import assert_unchanged, snapshot
from tests.reliability.world import People
from tests.support.fake_google import FakeGoogle
from tests.support.google import (
    ADA_EMAIL,
    BASE_URL,
    back_from_google,
    connect,
    consent,
    token_calls,
)
from tests.web import Link

NOT_VALID = "This link is not valid"
GET_PAGES = ["", "thanks", "booked", "manage", "canceled", "invite.ics", "waitlist", "opening?start=1899190800"]


def tampered(token: str) -> dict[str, str]:
    """Tokens one small step from a genuine one, by how they were made."""
    flip = "A" if token[10] != "A" else "B"
    return {
        "one character changed": token[:10] + flip + token[11:],
        "last character changed": token[:-1] + ("A" if token[-1] != "A" else "B"),
        "cut short": token[:-1],
        "half": token[: len(token) // 2],
        "lengthened": token + "A",
        "upper-cased": token.upper(),
        "padded": token + "=",
        "much too long": token * 4,
    }


def pages_of(link: Link, interview_id: int, at: str) -> list[tuple[str, str, dict[str, str]]]:
    """Every participant route of a link: (method, path, form)."""
    gets = [("GET", link.page(page) if page else link.path, {}) for page in GET_PAGES]
    gets += [("GET", link.page(f"attend/{interview_id}"), {}), ("GET", link.page(f"rsvp/{interview_id}/yes"), {})]
    posts = [
        ("POST", link.page("book"), {"start": "2030-03-06T12:00:00Z", "tz": "Europe/Berlin"}),
        ("POST", link.page("reschedule"), {"start": "2030-03-06T12:00:00Z", "tz": "Europe/Berlin"}),
        ("POST", link.page("cancel"), {"reason": "gone"}),
        ("POST", link.page("screener"), {"q1": "Weekly", "q2": "no"}),
        ("POST", link.page("waitlist/join"), {}),
        ("POST", link.page("waitlist/leave"), {}),
        ("POST", link.page(f"attend/{interview_id}"), {"at": at}),
        ("POST", link.page(f"rsvp/{interview_id}/no"), {"at": at}),
    ]
    return gets + posts


def send(http: httpx.Client, method: str, path: str, form: dict[str, str]) -> httpx.Response:
    return http.get(path) if method == "GET" else http.post(path, data=form)


def heading(html: str) -> str:
    return html.split("<h1>", 1)[1].split("</h1>", 1)[0].strip() if "<h1>" in html else ""


def test_tampered_and_foreign_key_tokens_are_not_valid_on_any_page(
    http: httpx.Client, services: Services, people: People, db: Database,
) -> None:
    with db.transaction() as session:
        nonce = session.get(Participant, people.nora.participant_id).token_nonce  # type: ignore[union-attr]
    tokens = tampered(people.nora.token)
    # The right participant and nonce, signed by another deployment.
    tokens["another SECRET_KEY"] = LinkSigner(b"another-secret-key", BASE_URL).token(people.nora.participant_id, nonce or "")
    before = snapshot(db)

    answers = {}
    for name, token in tokens.items():
        for method, path, form in pages_of(Link(people.nora.participant_id, token), people.interview_id, people.seen):
            response = send(http, method, path, form)
            answers[name, method, path.split("/", 3)[-1]] = (response.status_code, heading(response.text))

    assert set(answers.values()) == {(404, NOT_VALID)}, {k: v for k, v in answers.items() if v != (404, NOT_VALID)}
    assert_unchanged(db, before)
    # The genuine token opens the same pages.
    assert http.get(people.nora.page("manage")).status_code == 200


def test_a_revoked_link_is_not_valid_and_the_new_one_is(http: httpx.Client, services: Services, people: People,
                                                         db: Database) -> None:
    _, new_url = services.participants.new_link(people.study_id, "nora@example.com")
    before = snapshot(db)

    for method, path, form in pages_of(people.nora, people.interview_id, people.seen):
        response = send(http, method, path, form)
        assert (response.status_code, heading(response.text)) == (404, NOT_VALID), (method, path)

    assert_unchanged(db, before)
    assert http.get(urlsplit(new_url).path + "/manage").status_code == 200


def test_another_participants_token_cannot_reach_noras_interview(
    http: httpx.Client, people: People, db: Database,
) -> None:
    """Otto (same study, not booked) and Pia (another study) with Nora's interview in the URL."""
    before = snapshot(db)
    interview, at = people.interview_id, people.seen

    for link in (people.otto, people.pia):
        for method, path, form in [
            ("GET", link.page(f"attend/{interview}"), {}),
            ("GET", link.page(f"rsvp/{interview}/yes"), {}),
            ("POST", link.page(f"attend/{interview}"), {"at": at}),
            ("POST", link.page(f"rsvp/{interview}/no"), {"at": at}),
            ("POST", link.page(f"rsvp/{interview}/yes"), {"at": at}),
            ("POST", link.page("cancel"), {"reason": "not mine"}),
            ("POST", link.page("reschedule"), {"start": "2030-03-06T12:00:00Z", "tz": "Europe/Berlin"}),
            ("GET", link.page("invite.ics"), {}),
        ]:
            response = send(http, method, path, form)
            assert response.status_code in (403, 404), (link, path, response.status_code)
            assert "Nora" not in response.text and "nora@example.com" not in response.text
            assert heading(response.text), response.text[:300]

    assert_unchanged(db, before)
    # Nora's own token is taken on the same URL.
    assert http.post(people.nora.page(f"attend/{interview}"), data={"at": at}).status_code == 303


# ---------------------------------------------------------------- Google's OAuth state


def _with_state(location: str, state: str) -> str:
    parts = urlsplit(location)
    query = dict(parse_qsl(parts.query))
    query["state"] = state
    return urlunsplit(parts._replace(query=urlencode(query)))


def _state_of(location: str) -> str:
    return dict(parse_qsl(urlsplit(location).query))["state"]


@pytest.mark.google_calendar
def test_a_tampered_or_foreign_oauth_state_is_refused_before_the_code_is_spent(
    server_url: str, fake_google: FakeGoogle, services: Services, db: Database, seeded: Seed,
) -> None:
    ada = Actor.slack_user(WORKSPACE, ADA)
    location = consent(fake_google, services.calendar_connect.offer(ada, channel_id=CHANNEL).consent_url)
    state = _state_of(location)
    member, expires, fingerprint, mac = state.split(".")
    bo_state = _state_of(consent(fake_google, services.calendar_connect.offer(
        Actor.slack_user(WORKSPACE, BO), channel_id=CHANNEL).consent_url, "bo@example.com"))
    forged = {
        "one character of the signature": f"{member}.{expires}.{fingerprint}.{mac[:5]}{'A' if mac[5] != 'A' else 'B'}{mac[6:]}",
        "another member": f"{int(member) + 1}.{expires}.{fingerprint}.{mac}",
        "a later expiry": f"{member}.{int(expires) + 3600}.{fingerprint}.{mac}",
        "another fingerprint": f"{member}.{expires}.{'f' * 16}.{mac}",
        "Bo's signature on Ada's state": f"{member}.{expires}.{fingerprint}.{bo_state.rsplit('.', 1)[1]}",
        "signed with another key": StateSigner(b"another-secret-key").sign(
            int(member), services.clock() + timedelta(minutes=10), fingerprint),
        "cut short": state[:-1],
        "no signature": f"{member}.{expires}.{fingerprint}",
        "too long": state + "." + "x" * 300,
    }
    before = snapshot(db)

    answers = {name: back_from_google(server_url, _with_state(location, value)) for name, value in forged.items()}

    assert {name: r.status_code for name, r in answers.items()} == dict.fromkeys(forged, 400)
    assert all(heading(r.text) == NOT_VALID for r in answers.values())
    assert token_calls(fake_google) == 0  # the code was never taken to Google
    assert_unchanged(db, before)
    # The genuine state still works: the forgeries were refused for the state alone.
    assert back_from_google(server_url, location).status_code == 200


@pytest.mark.google_calendar
def test_an_expired_or_reused_oauth_state_is_refused(
    server_url: str, fake_google: FakeGoogle, services: Services, db: Database, clock: MovableClock, seeded: Seed,
) -> None:
    ada = Actor.slack_user(WORKSPACE, ADA)
    stale = consent(fake_google, services.calendar_connect.offer(ada, channel_id=CHANNEL).consent_url)
    clock.advance(minutes=10)
    late = consent(fake_google, services.calendar_connect.offer(ada, channel_id=CHANNEL).consent_url)
    clock.advance(minutes=16)  # both past their 15 minutes

    before = snapshot(db)
    for location in (stale, late):
        expired = back_from_google(server_url, location)
        assert (expired.status_code, heading(expired.text)) == (410, "This link has expired")
    assert token_calls(fake_google) == 0
    assert_unchanged(db, before)

    clock.advance(minutes=-6)  # back inside ``late``'s 15 minutes
    assert back_from_google(server_url, late).status_code == 200
    after_first = snapshot(db)
    for _ in range(2):
        used_again = back_from_google(server_url, late)
        assert (used_again.status_code, heading(used_again.text)) == (409, "This link was already used")
    assert token_calls(fake_google) == 1  # only the first use reached Google
    assert_unchanged(db, after_first)


# ---------------------------------------------------------------- Google's push notifications

CHANNELS = {
    ADA: ("5b1c4d0e8f7a4e2b9c3d1a6f0e8b7c2d", "ada-channel-token", "resource-of-ada"),
    BO: ("9f8e7d6c5b4a39281706f5e4d3c2b1a0", "bo-channel-token", "resource-of-bo"),
}


def _push(http: httpx.Client, channel: str, token: str, resource: str) -> httpx.Response:
    return http.post("/google/notifications", headers={
        "X-Goog-Channel-ID": channel, "X-Goog-Channel-Token": token, "X-Goog-Resource-ID": resource,
        "X-Goog-Resource-State": "exists", "X-Goog-Message-Number": "7",
    })


@pytest.mark.google_calendar
@pytest.mark.real_time
def test_a_push_with_a_wrong_or_anothers_channel_token_is_a_404_and_marks_nothing(
    server_url: str, fake_google: FakeGoogle, services: Services, db: Database, clock: MovableClock, seeded: Seed,
) -> None:
    for user, email in ((ADA, ADA_EMAIL), (BO, "bo@example.com")):
        connection_id = connect(services, fake_google, user, email)
        channel, token, resource = CHANNELS[user]
        with db.transaction() as session:
            session.execute(update(CalendarConnection).where(CalendarConnection.id == connection_id).values(
                channel_id=channel, channel_token_hash=hashlib.sha256(token.encode()).hexdigest(),
                channel_resource_id=resource, channel_expires_at=clock() + timedelta(days=6),
                synced_at=clock(), busy_checked_at=clock(),
            ))
    (ada_channel, ada_token, ada_resource), (bo_channel, bo_token, bo_resource) = CHANNELS[ADA], CHANNELS[BO]
    attempts = {
        "Bo's token on Ada's channel": (ada_channel, bo_token, ada_resource),
        "Bo's calendar on Ada's channel": (ada_channel, ada_token, bo_resource),
        "Ada's token and calendar on Bo's channel": (bo_channel, ada_token, ada_resource),
        "one character of the token": (ada_channel, ada_token[:-1] + "X", ada_resource),
        "the token's hash instead of the token": (ada_channel, hashlib.sha256(ada_token.encode()).hexdigest(), ada_resource),
        "the token with a suffix": (ada_channel, ada_token + "-", ada_resource),
        "a channel id of 65 characters": ("a" * 65, ada_token, ada_resource),
    }
    before = snapshot(db)

    with httpx.Client(base_url=server_url, timeout=10) as http:
        answers = {name: _push(http, *headers) for name, headers in attempts.items()}
        assert {name: (r.status_code, r.content) for name, r in answers.items()} == dict.fromkeys(attempts, (404, b""))
        assert_unchanged(db, before)
        # Ada's own channel, token and calendar are taken, and mark her calendar only.
        assert _push(http, ada_channel, ada_token, ada_resource).status_code == 200
    with db.transaction() as session:
        marked = {c.channel_id: c.synced_at for c in session.query(CalendarConnection)}
    assert marked[ada_channel] is None and marked[bo_channel] is not None
