"""The fake Google behaves like Google: OAuth over httpx, the Calendar API through the real
googleapiclient, push notifications to a real loopback receiver, and injected failures."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import google_auth_httplib2
import httplib2
import httpx
import pytest
from google.oauth2.credentials import Credentials
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from tests.support.fake_google import FakeGoogle

SCOPES = ("https://www.googleapis.com/auth/calendar.events", "https://www.googleapis.com/auth/calendar.freebusy")
REDIRECT = "https://desk.example.com/google/callback"
HOST = "host@example.com"
START = datetime(2031, 3, 4, 10, 0, tzinfo=UTC)


@pytest.fixture
def google() -> Iterator[FakeGoogle]:
    with FakeGoogle(client_id="cid.apps.googleusercontent.com", client_secret="s3cret") as fake:
        yield fake


class _Receiver(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        box: PushBox = self.server.box  # type: ignore[attr-defined]
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with box.changed:
            box.received.append((dict(self.headers.items()), body))
            box.changed.notify_all()
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Quiet."""


class PushBox:
    """A tiny webhook receiver on loopback: what our app's notification endpoint would get."""

    def __init__(self) -> None:
        self.changed = threading.Condition()
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
        self.server.box = self  # type: ignore[attr-defined]
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/google/notifications"

    def wait_for(self, count: int) -> list[tuple[dict[str, str], bytes]]:
        with self.changed:
            assert self.changed.wait_for(lambda: len(self.received) >= count, timeout=5), self.received
            return list(self.received)


@pytest.fixture
def push_box() -> Iterator[PushBox]:
    box = PushBox()
    thread = threading.Thread(target=box.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield box
    box.server.shutdown()
    box.server.server_close()
    thread.join(timeout=5)


def _consent(google: FakeGoogle, email: str, *, scopes: tuple[str, ...] = SCOPES, **extra: str) -> httpx.Response:
    google.next_consent(email)
    params = {"client_id": google.oauth.client_id, "redirect_uri": REDIRECT, "response_type": "code",
              "scope": " ".join(scopes), "state": "st-1", "access_type": "offline", "prompt": "consent", **extra}
    return httpx.get(google.auth_url, params=params)


def _redirect_params(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith(REDIRECT + "?")
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def _exchange(google: FakeGoogle, code: str, **overrides: str) -> httpx.Response:
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
            "client_id": google.oauth.client_id, "client_secret": google.oauth.client_secret, **overrides}
    return httpx.post(google.token_url, data=form)


def _tokens(google: FakeGoogle, email: str = HOST, scopes: tuple[str, ...] = SCOPES) -> dict[str, Any]:
    code = _redirect_params(_consent(google, email, scopes=scopes))["code"]
    response = _exchange(google, code)
    assert response.status_code == 200, response.text
    return dict(response.json())


def _service(google: FakeGoogle, tokens: dict[str, Any]) -> tuple[Any, Credentials]:
    credentials = Credentials(tokens["access_token"], refresh_token=tokens["refresh_token"],
                              token_uri=google.token_url, client_id=google.oauth.client_id,
                              client_secret=google.oauth.client_secret)
    http = google_auth_httplib2.AuthorizedHttp(credentials, http=httplib2.Http(timeout=5))
    service = build("calendar", "v3", http=http, static_discovery=True, cache_discovery=False,
                    client_options={"api_endpoint": google.api_url + "calendar/v3/"})
    return service, credentials


@pytest.fixture
def calendar(google: FakeGoogle) -> Any:
    return _service(google, _tokens(google))[0]


def _body(start: datetime = START, minutes: int = 60, **extra: Any) -> dict[str, Any]:
    return {"summary": "Interview", "start": {"dateTime": start.isoformat(), "timeZone": "Europe/Berlin"},
            "end": {"dateTime": (start + timedelta(minutes=minutes)).isoformat(), "timeZone": "Europe/Berlin"},
            **extra}


def _meet(request_id: str) -> dict[str, Any]:
    return {"createRequest": {"requestId": request_id, "conferenceSolutionKey": {"type": "hangoutsMeet"}}}


def _status(error: pytest.ExceptionInfo[HttpError]) -> tuple[int, str]:
    return error.value.status_code, error.value.error_details[0]["reason"]


# -- OAuth


def test_consent_redirects_with_a_single_use_code_for_the_account(google: FakeGoogle) -> None:
    params = _redirect_params(_consent(google, HOST, include_granted_scopes="true"))
    assert params["state"] == "st-1" and params["code"]
    assert google.requested_scopes == [SCOPES]

    tokens = _exchange(google, params["code"]).json()
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 3599
    assert tokens["scope"].split() == list(SCOPES)
    assert tokens["access_token"].startswith("ya29.") and tokens["refresh_token"].startswith("1//")
    assert google.oauth.account_for(tokens["access_token"]) == (HOST, frozenset(SCOPES))

    reused = _exchange(google, params["code"])
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"


def test_token_endpoint_checks_client_credentials_and_redirect_uri(google: FakeGoogle) -> None:
    code = _redirect_params(_consent(google, HOST))["code"]
    assert _exchange(google, code, client_secret="wrong").json()["error"] == "invalid_client"
    assert _exchange(google, code, redirect_uri="https://elsewhere.example.com/cb").json()["error"] == \
        "redirect_uri_mismatch"

    code = _redirect_params(_consent(google, HOST))["code"]
    basic = httpx.post(google.token_url, auth=(google.oauth.client_id, google.oauth.client_secret),
                       data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT})
    assert basic.status_code == 200 and "refresh_token" in basic.json()


