"""Our Google Calendar client against the fake Google over real HTTP (the real googleapiclient,
google-auth and httpx underneath): what reaches Google, and what each failure becomes."""

from __future__ import annotations

import email.utils
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import httpx
import pytest

from bot.integrations.google_calendar import (
    GoogleApp,
    GoogleCalendar,
    GoogleEndpoints,
    event_id_for,
)
from bot.integrations.google_values import (
    GOOGLE_SCOPES,
    Attendee,
    EventBody,
    GoogleRejected,
    GoogleUnavailable,
    Grant,
    GrantRevoked,
    SyncTokenExpired,
)
from tests.support.fake_google import FakeGoogle

REDIRECT = "https://desk.example.com/google/callback"
HOST = "host@example.com"
BERLIN = ZoneInfo("Europe/Berlin")
START = datetime(2031, 3, 4, 10, 0, tzinfo=BERLIN)


@pytest.fixture
def google() -> Iterator[FakeGoogle]:
    with FakeGoogle(client_id="cid.apps.googleusercontent.com", client_secret="s3cret",
                    redirect_uris=(REDIRECT,)) as fake:
        yield fake


def _app(google: FakeGoogle, *, timeout: float = 5.0, secret: str = "s3cret") -> GoogleApp:
    endpoints = GoogleEndpoints(api_url=google.api_url, auth_url=google.auth_url, token_url=google.token_url,
                                revoke_url=google.revoke_url)
    return GoogleApp("cid.apps.googleusercontent.com", secret, endpoints, timeout=timeout)


@pytest.fixture
def app(google: FakeGoogle) -> GoogleApp:
    return _app(google)


def _consent_code(app: GoogleApp, google: FakeGoogle, email: str = HOST, **consent: tuple[str, ...]) -> str:
    """The browser's part: open the consent page, follow Google's redirect back to us."""
    google.next_consent(email, **consent)
    response = httpx.get(app.authorization_url(redirect_uri=REDIRECT, state="state-42"))
    assert response.status_code == 302, response.text
    params = parse_qs(urlsplit(response.headers["Location"]).query)
    assert params["state"] == ["state-42"]
    return params["code"][0]


def _connect(app: GoogleApp, google: FakeGoogle, email: str = HOST) -> Grant:
    return app.exchange_code(_consent_code(app, google, email), redirect_uri=REDIRECT)


@pytest.fixture
def calendar(app: GoogleApp, google: FakeGoogle) -> GoogleCalendar:
    return app.calendar(_connect(app, google))


def _interview(start: datetime = START, **changes: object) -> EventBody:
    fields: dict[str, object] = {
        "summary": "Interview with Nora", "start": start, "end": start + timedelta(minutes=45),
        "description": "Study: onboarding", "attendees": (Attendee("nora@example.com", "Nora Qüist"),),
        "i_cal_uid": "interview-7@desk.example.com", "interview_id": 7,
    }
    return EventBody(**(fields | changes))  # type: ignore[arg-type]


# -- connecting


def test_authorization_url_asks_for_offline_access_with_consent(app: GoogleApp, google: FakeGoogle) -> None:
    url = app.authorization_url(redirect_uri=REDIRECT, state="s", login_hint=HOST)
    assert url.startswith(google.auth_url + "?")
    params = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert params == {
        "client_id": "cid.apps.googleusercontent.com", "redirect_uri": REDIRECT, "response_type": "code",
        "scope": " ".join(GOOGLE_SCOPES), "state": "s", "access_type": "offline", "prompt": "consent",
        "include_granted_scopes": "true", "login_hint": HOST}


def test_exchange_code_returns_a_grant_with_refresh_token_and_scopes(app: GoogleApp, google: FakeGoogle) -> None:
    before = datetime.now(UTC)
    grant = _connect(app, google)

    assert grant.access_token.startswith("ya29.") and grant.refresh_token.startswith("1//")
    assert grant.scopes == GOOGLE_SCOPES and grant.missing_scopes() == ()
    assert grant.expires_at is not None
    assert before + timedelta(seconds=3590) <= grant.expires_at <= datetime.now(UTC) + timedelta(seconds=3600)
    assert google.requested_scopes == [GOOGLE_SCOPES]
    assert grant.refresh_token not in repr(grant)


