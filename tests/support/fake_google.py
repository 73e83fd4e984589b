"""A local fake Google (Calendar API v3 and OAuth 2.0) over real HTTP, for tests.

    with FakeGoogle(client_id="cid", client_secret="secret") as google:
        google.next_consent("host@example.com")       # who passes the consent screen next
        ...                                             # OAuth at google.auth_url / token_url
        service = build("calendar", "v3", ..., client_options={"api_endpoint": google.api_url + "calendar/v3/"})
        google.respond(event_id, "guest@example.com", "accepted")    # people acting in Google
        google.wait_for_notifications(2)                              # pushes sent to channels

The Calendar API lives under ``/calendar/v3/`` and checks ``Authorization: Bearer`` (401 with
Google's error JSON, so google-auth refreshes and retries). ``primary`` is the token's account.
Events are never removed: a delete marks them ``cancelled`` so incremental sync reports it. Each
change gets a number; a sync token names the last number seen, so ``syncToken`` lists what
changed after it. Push notifications go out from a background thread, one at a time and in order
(to any address: unlike Google, plain http on loopback is accepted).
"""

from __future__ import annotations

import base64
import copy
import email.utils
import itertools
import json
import queue
import random
import string
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx

from .fake_google_oauth import AUTH_PATH, REVOKE_PATH, TOKEN_PATH, FakeOAuth, Reply, Request

__all__ = ["API_PREFIX", "Call", "FakeGoogle", "Notification"]

API_PREFIX = "/calendar/v3/"
DEFAULT_WATCH_TTL = 604_800  # seconds: Google's default channel lifetime
_AUTH = "https://www.googleapis.com/auth/"
_WRITE = frozenset(_AUTH + s for s in ("calendar", "calendar.events", "calendar.events.owned", "calendar.app.created"))
_READ = _WRITE | {_AUTH + s for s in ("calendar.readonly", "calendar.events.readonly", "calendar.events.owned.readonly")}
_FREEBUSY = frozenset(_AUTH + s for s in ("calendar", "calendar.readonly", "calendar.freebusy", "calendar.events.freebusy"))
_SERVER_FIELDS = {"kind", "id", "etag", "created", "updated", "creator", "organizer", "htmlLink", "hangoutLink", "iCalUID"}
_KEPT_ON_PUT = _SERVER_FIELDS | {"sequence", "conferenceData", "_n", "_seq"}
_NOT_WITH_SYNC_TOKEN = ("timeMin", "timeMax", "updatedMin", "q", "orderBy", "iCalUID", "privateExtendedProperty")
_RESPONSES = ("needsAction", "declined", "tentative", "accepted")
_BASE32HEX = set("0123456789abcdefghijklmnopqrstuv")
_DEFAULT_FAILURES = {  # status: (domain, reason, message), the shapes Google answers
    403: ("usageLimits", "rateLimitExceeded", "Rate Limit Exceeded"),
    429: ("usageLimits", "rateLimitExceeded", "Rate Limit Exceeded"),
    500: ("global", "backendError", "Backend Error"),
    503: ("global", "backendError", "The service is currently unavailable."),
}


@dataclass(frozen=True)
class Call(Request):
    """A request the fake received, and the status it answered."""

    status: int = 0
    at: float = 0.0


@dataclass(frozen=True)
class Notification:
    """A push notification sent to a channel: ``status`` answered, or ``error`` when unreachable."""

    channel_id: str
    address: str
    state: str
    number: int
    status: int | None
    error: str | None = None


@dataclass
class _Channel:
    id: str
    resource_id: str
    resource_uri: str
    address: str
    token: str | None
    expiration_ms: int
    email: str
    number: int = 0


@dataclass
class _Calendar:
    email: str
    resource_id: str = field(default_factory=lambda: uuid.uuid4().hex[:27])
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    generation: int = 0  # bumped to invalidate every sync token issued so far
    meet_codes: dict[str, str] = field(default_factory=dict)  # Meet requestId -> conference id