def test_denied_consent_and_unknown_client(google: FakeGoogle) -> None:
    google.deny_next_consent()
    params = {"client_id": google.oauth.client_id, "redirect_uri": REDIRECT, "response_type": "code",
              "scope": SCOPES[0], "state": "st-9"}
    assert _redirect_params(httpx.get(google.auth_url, params=params)) == {"error": "access_denied", "state": "st-9"}

    unknown = httpx.get(google.auth_url, params=params | {"client_id": "someone-else"})
    assert unknown.status_code == 401 and "Location" not in unknown.headers


def test_refresh_gives_a_new_access_token_until_the_grant_is_revoked(google: FakeGoogle) -> None:
    tokens = _tokens(google)
    form = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"],
            "client_id": google.oauth.client_id, "client_secret": google.oauth.client_secret}
    refreshed = httpx.post(google.token_url, data=form).json()
    assert refreshed["access_token"] != tokens["access_token"] and "refresh_token" not in refreshed
    assert google.oauth.account_for(refreshed["access_token"]) is not None

    google.revoke_grant(HOST)
    refused = httpx.post(google.token_url, data=form)
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
    assert google.oauth.account_for(refreshed["access_token"]) is None


def test_revoke_endpoint_ends_the_whole_grant(google: FakeGoogle) -> None:
    tokens = _tokens(google)
    assert httpx.post(google.revoke_url, params={"token": tokens["access_token"]}).status_code == 200
    assert google.oauth.account_for(tokens["access_token"]) is None
    again = httpx.post(google.revoke_url, data={"token": tokens["refresh_token"]})
    assert again.status_code == 400 and again.json()["error"] == "invalid_token"


def test_expired_access_token_gets_401_and_google_auth_refreshes_and_retries(google: FakeGoogle) -> None:
    service, credentials = _service(google, _tokens(google))
    old_token = credentials.token
    google.expire_access_tokens()

    answer = service.freebusy().query(body={"timeMin": START.isoformat(), "timeMax": (START + timedelta(hours=1))
                                            .isoformat(), "items": [{"id": "primary"}]}).execute()

    assert answer["calendars"]["primary"]["busy"] == []
    assert [(c.path, c.status) for c in google.calls[-3:]] == [
        ("/calendar/v3/freeBusy", 401), ("/token", 200), ("/calendar/v3/freeBusy", 200)]
    assert credentials.token != old_token


def test_missing_or_unknown_bearer_is_401_in_googles_shape(google: FakeGoogle) -> None:
    missing = httpx.get(google.api_url + "calendar/v3/calendars/primary/events")
    assert missing.status_code == 401 and missing.json()["error"]["errors"][0]["reason"] == "required"
    unknown = httpx.get(google.api_url + "calendar/v3/calendars/primary/events",
                        headers={"Authorization": "Bearer ya29.nope"})
    assert unknown.json() == {"error": {"errors": [{"domain": "global", "reason": "authError",
                                                    "message": "Invalid Credentials"}],
                                        "code": 401, "message": "Invalid Credentials"}}


