"""Google Calendar for hosts: the client for OAuth connection, events with Meet links, free/busy,
push + sync.

A thin, typed layer over the real ``googleapiclient`` (static discovery document, so no network
call to build it) and ``google.oauth2.credentials.Credentials``, which refreshes the access token
through the token endpoint when it has expired or Google answers 401. The OAuth code exchange and
revocation are plain form POSTs with httpx. The values it takes and returns (``Grant``,
``EventBody``, ``CalendarEvent``, ``WatchChannel``, ``Changes``...) and its errors live in
``google_values.py``; this module turns HTTP answers into them.

Nothing here retries: every request has a timeout and fails with one of the four errors of
``google_values`` (``GoogleUnavailable``, ``GrantRevoked``, ``SyncTokenExpired``,
``GoogleRejected``), and the caller (the outbox, the sync job) decides when to try again.

(google-auth itself asks the token endpoint up to three times, over about three seconds, when it
answers 5xx or 429 to a refresh; that is inside the library and cannot be turned off here.)

No database and no Slack here. A ``GoogleCalendar`` holds one HTTP connection: use it from one
thread, and store ``calendar.grant`` afterwards, since the access token may have been refreshed.
"""

from __future__ import annotations

import base64
import email.utils
import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, NoReturn
from urllib.parse import urlencode, urljoin

import google_auth_httplib2
import httplib2
import httpx
from google.auth.exceptions import RefreshError, TransportError
from google.oauth2.credentials import Credentials
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError
from googleapiclient.http import HttpRequest

from bot.integrations.google_values import (
    GOOGLE_SCOPES,
    CalendarEvent,
    Changes,
    EventBody,
    GoogleCalendarError,
    GoogleRejected,
    GoogleUnavailable,
    Grant,
    GrantRevoked,
    SyncTokenExpired,
    WatchChannel,
    parse_time,
)

CALENDAR_SERVICE_PATH = "calendar/v3/"  # the Calendar API under the API root
DEFAULT_TIMEOUT = 10.0  # seconds per request: a click or the outbox waits on it; a retry comes later
RATE_LIMIT_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})
TRANSIENT_FREEBUSY_REASONS = frozenset({"backendError", "internalError"})

SendUpdates = Literal["all", "externalOnly", "none"]


@dataclass(frozen=True)
class GoogleEndpoints:
    """Where Google is; the defaults are Google's own addresses (tests point them at a fake)."""

    api_url: str = "https://www.googleapis.com/"
    auth_url: str = "https://accounts.google.com/o/oauth2/v2/auth"
    token_url: str = "https://oauth2.googleapis.com/token"
    revoke_url: str = "https://oauth2.googleapis.com/revoke"


def event_id_for(request_id: str) -> str:
    """The Google event id our write ``request_id`` creates: a retry finds the event already there.

    Google accepts client ids of 5-1024 characters in base32hex (a-v, 0-9).
    """
    digest = hashlib.sha256(request_id.encode()).digest()
    return base64.b32hexencode(digest).decode().rstrip("=").lower()