@dataclass(frozen=True)
class _Failure:
    status: int | None  # None: answer normally, after the stall
    body: dict[str, Any] | str | None
    retry_after: float | str | None
    stall: float = 0.0


def _rfc3339(moment: datetime, *, millis: bool = True) -> str:
    spec = "milliseconds" if millis else "seconds"
    return moment.astimezone(UTC).isoformat(timespec=spec).replace("+00:00", "Z")


def _now() -> datetime:
    return datetime.now(UTC)


def _event_time(when: dict[str, Any]) -> datetime:
    if "date" in when:
        return datetime.fromisoformat(when["date"]).replace(tzinfo=UTC)
    moment = datetime.fromisoformat(when["dateTime"])
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(when["timeZone"]))


def _api_error(status: int, reason: str, message: str, *, domain: str = "global") -> Reply:
    detail = {"domain": domain, "reason": reason, "message": message}
    return Reply(status, {"error": {"errors": [detail], "code": status, "message": message}})


def _time_problem(body: dict[str, Any], name: str) -> str | None:
    when = body.get(name)
    if not isinstance(when, dict) or not (when.get("dateTime") or when.get("date")):
        return f"Missing {name} time."
    try:
        if when.get("timeZone"):
            ZoneInfo(when["timeZone"])
        moment = datetime.fromisoformat(when.get("dateTime") or when["date"])
    except (ValueError, ZoneInfoNotFoundError):
        return f"Invalid {name} time."
    if "dateTime" in when and moment.tzinfo is None and not when.get("timeZone"):
        return f"Missing time zone definition for {name} time."
    return None


def _encode(*parts: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(parts).encode()).decode()


def _decode(token: str) -> list[Any] | None:
    try:
        value = json.loads(base64.urlsafe_b64decode(token.encode()))
    except ValueError:
        return None
    return value if isinstance(value, list) else None


def _merge(target: dict[str, Any], patch: dict[str, Any]) -> None:
    """Patch semantics: objects merge, everything else (lists included) is replaced."""
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