def test_scopes_are_enforced_per_method(google: FakeGoogle) -> None:
    only_events, _ = _service(google, _tokens(google, "a@example.com", scopes=SCOPES[:1]))
    only_freebusy, _ = _service(google, _tokens(google, "b@example.com", scopes=SCOPES[1:]))
    window = {"timeMin": START.isoformat(), "timeMax": (START + timedelta(hours=1)).isoformat(),
              "items": [{"id": "primary"}]}

    with pytest.raises(HttpError) as refused:
        only_events.freebusy().query(body=window).execute()
    assert _status(refused) == (403, "insufficientPermissions")
    with pytest.raises(HttpError) as refused:
        only_freebusy.events().insert(calendarId="primary", body=_body()).execute()
    assert _status(refused) == (403, "insufficientPermissions")
    assert only_freebusy.freebusy().query(body=window).execute()["calendars"]["primary"]["busy"] == []


# -- events


def test_insert_with_meet_creates_a_conference_and_keeps_what_was_sent(google: FakeGoogle, calendar: Any) -> None:
    body = _body(iCalUID="interview-7@desk.example.com", attendees=[
        {"email": "nora@example.com", "displayName": "Nora"}, {"email": HOST}],
        extendedProperties={"private": {"interview_id": "7"}}, conferenceData=_meet("outbox-1"))

    event = calendar.events().insert(calendarId="primary", body=body, conferenceDataVersion=1,
                                     sendUpdates="all").execute()

    assert re.fullmatch(r"https://meet\.google\.com/[a-z]{3}-[a-z]{4}-[a-z]{3}", event["hangoutLink"])
    assert event["conferenceData"]["entryPoints"][0] == {
        "entryPointType": "video", "uri": event["hangoutLink"], "label": event["hangoutLink"][8:]}
    assert event["conferenceData"]["createRequest"]["status"] == {"statusCode": "success"}
    assert event["organizer"] == {"email": HOST, "self": True}
    assert event["attendees"] == [
        {"email": "nora@example.com", "displayName": "Nora", "responseStatus": "needsAction"},
        {"email": HOST, "responseStatus": "accepted", "organizer": True, "self": True}]
    assert (event["iCalUID"], event["sequence"], event["status"]) == ("interview-7@desk.example.com", 0, "confirmed")
    assert event["extendedProperties"] == {"private": {"interview_id": "7"}}
    assert event["etag"].startswith('"') and event["updated"].endswith("Z")
    [insert] = google.calls_to("POST /calendar/v3/calendars/primary/events")
    assert insert.query["sendUpdates"] == "all" and insert.query["conferenceDataVersion"] == "1"
    assert google.event(event["id"])["hangoutLink"] == event["hangoutLink"]


def test_conference_needs_version_1_and_a_repeated_request_id_keeps_the_meet(calendar: Any) -> None:
    plain = calendar.events().insert(calendarId="primary", body=_body(conferenceData=_meet("r1"))).execute()
    assert "hangoutLink" not in plain and "conferenceData" not in plain

    event = calendar.events().insert(calendarId="primary", body=_body(conferenceData=_meet("r2")),
                                     conferenceDataVersion=1).execute()
    same = calendar.events().patch(calendarId="primary", eventId=event["id"], conferenceDataVersion=1,
                                   body={"summary": "Renamed", "conferenceData": _meet("r2")}).execute()
    assert same["hangoutLink"] == event["hangoutLink"] and same["summary"] == "Renamed"
    fresh = calendar.events().patch(calendarId="primary", eventId=event["id"], conferenceDataVersion=1,
                                    body={"conferenceData": _meet("r3")}).execute()
    assert fresh["hangoutLink"] != event["hangoutLink"]

    with pytest.raises(HttpError) as refused:
        calendar.events().insert(calendarId="primary", conferenceDataVersion=1, body=_body(conferenceData={
            "createRequest": {"requestId": "r4", "conferenceSolutionKey": {"type": "addOn"}}})).execute()
    assert _status(refused) == (400, "invalid")


def test_invalid_inserts_are_refused_like_google(calendar: Any) -> None:
    cases = [
        ({"summary": "x", "end": _body()["end"]}, (400, "required")),
        (_body() | {"start": {"dateTime": "2031-03-04T10:00:00"}}, (400, "required")),  # no zone
        (_body(minutes=-30), (400, "timeRangeEmpty")),
        (_body(id="UPPER-case"), (400, "invalid")),
        (_body(attendees=[{"displayName": "No address"}]), (400, "required")),
    ]
    for body, expected in cases:
        with pytest.raises(HttpError) as refused:
            calendar.events().insert(calendarId="primary", body=body).execute()
        assert _status(refused) == expected, body