def test_a_host_who_unticks_free_busy_has_a_missing_scope(app: GoogleApp, google: FakeGoogle) -> None:
    code = _consent_code(app, google, scopes=GOOGLE_SCOPES[:1])
    grant = app.exchange_code(code, redirect_uri=REDIRECT)
    assert grant.missing_scopes() == (GOOGLE_SCOPES[1],)
    with pytest.raises(GoogleRejected) as refused:
        app.calendar(grant).busy(START, START + timedelta(hours=1))
    assert (refused.value.status, refused.value.reason) == (403, "insufficientPermissions")


def test_exchange_code_refusals(app: GoogleApp, google: FakeGoogle) -> None:
    code = _consent_code(app, google)
    app.exchange_code(code, redirect_uri=REDIRECT)
    with pytest.raises(GoogleRejected, match="already used") as reused:
        app.exchange_code(code, redirect_uri=REDIRECT)
    assert reused.value.reason == "invalid_grant"

    with pytest.raises(GoogleRejected, match="OAuth client") as unknown_client:
        _app(google, secret="wrong").exchange_code(_consent_code(app, google), redirect_uri=REDIRECT)
    assert unknown_client.value.status == 401

    google.fail_next("POST /token", 503, retry_after=30)
    with pytest.raises(GoogleUnavailable) as unavailable:
        app.exchange_code(_consent_code(app, google), redirect_uri=REDIRECT)
    assert unavailable.value.retry_after == 30


def test_revoke_ends_the_grant_and_tolerates_an_unknown_token(
    app: GoogleApp, google: FakeGoogle, calendar: GoogleCalendar,
) -> None:
    app.revoke(calendar.grant.refresh_token)
    app.revoke(calendar.grant.refresh_token)  # Google answers 400 now: already done
    [first, second] = google.calls_to("POST /revoke")
    assert (first.status, second.status) == (200, 400)
    assert first.form == {"token": calendar.grant.refresh_token}
    with pytest.raises(GrantRevoked):
        calendar.busy(START, START + timedelta(hours=1))


# -- events


def test_insert_with_meet_returns_the_link_and_sends_updates(google: FakeGoogle, calendar: GoogleCalendar) -> None:
    event = calendar.insert_event(_interview(), request_id="outbox:calendar:7:0", meet=True)

    assert event.meet_url is not None and re.fullmatch(r"https://meet\.google\.com/[a-z-]{12}", event.meet_url)
    assert event.id == event_id_for("outbox:calendar:7:0")
    assert (event.status, event.sequence, event.i_cal_uid) == ("confirmed", 0, "interview-7@desk.example.com")
    assert (event.start, event.end) == (START, START + timedelta(minutes=45))
    assert event.organizer_email == HOST and event.interview_id == "7"
    assert event.response_of("nora@example.com") == "needsAction"
    assert event.attendees[0].display_name == "Nora Qüist"
    [insert] = google.calls_to("POST /calendar/v3/calendars/primary/events")
    assert insert.query["conferenceDataVersion"] == "1" and insert.query["sendUpdates"] == "all"
    sent = insert.json
    assert sent["start"] == {"dateTime": "2031-03-04T10:00:00+01:00", "timeZone": "Europe/Berlin"}
    assert sent["conferenceData"]["createRequest"]["requestId"] == "outbox:calendar:7:0"
    assert sent["extendedProperties"] == {"private": {"interview_id": "7"}}
    assert google.event(event.id)["hangoutLink"] == event.meet_url


def test_a_retried_insert_returns_the_first_event_and_its_meet(google: FakeGoogle, calendar: GoogleCalendar) -> None:
    first = calendar.insert_event(_interview(), request_id="outbox:calendar:7:0", meet=True)
    again = calendar.insert_event(_interview(), request_id="outbox:calendar:7:0", meet=True)

    assert (again.id, again.meet_url) == (first.id, first.meet_url)
    assert len(google.events(HOST)) == 1
    assert [c.status for c in google.calls_to("calendar/v3")] == [200, 409, 200]