class FakeGoogle:
    """Fake Google on ``127.0.0.1`` (a free port): OAuth, Calendar API v3, push notifications."""

    def __init__(
        self,
        *,
        client_id: str = "fake-client.apps.googleusercontent.com",
        client_secret: str = "fake-client-secret",
        redirect_uris: tuple[str, ...] | None = None,
    ) -> None:
        self.oauth = FakeOAuth(client_id, client_secret, redirect_uris)
        self.max_page_size = 250
        """The most events one list page holds, whatever ``maxResults`` asks (to force paging)."""
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._calls: list[Call] = []
        self._failures: deque[tuple[str, _Failure]] = deque()
        self._calendars: dict[str, _Calendar] = {}
        self._channels: dict[str, _Channel] = {}
        self._notifications: list[Notification] = []
        self._outbox: queue.Queue[tuple[_Channel, str, int] | None] = queue.Queue()
        self._paused = False
        self._seq = 0
        self._order = itertools.count(1)
        self._server: ThreadingHTTPServer | None = None
        self._threads: list[threading.Thread] = []

    # -- lifecycle

    def start(self) -> FakeGoogle:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True
        server.fake = self  # type: ignore[attr-defined]
        self._server = server
        self._threads = [
            threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True,
                             name="fake-google"),
            threading.Thread(target=self._deliver_notifications, daemon=True, name="fake-google-push"),
        ]
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
            self._outbox.put(None)
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads = []

    def __enter__(self) -> FakeGoogle:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    # -- addresses

    @property
    def base_url(self) -> str:
        assert self._server is not None, "FakeGoogle is not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def api_url(self) -> str:
        """The API root, like ``https://www.googleapis.com/``; the Calendar API is under ``calendar/v3/``."""
        return self.base_url + "/"

    @property
    def auth_url(self) -> str:
        return self.base_url + AUTH_PATH

    @property
    def token_url(self) -> str:
        return self.base_url + TOKEN_PATH

    @property
    def revoke_url(self) -> str:
        return self.base_url + REVOKE_PATH

    # -- what arrived

    @property
    def calls(self) -> list[Call]:
        with self._lock:
            return list(self._calls)

    def calls_to(self, fragment: str) -> list[Call]:
        """Calls whose ``"METHOD /path"`` contains ``fragment``, oldest first."""
        with self._lock:
            return [c for c in self._calls if fragment in f"{c.method} {c.path}"]

    def wait_for(self, fragment: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        with self._changed:
            self._changed.wait_for(lambda: len(self._matching(fragment)) >= count, timeout=timeout)
            matching = self._matching(fragment)
        if len(matching) < count:
            raise AssertionError(f"expected {count} call(s) matching {fragment!r}, got {len(matching)}")
        return matching

    @property
    def notifications(self) -> list[Notification]:
        with self._lock:
            return list(self._notifications)

    def wait_for_notifications(self, count: int, timeout: float = 5.0) -> list[Notification]:
        with self._changed:
            if not self._changed.wait_for(lambda: len(self._notifications) >= count, timeout=timeout):
                raise AssertionError(f"expected {count} notification(s), got {len(self._notifications)}")
            return list(self._notifications)

    def _matching(self, fragment: str) -> list[Call]:
        return [c for c in self._calls if fragment in f"{c.method} {c.path}"]

    # -- OAuth controls (see FakeOAuth)

    def next_consent(self, email: str, *, scopes: tuple[str, ...] | None = None) -> None:
        self.oauth.next_consent(email, scopes=scopes)

    def deny_next_consent(self) -> None:
        self.oauth.deny_next_consent()

    def expire_access_tokens(self) -> None:
        self.oauth.expire_access_tokens()

    def revoke_grant(self, email: str) -> None:
        self.oauth.revoke_grant(email)

    def issue_tokens(self, email: str, scopes: tuple[str, ...] = (_AUTH + "calendar",)) -> dict[str, Any]:
        """The token endpoint's answer for ``email``, skipping the consent screen."""
        return self.oauth.issue_tokens(email, scopes)

    @property
    def requested_scopes(self) -> list[tuple[str, ...]]:
        return self.oauth.requested_scopes

    @property
    def access_token_lifetime(self) -> int:
        return self.oauth.access_token_lifetime

    @access_token_lifetime.setter
    def access_token_lifetime(self, seconds: int) -> None:
        self.oauth.access_token_lifetime = seconds

    # -- failures

    def fail_next(
        self, fragment: str, status: int = 500, *, times: int = 1, retry_after: float | str | None = None,
        body: dict[str, Any] | str | None = None, reason: str | None = None,
    ) -> None:
        """Answer the next ``times`` requests whose ``"METHOD /path"`` contains ``fragment`` with ``status``.

        The body is Google's error JSON for the status (403 and 429: ``rateLimitExceeded``, or
        ``reason``), unless ``body`` is given. ``retry_after`` adds a ``Retry-After`` header
        (seconds, or a string sent as is, such as an HTTP date).
        """
        if body is None:
            domain, default_reason, message = _DEFAULT_FAILURES.get(status, ("global", "failed", "Failed"))
            body = _api_error(status, reason or default_reason, message, domain=domain).body
        with self._lock:
            self._failures.extend([(fragment, _Failure(status, body, retry_after))] * times)

    def stall_next(self, fragment: str, seconds: float, *, times: int = 1) -> None:
        """Wait ``seconds`` before answering the next matching requests (a slow Google)."""
        with self._lock:
            self._failures.extend([(fragment, _Failure(None, None, None, stall=seconds))] * times)

    # -- people acting in Google

    def add_event(
        self, email: str, start: datetime, end: datetime, *, summary: str = "Busy", transparent: bool = False,
    ) -> str:
        """An event the person puts in their own calendar; returns its id."""
        body = {"summary": summary, "start": {"dateTime": _rfc3339(start)}, "end": {"dateTime": _rfc3339(end)}}
        if transparent:
            body["transparency"] = "transparent"
        with self._lock:
            calendar = self._calendar(email)
            event = self._new_event(calendar, uuid.uuid4().hex, body, {})
            self._store(calendar, event)
            return str(event["id"])

    def respond(self, event_id: str, attendee_email: str, status: str) -> None:
        assert status in _RESPONSES, status
        with self._lock:
            calendar, event = self._find(event_id)
            attendee = next((a for a in event.get("attendees", []) if a["email"].lower() == attendee_email.lower()),
                            None)
            if attendee is None:
                raise KeyError(f"{attendee_email} is not invited to event {event_id!r}")
            attendee["responseStatus"] = status
            self._store(calendar, event)

    def move_event(self, event_id: str, start: datetime, end: datetime) -> None:
        with self._lock:
            calendar, event = self._find(event_id)
            event["start"], event["end"] = {"dateTime": _rfc3339(start)}, {"dateTime": _rfc3339(end)}
            event["sequence"] += 1
            self._store(calendar, event)

    def delete_event_as_user(self, event_id: str) -> None:
        with self._lock:
            calendar, event = self._find(event_id)
            event["status"] = "cancelled"
            event["sequence"] += 1
            self._store(calendar, event)

    def invalidate_sync_tokens(self, email: str) -> None:
        with self._lock:
            self._calendar(email).generation += 1

    def pause_notifications(self) -> None:
        """Send no push notifications (they are lost, not queued) until resumed."""
        with self._lock:
            self._paused = True

    def resume_notifications(self) -> None:
        with self._lock:
            self._paused = False

    def events(self, email: str) -> list[dict[str, Any]]:
        """Every event in ``email``'s calendar as ``events.get`` shows it, cancelled ones too."""
        with self._lock:
            calendar = self._calendars.get(email)
            return [_view(e) for e in calendar.events.values()] if calendar else []

    def event(self, event_id: str) -> dict[str, Any]:
        with self._lock:
            return _view(self._find(event_id)[1])

    @property
    def channel_ids(self) -> list[str]:
        """Channels that are open (not stopped); expired ones included."""
        with self._lock:
            return list(self._channels)

    # -- request handling (server threads)

    def _handle(self, request: Request) -> Reply:
        with self._lock:
            found = next((f for f in self._failures if f[0] in f"{request.method} {request.path}"), None)
            if found is not None:
                self._failures.remove(found)
        failure = found[1] if found else None
        if failure is not None and failure.stall:
            time.sleep(failure.stall)
        if failure is not None and failure.status is not None:
            reply = Reply(failure.status, failure.body)
            if failure.retry_after is not None:
                after = failure.retry_after
                reply.headers["Retry-After"] = after if isinstance(after, str) else f"{after:g}"
        elif request.path == AUTH_PATH and request.method == "GET":
            reply = self.oauth.authorize(request)
        elif request.path == TOKEN_PATH and request.method == "POST":
            reply = self.oauth.token(request)
        elif request.path == REVOKE_PATH and request.method == "POST":
            reply = self.oauth.revoke(request)
        elif request.path.startswith(API_PREFIX):
            reply = self._api(request)
        else:
            reply = Reply(404, "Not Found")
        call = Call(request.method, request.path, request.query, request.headers, request.body,
                    status=reply.status, at=time.time())
        with self._changed:
            self._calls.append(call)
            self._changed.notify_all()
        return reply

    def _api(self, request: Request) -> Reply:
        bearer = request.header("Authorization") or ""
        if not bearer.startswith("Bearer "):
            return _api_error(401, "required", "Login Required.")
        account = self.oauth.account_for(bearer[7:].strip())
        if account is None:
            return _api_error(401, "authError", "Invalid Credentials")
        email, scopes = account
        method, parts = request.method, request.path[len(API_PREFIX):].split("/")
        needed = _READ if method == "GET" or parts[-1] in ("watch", "stop") else _WRITE
        needed = _FREEBUSY if parts == ["freeBusy"] else needed
        if not scopes & needed:
            return _api_error(403, "insufficientPermissions", "Request had insufficient authentication scopes.")
        with self._lock:
            own = self._calendar(email)
            match method, parts:
                case "POST", ["freeBusy"]:
                    return self._free_busy(own, request.json or {})
                case "POST", ["channels", "stop"]:
                    return self._stop(email, request.json or {})
                case _, ["calendars", calendar_id, "events", *rest] if calendar_id in ("primary", email):
                    return self._events(own, calendar_id, method, rest, request)
        return _api_error(404, "notFound", "Not Found")

    def _events(self, calendar: _Calendar, calendar_id: str, method: str, rest: list[str], request: Request) -> Reply:
        q = request.query
        match method, rest:
            case "POST", []:
                return self._write(calendar, None, request.json or {}, q, replace=False)
            case "GET", []:
                return self._list(calendar, q)
            case "POST", ["watch"]:
                return self._watch(calendar, calendar_id, request.json or {})
        event = calendar.events.get(rest[0]) if len(rest) == 1 else None
        if event is None:
            return _api_error(404, "notFound", "Not Found")
        match method:
            case "GET":
                return Reply(200, _view(event))
            case "PATCH" | "PUT":
                return self._write(calendar, event, request.json or {}, q, replace=method == "PUT")
            case "DELETE" if event["status"] == "cancelled":
                return _api_error(410, "deleted", "Resource has been deleted")
            case "DELETE":
                event["status"] = "cancelled"
                event["sequence"] += 1
                self._store(calendar, event)
                return Reply(204)
        return _api_error(404, "notFound", "Not Found")

    # -- Calendar API (inside the lock)

    def _write(self, calendar: _Calendar, event: dict[str, Any] | None, body: dict[str, Any], q: dict[str, str],
               *, replace: bool) -> Reply:
        """Insert (``event`` None), patch or update; the change is made on a copy and kept only if valid."""
        problem = self._body_problem(body, q, partial=event is not None and not replace)
        if problem is not None:
            return problem
        if event is None:
            event_id = body.get("id") or uuid.uuid4().hex
            if any(event_id in c.events for c in self._calendars.values()):
                return _api_error(409, "duplicate", "The requested identifier already exists.")
            candidate = self._new_event(calendar, event_id, body, q)
        else:
            candidate = copy.deepcopy(event)
            if replace:
                for key in [k for k in candidate if k not in _KEPT_ON_PUT]:
                    del candidate[key]
            times_before = (event["start"], event["end"])
            self._apply(calendar, candidate, body, q)
            candidate.setdefault("status", "confirmed")
            if (candidate["start"], candidate["end"]) != times_before and "sequence" not in body:
                candidate["sequence"] += 1
        if _event_time(candidate["end"]) < _event_time(candidate["start"]):
            return _api_error(400, "timeRangeEmpty", "The specified time range is empty.", domain="calendar")
        self._store(calendar, candidate)
        return Reply(200, _view(candidate))

    def _body_problem(self, body: dict[str, Any], q: dict[str, str], *, partial: bool) -> Reply | None:
        for name in ("start", "end"):
            problem = None if partial and name not in body else _time_problem(body, name)
            if problem:
                return _api_error(400, "required" if "Missing" in problem else "invalid", problem)
        if "id" in body and not (5 <= len(body["id"]) <= 1024 and set(body["id"]) <= _BASE32HEX):
            return _api_error(400, "invalid", "Invalid resource id value.")
        if any(not a.get("email") for a in body.get("attendees") or []):
            return _api_error(400, "required", "Missing attendee email.")
        create = (body.get("conferenceData") or {}).get("createRequest")
        if create is not None and q.get("conferenceDataVersion") == "1":
            if not create.get("requestId"):
                return _api_error(400, "invalid", "Invalid conference create request: missing requestId.")
            if (create.get("conferenceSolutionKey") or {}).get("type") != "hangoutsMeet":
                return _api_error(400, "invalid", "Invalid conference type value.")
        return None

    def _new_event(
        self, calendar: _Calendar, event_id: str, body: dict[str, Any], q: dict[str, str],
    ) -> dict[str, Any]:
        owner = {"email": calendar.email, "self": True}
        event: dict[str, Any] = {
            "kind": "calendar#event", "id": event_id, "status": "confirmed",
            "htmlLink": f"https://www.google.com/calendar/event?eid={event_id}",
            "created": _rfc3339(_now()), "creator": owner, "organizer": dict(owner),
            "iCalUID": body.get("iCalUID") or f"{event_id}@google.com", "sequence": 0,
            "reminders": {"useDefault": True}, "eventType": "default", "_n": next(self._order),
        }
        self._apply(calendar, event, body, q)
        return event

    def _apply(self, calendar: _Calendar, event: dict[str, Any], body: dict[str, Any], q: dict[str, str]) -> None:
        fields = {k: v for k, v in body.items() if k not in _SERVER_FIELDS}
        conference = fields.pop("conferenceData", None)
        attendees = fields.pop("attendees", None)
        _merge(event, fields)
        if attendees is not None:
            before = {a["email"].lower(): a for a in event.get("attendees", [])}
            event["attendees"] = [self._attendee(calendar, a, before) for a in attendees]
        create = (conference or {}).get("createRequest")
        if create is not None and q.get("conferenceDataVersion") == "1":
            current = event.get("conferenceData", {}).get("createRequest", {}).get("requestId")
            if create["requestId"] != current:  # Google ignores a repeated request id
                self._add_meet(calendar, event, create["requestId"])

    @staticmethod
    def _attendee(calendar: _Calendar, given: dict[str, Any], before: dict[str, dict[str, Any]]) -> dict[str, Any]:
        attendee = copy.deepcopy(given)
        is_owner = attendee["email"].lower() == calendar.email.lower()
        default = "accepted" if is_owner else "needsAction"
        # An attendee listed again without an answer keeps the answer they gave.
        previous = before.get(attendee["email"].lower(), {}).get("responseStatus", default)
        attendee.setdefault("responseStatus", previous)
        if is_owner:
            attendee.update(organizer=True, self=True)
        return attendee

    def _add_meet(self, calendar: _Calendar, event: dict[str, Any], request_id: str) -> None:
        code = calendar.meet_codes.get(request_id)
        if code is None:
            letters = random.Random(request_id)  # the same request id always makes the same code
            code = "-".join("".join(letters.choices(string.ascii_lowercase, k=n)) for n in (3, 4, 3))
            calendar.meet_codes[request_id] = code
        uri = f"https://meet.google.com/{code}"
        event["hangoutLink"] = uri
        event["conferenceData"] = {
            "createRequest": {"requestId": request_id, "conferenceSolutionKey": {"type": "hangoutsMeet"},
                              "status": {"statusCode": "success"}},
            "entryPoints": [{"entryPointType": "video", "uri": uri, "label": uri.removeprefix("https://")}],
            "conferenceSolution": {"key": {"type": "hangoutsMeet"}, "name": "Google Meet"},
            "conferenceId": code,
        }

    def _list(self, calendar: _Calendar, q: dict[str, str]) -> Reply:
        since: int | None = None
        if "syncToken" in q:
            clash = next((p for p in _NOT_WITH_SYNC_TOKEN if p in q), None)
            if clash:
                return _api_error(400, "invalid", f"The syncToken parameter cannot be combined with {clash}.")
            token = _decode(q["syncToken"])
            if token is None or len(token) != 3 or token[0] != calendar.email:
                return _api_error(400, "invalid", "Invalid sync token value.")
            if token[1] != calendar.generation:
                return _api_error(410, "fullSyncRequired", "Sync token is no longer valid, a full sync is required.")
            since = int(token[2])
        page = _decode(q["pageToken"]) if "pageToken" in q else [0, self._seq]
        if page is None or len(page) != 2 or not all(isinstance(n, int) for n in page):
            return _api_error(400, "invalid", "Invalid page token value.")
        after, upto = page
        try:
            window = [_event_time({"dateTime": q[p]}) if p in q else None for p in ("timeMin", "timeMax")]
            size = min(int(q.get("maxResults", 250)), 2500, self.max_page_size)
        except (ValueError, KeyError):
            return _api_error(400, "invalid", "Bad Request")
        chosen = [e for e in sorted(calendar.events.values(), key=lambda e: e["_n"])
                  if e["_n"] > after and _listed(e, since, window, q.get("showDeleted") == "true")]
        page_items, more = chosen[:size], len(chosen) > size
        body: dict[str, Any] = {
            "kind": "calendar#events", "etag": f'"{self._seq}"', "summary": calendar.email,
            "updated": _rfc3339(_now()), "timeZone": "UTC", "accessRole": "owner", "defaultReminders": [],
            "items": [_short_view(e) if e["status"] == "cancelled" else _view(e) for e in page_items],
        }
        if more:
            body["nextPageToken"] = _encode(page_items[-1]["_n"], upto)
        else:
            body["nextSyncToken"] = _encode(calendar.email, calendar.generation, upto)
        return Reply(200, body)

    def _watch(self, calendar: _Calendar, calendar_id: str, body: dict[str, Any]) -> Reply:
        if body.get("type") not in ("web_hook", "webhook") or not body.get("id") or not body.get("address"):
            return _api_error(400, "invalid", "Invalid channel: id, type web_hook and address are required.")
        if body["id"] in self._channels:
            return _api_error(400, "channelIdNotUnique", f"Channel id {body['id']} not unique")
        now_ms = int(time.time() * 1000)
        expiration = now_ms + int((body.get("params") or {}).get("ttl", DEFAULT_WATCH_TTL)) * 1000
        if body.get("expiration"):
            expiration = min(expiration, int(body["expiration"]))
        uri = f"{self.api_url}calendar/v3/calendars/{quote(calendar_id)}/events?alt=json"
        channel = _Channel(body["id"], calendar.resource_id, uri, body["address"], body.get("token"), expiration,
                           calendar.email)
        self._channels[channel.id] = channel
        self._send(channel, "sync")
        answer = {"kind": "api#channel", "id": channel.id, "resourceId": channel.resource_id,
                  "resourceUri": uri, "expiration": str(expiration)}
        return Reply(200, answer | ({"token": channel.token} if channel.token else {}))

    def _stop(self, email: str, body: dict[str, Any]) -> Reply:
        channel = self._channels.get(body.get("id", ""))
        if channel is None or channel.resource_id != body.get("resourceId") or channel.email != email:
            return _api_error(404, "notFound", f"Channel '{body.get('id')}' not found for project 'fake'")
        del self._channels[channel.id]
        return Reply(204)

    def _free_busy(self, own: _Calendar, body: dict[str, Any]) -> Reply:
        try:
            start, end = (_event_time({"dateTime": body[k]}) for k in ("timeMin", "timeMax"))
        except (KeyError, ValueError):
            return _api_error(400, "badRequest", "Bad Request")
        if end <= start:
            return _api_error(400, "timeRangeEmpty", "The specified time range is empty.", domain="calendar")
        answer: dict[str, Any] = {}
        for item in body.get("items") or []:
            calendar = own if item.get("id") == "primary" else self._calendars.get(item.get("id", ""))
            if calendar is None:
                answer[item.get("id", "")] = {"errors": [{"domain": "global", "reason": "notFound"}], "busy": []}
            else:
                busy = [{"start": _rfc3339(s, millis=False), "end": _rfc3339(e, millis=False)}
                        for s, e in _busy(calendar, start, end)]
                answer[item["id"]] = {"busy": busy}
        return Reply(200, {"kind": "calendar#freeBusy", "timeMin": _rfc3339(start), "timeMax": _rfc3339(end),
                           "calendars": answer})

    # -- bookkeeping (inside the lock)

    def _calendar(self, email: str) -> _Calendar:
        return self._calendars.setdefault(email, _Calendar(email))

    def _find(self, event_id: str) -> tuple[_Calendar, dict[str, Any]]:
        for calendar in self._calendars.values():
            if event_id in calendar.events:
                return calendar, calendar.events[event_id]
        raise KeyError(f"no event {event_id!r} in the fake Google")

    def _store(self, calendar: _Calendar, event: dict[str, Any]) -> None:
        """Keep a change: number it (for sync tokens), stamp it and tell the calendar's channels."""
        self._seq += 1
        event["_seq"] = self._seq
        event["updated"] = _rfc3339(_now())
        event["etag"] = f'"{3_400_000_000_000_000 + self._seq}"'
        calendar.events[event["id"]] = event
        for channel in self._channels.values():
            if channel.email == calendar.email:
                self._send(channel, "exists")

    def _send(self, channel: _Channel, state: str) -> None:
        if self._paused or channel.expiration_ms <= time.time() * 1000:
            return
        channel.number += 1
        self._outbox.put((channel, state, channel.number))

    def _deliver_notifications(self) -> None:
        with httpx.Client(timeout=5.0) as client:
            while (item := self._outbox.get()) is not None:
                channel, state, number = item
                headers = {
                    "X-Goog-Channel-ID": channel.id,
                    "X-Goog-Channel-Expiration": email.utils.formatdate(channel.expiration_ms / 1000, usegmt=True),
                    "X-Goog-Resource-ID": channel.resource_id,
                    "X-Goog-Resource-URI": channel.resource_uri,
                    "X-Goog-Resource-State": state,
                    "X-Goog-Message-Number": str(number),
                }
                if channel.token:
                    headers["X-Goog-Channel-Token"] = channel.token
                try:
                    sent = Notification(channel.id, channel.address, state, number,
                                        client.post(channel.address, headers=headers, content=b"").status_code)
                except httpx.HTTPError as error:
                    sent = Notification(channel.id, channel.address, state, number, None, type(error).__name__)
                with self._changed:
                    self._notifications.append(sent)
                    self._changed.notify_all()


def _view(event: dict[str, Any]) -> dict[str, Any]:
    return {k: copy.deepcopy(v) for k, v in event.items() if not k.startswith("_")}


def _short_view(event: dict[str, Any]) -> dict[str, Any]:
    """A cancelled event in a list: only its id is guaranteed, as Google documents."""
    return {k: event[k] for k in ("kind", "etag", "id", "status")}


def _listed(event: dict[str, Any], since: int | None, window: list[datetime | None], show_deleted: bool) -> bool:
    if since is not None:  # incremental: every change after the token, cancellations included
        return bool(event["_seq"] > since)
    if event["status"] == "cancelled" and not show_deleted:
        return False
    time_min, time_max = window
    return (time_min is None or _event_time(event["end"]) > time_min) and (
        time_max is None or _event_time(event["start"]) < time_max)


def _busy(calendar: _Calendar, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """Opaque, live events the owner has not declined, clipped to the window and merged."""
    spans = []
    for event in calendar.events.values():
        own = next((a for a in event.get("attendees", []) if a.get("self")), {})
        if event["status"] == "cancelled" or event.get("transparency") == "transparent" \
                or own.get("responseStatus") == "declined":
            continue
        s, e = max(_event_time(event["start"]), start), min(_event_time(event["end"]), end)
        if s < e:
            spans.append((s, e))
    merged: list[tuple[datetime, datetime]] = []
    for s, e in sorted(spans):
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


class _Handler(BaseHTTPRequestHandler):
    def _serve(self) -> None:
        fake: FakeGoogle = self.server.fake  # type: ignore[attr-defined]
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        request = Request(
            method=self.command,
            path=unquote(split.path),
            query={k: v[0] for k, v in parse_qs(split.query, keep_blank_values=True).items()},
            headers=dict(self.headers.items()),
            body=self.rfile.read(length) if length else b"",
        )
        reply = fake._handle(request)
        if isinstance(reply.body, dict):
            payload, content_type = json.dumps(reply.body).encode(), "application/json; charset=UTF-8"
        else:
            payload, content_type = (reply.body or "").encode(), "text/plain; charset=UTF-8"
        try:
            self.send_response(reply.status)
            for name, value in {"Content-Type": content_type, **reply.headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except OSError:  # the client gave up (a stall longer than its timeout)
            pass

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve  # noqa: N815 (http.server's names)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base class's name)
        """Quiet."""