def test_client_chosen_id_is_unique(calendar: Any) -> None:
    calendar.events().insert(calendarId="primary", body=_body(id="abc123def")).execute()
    with pytest.raises(HttpError) as duplicate:
        calendar.events().insert(calendarId="primary", body=_body(id="abc123def")).execute()
    assert _status(duplicate) == (409, "duplicate")
    assert calendar.events().get(calendarId="primary", eventId="abc123def").execute()["id"] == "abc123def"


def test_patch_merges_put_replaces_and_moving_bumps_the_sequence(google: FakeGoogle, calendar: Any) -> None:
    event = calendar.events().insert(calendarId="primary", body=_body(
        description="first", attendees=[{"email": "nora@example.com"}],
        extendedProperties={"private": {"interview_id": "7"}})).execute()
    google.respond(event["id"], "nora@example.com", "accepted")

    later = START + timedelta(days=1)
    patched = calendar.events().patch(calendarId="primary", eventId=event["id"], body={
        "start": _body(later)["start"], "end": _body(later)["end"],
        "attendees": [{"email": "nora@example.com"}, {"email": "sam@example.com"}],
        "extendedProperties": {"private": {"round": "2"}}}).execute()
    assert patched["sequence"] == 1 and patched["description"] == "first"
    assert [a["responseStatus"] for a in patched["attendees"]] == ["accepted", "needsAction"]
    assert patched["extendedProperties"]["private"] == {"interview_id": "7", "round": "2"}

    replaced = calendar.events().update(calendarId="primary", eventId=event["id"],
                                        body=_body(later, summary="Replaced")).execute()
    assert replaced["summary"] == "Replaced" and "description" not in replaced and "attendees" not in replaced
    assert (replaced["sequence"], replaced["iCalUID"]) == (1, event["iCalUID"])

    with pytest.raises(HttpError) as missing:
        calendar.events().patch(calendarId="primary", eventId="nosuchevent", body={"summary": "x"}).execute()
    assert _status(missing) == (404, "notFound")


def test_delete_cancels_and_a_second_delete_is_gone(google: FakeGoogle, calendar: Any) -> None:
    event = calendar.events().insert(calendarId="primary", body=_body()).execute()
    calendar.events().delete(calendarId="primary", eventId=event["id"], sendUpdates="none").execute()

    kept = calendar.events().get(calendarId="primary", eventId=event["id"]).execute()
    assert kept["status"] == "cancelled" and kept["sequence"] == 1
    with pytest.raises(HttpError) as gone:
        calendar.events().delete(calendarId="primary", eventId=event["id"]).execute()
    assert _status(gone) == (410, "deleted")
    assert google.calls_to("DELETE")[0].query["sendUpdates"] == "none"


def test_another_persons_calendar_is_not_found(google: FakeGoogle, calendar: Any) -> None:
    google.add_event("other@example.com", START, START + timedelta(hours=1))
    with pytest.raises(HttpError) as hidden:
        calendar.events().list(calendarId="other@example.com").execute()
    assert _status(hidden) == (404, "notFound")
    assert calendar.events().list(calendarId=HOST).execute()["items"] == []  # own id = primary


# -- lists and sync