def test_insert_without_meet_and_without_updates(google: FakeGoogle, calendar: GoogleCalendar) -> None:
    event = calendar.insert_event(_interview(location="Room 4"), request_id="r-plain", meet=False,
                                  send_updates="none")
    assert event.meet_url is None
    assert google.event(event.id)["location"] == "Room 4"
    assert google.calls_to("POST /calendar/v3")[0].query["sendUpdates"] == "none"


def test_update_moves_the_event_keeps_answers_and_the_meet_unless_asked(
    google: FakeGoogle, calendar: GoogleCalendar,
) -> None:
    event = calendar.insert_event(_interview(), request_id="r1", meet=True)
    google.respond(event.id, "nora@example.com", "accepted")
    later = START + timedelta(days=1)
    two_guests = (Attendee("nora@example.com"), Attendee("sam@example.com", optional=True))

    moved = calendar.update_event(event.id, _interview(later, attendees=two_guests))

    assert (moved.start, moved.sequence, moved.meet_url) == (later, 1, event.meet_url)
    assert moved.response_of("nora@example.com") == "accepted" and moved.response_of("sam@example.com") == "needsAction"
    assert moved.attendees[1].optional and moved.i_cal_uid == event.i_cal_uid
    patch = google.calls_to("PATCH")[0]
    assert patch.query["sendUpdates"] == "all" and "iCalUID" not in patch.json

    new_room = calendar.update_event(event.id, _interview(later), new_meet_request_id="r2")
    assert new_room.meet_url not in (None, event.meet_url)

    with pytest.raises(GoogleRejected) as missing:
        calendar.update_event("nosuchevent", _interview())
    assert missing.value.status == 404


def test_delete_twice_and_delete_unknown_are_fine(google: FakeGoogle, calendar: GoogleCalendar) -> None:
    event = calendar.insert_event(_interview(), request_id="r1", meet=False)
    calendar.delete_event(event.id, send_updates="externalOnly")
    calendar.delete_event(event.id)
    calendar.delete_event("nosuchevent")

    assert calendar.get_event(event.id).cancelled
    assert [c.status for c in google.calls_to("DELETE")] == [204, 410, 404]
    assert google.calls_to("DELETE")[0].query["sendUpdates"] == "externalOnly"


def test_busy_reads_free_busy_of_the_primary_calendar(google: FakeGoogle, calendar: GoogleCalendar) -> None:
    google.add_event(HOST, START, START + timedelta(hours=1))
    google.add_event(HOST, START + timedelta(hours=2), START + timedelta(hours=3), transparent=True)
    calendar.insert_event(_interview(START + timedelta(hours=4)), request_id="r1", meet=False)

    busy = calendar.busy(START - timedelta(hours=1), START + timedelta(hours=8))

    utc = START.astimezone(UTC)
    assert busy == [(utc, utc + timedelta(hours=1)), (utc + timedelta(hours=4), utc + timedelta(hours=4, minutes=45))]
    assert all(moment.tzinfo is UTC for span in busy for moment in span)
    with pytest.raises(ValueError):
        calendar.busy(datetime(2031, 3, 4), datetime(2031, 3, 5))


# -- push channels and sync


def test_watch_and_stop(google: FakeGoogle, calendar: GoogleCalendar) -> None:
    address = google.base_url + "/our-webhook"  # answers 404; the fake records what it sent
    channel = calendar.watch(channel_id="chan-7", token="host=7", address=address, ttl_seconds=3600)

    assert (channel.id, channel.token) == ("chan-7", "host=7") and channel.resource_id
    assert abs((channel.expires_at - datetime.now(UTC)).total_seconds() - 3600) < 10
    watch = google.calls_to("events/watch")[0].json
    assert watch == {"id": "chan-7", "type": "web_hook", "address": address, "token": "host=7",
                     "params": {"ttl": "3600"}}
    [sync] = google.wait_for_notifications(1)
    assert (sync.channel_id, sync.state, sync.status) == ("chan-7", "sync", 404)

    calendar.stop(channel)
    calendar.stop(channel)  # already stopped: fine
    assert google.channel_ids == []
    assert google.calls_to("channels/stop")[0].json == {"id": "chan-7", "resourceId": channel.resource_id}