@dataclass(frozen=True)
class GoogleApp:
    """Our OAuth client (id and secret from the Google Cloud console) and where Google is."""

    client_id: str
    client_secret: str = field(repr=False)
    endpoints: GoogleEndpoints = GoogleEndpoints()
    scopes: tuple[str, ...] = GOOGLE_SCOPES
    timeout: float = DEFAULT_TIMEOUT

    def authorization_url(self, *, redirect_uri: str, state: str, login_hint: str | None = None) -> str:
        """Google's consent page; it comes back to ``redirect_uri`` with ``code`` and ``state``."""
        params = {
            "client_id": self.client_id,
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "scope": " ".join(self.scopes),
            "state": state,
            "access_type": "offline",  # a refresh token, to act while the host is away
            "prompt": "consent",  # a refresh token again on a reconnect, not only the first time
            "include_granted_scopes": "true",
        }
        if login_hint:
            params["login_hint"] = login_hint
        return f"{self.endpoints.auth_url}?{urlencode(params)}"

    def exchange_code(self, code: str, *, redirect_uri: str) -> Grant:
        """Trade the code from the redirect for tokens (the code works once, for a few minutes)."""
        answer = self._token_endpoint({
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
        })
        if not answer.get("refresh_token"):
            raise GoogleRejected("Google granted no refresh token; ask the host to connect again")
        expires_in = answer.get("expires_in")
        return Grant(
            access_token=answer["access_token"],
            refresh_token=answer["refresh_token"],
            expires_at=datetime.now(UTC) + timedelta(seconds=int(expires_in)) if expires_in else None,
            scopes=tuple(answer.get("scope", "").split()),
        )

    def revoke(self, token: str) -> None:
        """End the grant a token belongs to (a token Google no longer knows is fine)."""
        response = self._post(self.endpoints.revoke_url, {"token": token}, what="revoke endpoint")
        if response.status_code == 400 or response.is_success:
            return
        _raise_for_oauth_status(response, "revoke endpoint")

    def calendar(self, grant: Grant) -> GoogleCalendar:
        return GoogleCalendar(self, grant)

    def _token_endpoint(self, form: dict[str, str]) -> dict[str, Any]:
        response = self._post(self.endpoints.token_url, form, what="token endpoint")
        if not response.is_success:
            _raise_for_oauth_status(response, "token endpoint")
        try:
            answer: dict[str, Any] = response.json()
        except ValueError:
            raise GoogleUnavailable("Google's token endpoint answered something other than JSON") from None
        return answer

    def _post(self, url: str, form: dict[str, str], *, what: str) -> httpx.Response:
        try:
            return httpx.post(url, data=form, timeout=self.timeout)
        except httpx.HTTPError as error:
            raise GoogleUnavailable(f"Google's {what} could not be reached ({type(error).__name__})") from None