def test_full_list_pages_then_incremental_sync_reports_changes_and_cancellations(
    google: FakeGoogle, calendar: Any,
) -> None:
    ids = [calendar.events().insert(calendarId="primary", body=_body(START + timedelta(hours=i))).execute()["id"]
           for i in range(5)]
    old = calendar.events().insert(calendarId="primary", body=_body(START - timedelta(days=30))).execute()

    pages, token = [], None
    while True:
        page = calendar.events().list(calendarId="primary", timeMin=START.isoformat(), maxResults=2,
                                      singleEvents=True, pageToken=token).execute()
        pages.append(page)
        token = page.get("nextPageToken")
        if token is None:
            break
    assert [len(p["items"]) for p in pages] == [2, 2, 1]
    assert [i["id"] for p in pages for i in p["items"]] == ids  # timeMin left the old one out
    assert all("nextSyncToken" not in p for p in pages[:-1])
    sync_token = pages[-1]["nextSyncToken"]

    google.move_event(ids[1], START + timedelta(days=2), START + timedelta(days=2, hours=1))
    google.delete_event_as_user(ids[2])
    calendar.events().delete(calendarId="primary", eventId=old["id"]).execute()

    changes = calendar.events().list(calendarId="primary", syncToken=sync_token, singleEvents=True).execute()
    by_id = {i["id"]: i for i in changes["items"]}
    assert set(by_id) == {ids[1], ids[2], old["id"]}
    assert by_id[ids[1]]["sequence"] == 1 and by_id[ids[1]]["start"]["dateTime"].startswith("2031-03-06T10:00")
    assert by_id[ids[2]] == {"kind": "calendar#event", "etag": by_id[ids[2]]["etag"], "id": ids[2],
                             "status": "cancelled"}
    quiet = calendar.events().list(calendarId="primary", syncToken=changes["nextSyncToken"]).execute()
    assert quiet["items"] == [] and quiet["nextSyncToken"]

    listed = calendar.events().list(calendarId="primary").execute()["items"]
    assert {i["id"] for i in listed} == {ids[0], ids[1], ids[3], ids[4]}
    with_deleted = calendar.events().list(calendarId="primary", showDeleted=True).execute()["items"]
    assert len(with_deleted) == 6


def test_sync_token_refuses_filters_and_is_gone_once_invalidated(google: FakeGoogle, calendar: Any) -> None:
    token = calendar.events().list(calendarId="primary").execute()["nextSyncToken"]
    with pytest.raises(HttpError) as clash:
        calendar.events().list(calendarId="primary", syncToken=token, timeMin=START.isoformat()).execute()
    assert _status(clash) == (400, "invalid")

    google.invalidate_sync_tokens(HOST)
    with pytest.raises(HttpError) as gone:
        calendar.events().list(calendarId="primary", syncToken=token).execute()
    assert _status(gone) == (410, "fullSyncRequired")
    fresh = calendar.events().list(calendarId="primary").execute()["nextSyncToken"]
    assert calendar.events().list(calendarId="primary", syncToken=fresh).execute()["items"] == []


# -- free/busy


def test_free_busy_counts_opaque_live_events_clipped_and_merged(google: FakeGoogle, calendar: Any) -> None:
    google.add_event(HOST, START - timedelta(minutes=30), START + timedelta(minutes=30))
    google.add_event(HOST, START + timedelta(minutes=15), START + timedelta(hours=1))  # overlaps: merged
    google.add_event(HOST, START + timedelta(hours=2), START + timedelta(hours=3), transparent=True)
    gone = google.add_event(HOST, START + timedelta(hours=4), START + timedelta(hours=5))
    google.delete_event_as_user(gone)
    declined = calendar.events().insert(calendarId="primary", body=_body(
        START + timedelta(hours=6), attendees=[{"email": HOST, "responseStatus": "declined"}])).execute()
    calendar.events().insert(calendarId="primary", body=_body(START + timedelta(hours=7))).execute()

    answer = calendar.freebusy().query(body={
        "timeMin": START.isoformat(), "timeMax": (START + timedelta(hours=8)).isoformat(),
        "items": [{"id": "primary"}, {"id": "stranger@example.com"}]}).execute()

    assert answer["calendars"]["primary"] == {"busy": [
        {"start": "2031-03-04T10:00:00Z", "end": "2031-03-04T11:00:00Z"},
        {"start": "2031-03-04T17:00:00Z", "end": "2031-03-04T18:00:00Z"}]}
    assert answer["calendars"]["stranger@example.com"] == {
        "errors": [{"domain": "global", "reason": "notFound"}], "busy": []}
    assert declined["attendees"][0]["self"] is True


# -- push notifications