def test_changes_full_then_incremental_across_pages(google: FakeGoogle, calendar: GoogleCalendar) -> None:
    google.max_page_size = 2
    ids = [calendar.insert_event(_interview(START + timedelta(days=i)), request_id=f"r{i}", meet=False).id
           for i in range(5)]
    google.add_event(HOST, START - timedelta(days=60), START - timedelta(days=60, hours=-1))  # before time_min

    full = calendar.changes(None, time_min=START - timedelta(days=1))
    assert full.full and [e.id for e in full.events] == ids
    assert google.calls_to("GET /calendar/v3")[0].query["timeMin"] == "2031-03-03T09:00:00Z"

    google.respond(ids[0], "nora@example.com", "declined")
    google.delete_event_as_user(ids[1])
    changed = calendar.changes(full.next_sync_token, time_min=START)

    assert not changed.full
    assert {e.id: e.status for e in changed.events} == {ids[0]: "confirmed", ids[1]: "cancelled"}
    assert changed.events[0].response_of("nora@example.com") == "declined"
    assert changed.events[1].start is None  # a cancelled event in a list may carry only its id
    assert "timeMin" not in google.calls_to("GET /calendar/v3")[-1].query
    assert calendar.changes(changed.next_sync_token, time_min=START).events == ()


def test_an_invalidated_sync_token_asks_for_a_full_sync(google: FakeGoogle, calendar: GoogleCalendar) -> None:
    token = calendar.changes(None, time_min=START).next_sync_token
    google.invalidate_sync_tokens(HOST)
    with pytest.raises(SyncTokenExpired):
        calendar.changes(token, time_min=START)


# -- tokens


def test_an_expired_access_token_is_refreshed_and_the_grant_shows_it(
    google: FakeGoogle, calendar: GoogleCalendar,
) -> None:
    before = calendar.grant
    google.expire_access_tokens()

    calendar.busy(START, START + timedelta(hours=1))

    after = calendar.grant
    assert after.access_token != before.access_token and after.refresh_token == before.refresh_token
    assert after.expires_at is not None and after.expires_at.tzinfo is UTC
    assert [c.status for c in google.calls[-3:]] == [401, 200, 200]
    assert google.calls[-2].form["grant_type"] == "refresh_token"


def test_a_grant_known_to_be_expired_is_refreshed_before_the_request(app: GoogleApp, google: FakeGoogle) -> None:
    grant = _connect(app, google)
    stale = Grant(grant.access_token, grant.refresh_token, datetime.now(UTC) - timedelta(minutes=1), grant.scopes)
    calendar = app.calendar(stale)
    calendar.busy(START, START + timedelta(hours=1))
    assert [c.path for c in google.calls[-2:]] == ["/token", "/calendar/v3/freeBusy"]
    assert calendar.grant.expires_at is not None and calendar.grant.expires_at > datetime.now(UTC)


def test_a_revoked_grant_raises_grant_revoked(google: FakeGoogle, calendar: GoogleCalendar) -> None:
    google.revoke_grant(HOST)
    with pytest.raises(GrantRevoked, match="refresh token"):
        calendar.insert_event(_interview(), request_id="r1", meet=True)


def test_a_401_that_survives_a_refresh_raises_grant_revoked(google: FakeGoogle, calendar: GoogleCalendar) -> None:
    google.fail_next("freeBusy", 401, times=2)
    with pytest.raises(GrantRevoked):
        calendar.busy(START, START + timedelta(hours=1))
    assert [c.path for c in google.calls[-3:]] == ["/calendar/v3/freeBusy", "/token", "/calendar/v3/freeBusy"]


def test_a_token_endpoint_that_refuses_our_client_is_rejected(google: FakeGoogle, calendar: GoogleCalendar) -> None:
    google.expire_access_tokens()
    google.fail_next("POST /token", 401, body={"error": "invalid_client", "error_description": "Unauthorized"})
    with pytest.raises(GoogleRejected, match="invalid_client"):
        calendar.busy(START, START + timedelta(hours=1))