class GoogleCalendar:
    """Calls on one host's primary calendar, with their grant."""

    def __init__(self, app: GoogleApp, grant: Grant) -> None:
        self._scopes = grant.scopes
        expiry = grant.expires_at.astimezone(UTC).replace(tzinfo=None) if grant.expires_at else None
        self._credentials = Credentials(  # google-auth keeps expiry as naive UTC
            token=grant.access_token,
            refresh_token=grant.refresh_token,
            token_uri=app.endpoints.token_url,
            client_id=app.client_id,
            client_secret=app.client_secret,
            scopes=list(grant.scopes),
            expiry=expiry,
        )
        # One refresh on a 401, then the 401 stands (the grant is no good).
        http = google_auth_httplib2.AuthorizedHttp(
            self._credentials, http=httplib2.Http(timeout=app.timeout), max_refresh_attempts=1,
        )
        self._service = build(
            "calendar", "v3", http=http, static_discovery=True, cache_discovery=False,
            client_options={"api_endpoint": urljoin(app.endpoints.api_url, CALENDAR_SERVICE_PATH)},
        )

    @property
    def grant(self) -> Grant:
        """The grant as it is now: store it when ``access_token`` changed (it was refreshed)."""
        creds = self._credentials
        return Grant(
            access_token=creds.token,
            refresh_token=creds.refresh_token,
            expires_at=creds.expiry.replace(tzinfo=UTC) if creds.expiry else None,
            scopes=tuple(creds.granted_scopes or self._scopes),
        )

    def busy(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        """The host's busy times between ``start`` and ``end`` (aware UTC), from free/busy."""
        body = {"timeMin": _rfc3339(start), "timeMax": _rfc3339(end), "items": [{"id": "primary"}]}
        answer = self._call(self._service.freebusy().query(body=body))
        calendar = answer.get("calendars", {}).get("primary", {})
        if calendar.get("errors"):
            reason = calendar["errors"][0].get("reason")
            if reason in TRANSIENT_FREEBUSY_REASONS:
                raise GoogleUnavailable(f"Google could not read the calendar's free/busy ({reason})")
            raise GoogleRejected(f"Google refused the calendar's free/busy ({reason})", reason=reason)
        return [(parse_time(b["start"]), parse_time(b["end"])) for b in calendar.get("busy", [])]

    def insert_event(
        self, event: EventBody, *, request_id: str, meet: bool, send_updates: SendUpdates = "all",
    ) -> CalendarEvent:
        """Create the event (with a Meet link when ``meet``); Google emails invites per ``send_updates``.

        ``request_id`` names this logical write (the outbox item's key): it fixes the event id and
        the Meet request id, so a retry whose first attempt reached Google returns that event
        (as it is now, perhaps ``cancelled``) instead of creating a second event or a second Meet.
        """
        body = event.to_api() | {"id": event_id_for(request_id)}
        if meet:
            body["conferenceData"] = _meet_request(request_id)
        insert = self._service.events().insert(
            calendarId="primary", body=body, conferenceDataVersion=1, sendUpdates=send_updates,
        )
        try:
            created = self._call(insert)
        except GoogleRejected as error:
            if error.status != 409:
                raise
            created = self._call(self._service.events().get(calendarId="primary", eventId=body["id"]))
        return CalendarEvent.from_api(created)

    def update_event(
        self, event_id: str, event: EventBody, *, new_meet_request_id: str | None = None,
        send_updates: SendUpdates = "all",
    ) -> CalendarEvent:
        """Patch the event to match ``event``; a new Meet link only with ``new_meet_request_id``."""
        body = event.to_api(with_uid=False)  # the UID never changes
        if new_meet_request_id:
            body["conferenceData"] = _meet_request(new_meet_request_id)
        patch = self._service.events().patch(
            calendarId="primary", eventId=event_id, body=body, conferenceDataVersion=1, sendUpdates=send_updates,
        )
        return CalendarEvent.from_api(self._call(patch))

    def get_event(self, event_id: str) -> CalendarEvent:
        return CalendarEvent.from_api(self._call(self._service.events().get(calendarId="primary", eventId=event_id)))

    def delete_event(self, event_id: str, *, send_updates: SendUpdates = "all") -> None:
        """Cancel the event; one that is already gone (404, 410) is fine."""
        delete = self._service.events().delete(calendarId="primary", eventId=event_id, sendUpdates=send_updates)
        try:
            self._call(delete)
        except GoogleRejected as error:
            if error.status not in (404, 410):
                raise

    def watch(self, *, channel_id: str, token: str, address: str, ttl_seconds: int) -> WatchChannel:
        """Ask Google to POST to ``address`` when the primary calendar's events change."""
        body = {
            "id": channel_id, "type": "web_hook", "address": address, "token": token,
            "params": {"ttl": str(ttl_seconds)},
        }
        answer = self._call(self._service.events().watch(calendarId="primary", body=body))
        return WatchChannel(
            id=answer["id"],
            resource_id=answer["resourceId"],
            resource_uri=answer.get("resourceUri", ""),
            token=answer.get("token"),
            expires_at=datetime.fromtimestamp(int(answer["expiration"]) / 1000, UTC),
        )

    def stop(self, channel: WatchChannel) -> None:
        """Stop a channel's notifications; one Google no longer knows is fine."""
        try:
            self._call(self._service.channels().stop(body={"id": channel.id, "resourceId": channel.resource_id}))
        except GoogleRejected as error:
            if error.status != 404:
                raise

    def changes(self, sync_token: str | None, *, time_min: datetime) -> Changes:
        """What changed since ``sync_token`` (every page); without one, a full list from ``time_min``.

        Raises ``SyncTokenExpired`` when Google wants a full sync again.
        """
        events: list[CalendarEvent] = []
        page_token: str | None = None
        while True:
            # Google refuses timeMin with a sync token: the token already carries the query.
            params: dict[str, Any] = {"calendarId": "primary", "singleEvents": True}
            if sync_token:
                params["syncToken"] = sync_token
            else:
                params["timeMin"] = _rfc3339(time_min)
            if page_token:
                params["pageToken"] = page_token
            try:
                page = self._call(self._service.events().list(**params))
            except GoogleRejected as error:
                if error.status == 410 and sync_token:
                    raise SyncTokenExpired("Google invalidated the sync token; a full sync is needed") from error
                raise
            events.extend(CalendarEvent.from_api(item) for item in page.get("items", []))
            page_token = page.get("nextPageToken")
            if not page_token:
                return Changes(tuple(events), page["nextSyncToken"], full=not sync_token)

    def _call(self, request: HttpRequest) -> dict[str, Any]:
        try:
            answer = request.execute()  # no retries: num_retries stays 0
        except HttpError as error:
            raise _from_http_error(error) from None
        except RefreshError as error:
            raise _from_refresh_error(error) from None
        except (TransportError, httplib2.HttpLib2Error, OSError) as error:  # refused, reset, timeout, DNS
            kind = "timed out" if isinstance(error, TimeoutError) else f"could not be reached ({type(error).__name__})"
            raise GoogleUnavailable(f"Google Calendar {kind}") from None
        return answer if isinstance(answer, dict) else {}


def _meet_request(request_id: str) -> dict[str, Any]:
    return {"createRequest": {"requestId": request_id, "conferenceSolutionKey": {"type": "hangoutsMeet"}}}


def _rfc3339(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("times sent to Google must be timezone-aware")
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header: a number, or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _from_http_error(error: HttpError) -> GoogleCalendarError:
    status = int(error.status_code)
    reason = _reason(error.content)
    said = f"Google Calendar answered HTTP {status}" + (f" ({reason})" if reason else "")
    said += f": {error.reason}" if error.reason else ""
    if status == 401:
        return GrantRevoked(f"{said}, even with a fresh access token; the host must connect again")
    if status in (408, 429) or status >= 500 or (status == 403 and reason in RATE_LIMIT_REASONS):
        return GoogleUnavailable(said, _retry_after(error.resp.get("retry-after")))
    return GoogleRejected(said, status=status, reason=reason)


def _reason(content: bytes) -> str | None:
    """The first ``reason`` of Google's error JSON (``{"error": {"errors": [{"reason": ...}]}}``)."""
    try:
        errors = json.loads(content)["error"]["errors"]
        return str(errors[0]["reason"])
    except (ValueError, LookupError, TypeError):
        return None


def _from_refresh_error(error: RefreshError) -> GoogleCalendarError:
    answer = error.args[1] if len(error.args) > 1 and isinstance(error.args[1], dict) else {}
    if error.retryable:
        return GoogleUnavailable("Google's token endpoint failed while refreshing the access token")
    if answer.get("error") == "invalid_grant":
        return GrantRevoked("Google refused the refresh token: the host revoked access or it expired")
    return GoogleRejected(f"Google refused to refresh the access token ({answer.get('error') or error})")


def _raise_for_oauth_status(response: httpx.Response, what: str) -> NoReturn:
    status = response.status_code
    if status in (408, 429) or status >= 500:
        raise GoogleUnavailable(f"Google's {what} failed (HTTP {status})", _retry_after(response.headers.get("Retry-After")))
    try:
        error = str(response.json().get("error", ""))
    except ValueError:
        error = ""
    hints = {
        "invalid_grant": "the authorization code is invalid, already used or expired",
        "invalid_client": "Google does not know this OAuth client id and secret",
        "redirect_uri_mismatch": "the redirect URI differs from the one used for consent",
    }
    raise GoogleRejected(f"Google's {what} refused the request (HTTP {status}, {hints.get(error, error or 'no reason')})",
                         status=status, reason=error or None)