def test_watch_sends_sync_then_exists_with_googles_headers(
    google: FakeGoogle, calendar: Any, push_box: PushBox,
) -> None:
    channel = calendar.events().watch(calendarId="primary", body={
        "id": "chan-1", "type": "web_hook", "address": push_box.url, "token": "route=host-1",
        "params": {"ttl": "3600"}}).execute()
    assert channel["kind"] == "api#channel" and channel["id"] == "chan-1" and channel["token"] == "route=host-1"
    expiration_ms = int(channel["expiration"])
    assert abs(expiration_ms / 1000 - (datetime.now(UTC) + timedelta(hours=1)).timestamp()) < 10

    [(sync_headers, sync_body)] = push_box.wait_for(1)
    assert sync_body == b""
    assert {k: sync_headers[k] for k in ("X-Goog-Channel-ID", "X-Goog-Channel-Token", "X-Goog-Resource-ID",
                                         "X-Goog-Resource-State", "X-Goog-Message-Number")} == {
        "X-Goog-Channel-ID": "chan-1", "X-Goog-Channel-Token": "route=host-1",
        "X-Goog-Resource-ID": channel["resourceId"], "X-Goog-Resource-State": "sync", "X-Goog-Message-Number": "1"}
    assert sync_headers["X-Goog-Resource-URI"] == channel["resourceUri"]
    assert sync_headers["X-Goog-Channel-Expiration"].endswith(" GMT")

    google.add_event(HOST, START, START + timedelta(hours=1))
    exists_headers, _ = push_box.wait_for(2)[1]
    assert (exists_headers["X-Goog-Resource-State"], exists_headers["X-Goog-Message-Number"]) == ("exists", "2")
    assert [(n.state, n.status) for n in google.wait_for_notifications(2)] == [("sync", 200), ("exists", 200)]

    with pytest.raises(HttpError) as duplicate:
        calendar.events().watch(calendarId="primary", body={"id": "chan-1", "type": "web_hook",
                                                            "address": push_box.url}).execute()
    assert _status(duplicate) == (400, "channelIdNotUnique")

    calendar.channels().stop(body={"id": "chan-1", "resourceId": channel["resourceId"]}).execute()
    assert google.channel_ids == []
    google.add_event(HOST, START + timedelta(hours=2), START + timedelta(hours=3))
    with pytest.raises(HttpError) as unknown:
        calendar.channels().stop(body={"id": "chan-1", "resourceId": channel["resourceId"]}).execute()
    assert _status(unknown) == (404, "notFound")
    assert len(google.notifications) == 2  # nothing after the stop


def test_paused_notifications_are_lost_and_unreachable_receivers_recorded(
    google: FakeGoogle, calendar: Any, push_box: PushBox,
) -> None:
    google.pause_notifications()
    calendar.events().watch(calendarId="primary", body={"id": "c1", "type": "web_hook",
                                                        "address": push_box.url}).execute()
    google.add_event(HOST, START, START + timedelta(hours=1))
    google.resume_notifications()
    calendar.events().watch(calendarId="primary", body={"id": "c2", "type": "web_hook",
                                                        "address": "http://127.0.0.1:9/nobody"}).execute()

    [missed] = google.wait_for_notifications(1)
    assert (missed.channel_id, missed.state, missed.status) == ("c2", "sync", None) and missed.error
    assert push_box.received == []


# -- failures


def test_fail_next_answers_googles_error_shapes_with_retry_after(google: FakeGoogle, calendar: Any) -> None:
    google.fail_next("freeBusy", 429, retry_after=7)
    google.fail_next("POST /calendar/v3/calendars/primary/events", 503, times=2)
    google.fail_next("freeBusy", 403, reason="userRateLimitExceeded")
    window = {"timeMin": START.isoformat(), "timeMax": (START + timedelta(hours=1)).isoformat(),
              "items": [{"id": "primary"}]}

    with pytest.raises(HttpError) as limited:
        calendar.freebusy().query(body=window).execute()
    assert _status(limited) == (429, "rateLimitExceeded") and limited.value.resp["retry-after"] == "7"
    for _ in range(2):
        with pytest.raises(HttpError) as unavailable:
            calendar.events().insert(calendarId="primary", body=_body()).execute()
        assert _status(unavailable) == (503, "backendError")
    with pytest.raises(HttpError) as user_limited:
        calendar.freebusy().query(body=window).execute()
    assert _status(user_limited) == (403, "userRateLimitExceeded")
    assert user_limited.value.error_details[0]["domain"] == "usageLimits"

    assert calendar.events().insert(calendarId="primary", body=_body()).execute()["status"] == "confirmed"
    assert [c.status for c in google.calls_to("calendar/v3")] == [429, 503, 503, 403, 200]


def test_stall_next_outlasts_a_client_timeout(google: FakeGoogle) -> None:
    google.stall_next("/calendar/v3/", 1.0)
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(google.api_url + "calendar/v3/calendars/primary/events", timeout=0.2)
    google.wait_for("GET /calendar/v3/", timeout=3)