def test_an_unreachable_token_endpoint_during_refresh_is_unavailable(app: GoogleApp, google: FakeGoogle) -> None:
    grant = _connect(app, google)
    google.expire_access_tokens()
    nowhere = GoogleEndpoints(api_url=google.api_url, token_url="http://127.0.0.1:9/token")
    calendar = GoogleApp(app.client_id, app.client_secret, nowhere, timeout=2).calendar(grant)
    with pytest.raises(GoogleUnavailable):
        calendar.busy(START, START + timedelta(hours=1))
    assert calendar.grant == grant


# -- when Google is not there


@pytest.mark.parametrize(
    ("status", "retry_after", "reason", "expected"),
    [(503, None, None, None), (500, None, None, None), (429, 7, None, 7.0),
     (403, None, "rateLimitExceeded", None), (403, 2, "userRateLimitExceeded", 2.0)],
)
def test_overload_and_rate_limits_are_unavailable(
    google: FakeGoogle, calendar: GoogleCalendar, status: int, retry_after: int | None, reason: str | None,
    expected: float | None,
) -> None:
    google.fail_next("POST /calendar/v3/calendars/primary/events", status, retry_after=retry_after, reason=reason)
    with pytest.raises(GoogleUnavailable) as unavailable:
        calendar.insert_event(_interview(), request_id="r1", meet=True)
    assert unavailable.value.retry_after == expected
    assert len(google.calls_to("POST /calendar/v3")) == 1  # no hidden retry
    assert calendar.insert_event(_interview(), request_id="r1", meet=True).meet_url


def test_a_retry_after_date_becomes_seconds(google: FakeGoogle, calendar: GoogleCalendar) -> None:
    when = email.utils.format_datetime(datetime.now(UTC) + timedelta(seconds=120), usegmt=True)
    google.fail_next("freeBusy", 503, retry_after=when)
    with pytest.raises(GoogleUnavailable) as unavailable:
        calendar.busy(START, START + timedelta(hours=1))
    assert unavailable.value.retry_after is not None and 100 < unavailable.value.retry_after <= 120


def test_other_refusals_are_permanent(google: FakeGoogle, calendar: GoogleCalendar) -> None:
    google.fail_next("freeBusy", 403, reason="forbidden")
    with pytest.raises(GoogleRejected) as forbidden:
        calendar.busy(START, START + timedelta(hours=1))
    assert (forbidden.value.status, forbidden.value.reason) == (403, "forbidden")
    google.fail_next("freeBusy", 400, reason="badRequest")
    with pytest.raises(GoogleRejected):
        calendar.busy(START, START + timedelta(hours=1))


def test_google_down_or_slow_is_unavailable(app: GoogleApp, google: FakeGoogle) -> None:
    grant = _connect(app, google)
    google.stall_next("freeBusy", 1.5)
    started = time.monotonic()
    with pytest.raises(GoogleUnavailable, match="timed out"):
        _app(google, timeout=0.3).calendar(grant).busy(START, START + timedelta(hours=1))
    assert time.monotonic() - started < 1.4

    calendar = app.calendar(grant)
    google.stop()
    with pytest.raises(GoogleUnavailable, match="could not be reached"):
        calendar.insert_event(_interview(), request_id="r1", meet=True)
    with pytest.raises(GoogleUnavailable):
        app.exchange_code("4/whatever", redirect_uri=REDIRECT)
    with pytest.raises(GoogleUnavailable):
        app.revoke(grant.access_token)


# -- the body we send


def test_event_body_needs_aware_times_in_order() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        _interview(datetime(2031, 3, 4, 10, 0))
    with pytest.raises(ValueError, match="end after"):
        EventBody("x", START, START)
    utc_body = EventBody("x", START.astimezone(UTC), START.astimezone(UTC) + timedelta(hours=1)).to_api()
    assert utc_body["start"] == {"dateTime": "2031-03-04T09:00:00+00:00", "timeZone": "UTC"}
    assert "extendedProperties" not in utc_body and "iCalUID" not in utc_body


def test_event_ids_are_stable_and_valid_for_google() -> None:
    first, second = event_id_for("outbox:1"), event_id_for("outbox:2")
    assert first == event_id_for("outbox:1") and first != second
    assert re.fullmatch(r"[a-v0-9]{5,1024}", first)
