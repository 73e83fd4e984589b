"""A local fake of the Slack Web API served over real HTTP.

Point the real client at it::

    with FakeSlackAPI() as fake:
        client = WebClient(base_url=fake.api_url, token=fake.bot_token)
        client.chat_postMessage(channel="C1", text="hi")
        assert fake.calls_to("chat.postMessage")[0].params["text"] == "hi"

Besides ``/api/<method>`` the server accepts ``response_url`` posts at
``/response/<name>`` (see :meth:`FakeSlackAPI.response_url`). Message blocks and
views are validated on receipt with :mod:`tests.support.blockkit`; problems are
answered the way Slack does and collected in :attr:`FakeSlackAPI.block_errors`.
"""

from __future__ import annotations

import email.parser
import email.policy
import itertools
import json
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .blockkit import message_block_errors, view_errors

__all__ = ["Call", "FakeSlackAPI", "RESPONSE_URL_METHOD"]

RESPONSE_URL_METHOD = "response_url"
"""The ``Call.method`` recorded for posts to a :meth:`FakeSlackAPI.response_url`."""

JSON_FIELDS = ("blocks", "attachments", "view", "metadata")
"""Fields WebClient sends as JSON strings inside form bodies; decoded on receipt."""

BOT_USER_ID = "U0BOT"
BOT_ID = "B0BOT"
APP_ID = "A0TEST"
_TS_BASE_MICROS = 1_700_000_000 * 1_000_000

JsonDict = dict[str, Any]


@dataclass(frozen=True)
class Call:
    """One request received by the fake."""

    method: str
    params: dict[str, Any]
    headers: dict[str, str]
    at: float
    failed: bool = False
    """True when the fake answered with an error (injected, auth or validation)."""
    error: str | None = None
    """The error code answered, if any."""
    ts: str | None = None
    """The ``ts`` answered (the message posted or updated), if any."""


@dataclass(frozen=True)
class _Failure:
    status: int
    error: str
    retry_after: int | None
    channel: str | None = None
    """Only calls to this channel (any channel when None)."""
    text_body: str | None = None
    """Answer this plain text instead of Slack's JSON (a proxy's error page)."""

    def applies_to(self, params: JsonDict) -> bool:
        return self.channel is None or params.get("channel") == self.channel


@dataclass
class _Reply:
    status: int
    body: JsonDict | str
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def error(self) -> str | None:
        if isinstance(self.body, dict) and not self.body.get("ok", True):
            return str(self.body.get("error"))
        return None if self.status < 400 else str(self.body)


class FakeSlackAPI:
    """Fake Slack Web API on ``127.0.0.1`` (a free port), recording every call."""

    def __init__(
        self,
        *,
        bot_token: str = "xoxb-test-token",
        app_token: str = "xapp-test-token",
        team_id: str = "T0TEST",
        team_domain: str = "interview-desk-test",
        team_name: str = "Interview Desk Test",
    ) -> None:
        self.bot_token = bot_token
        self.app_token = app_token
        self.team_id = team_id
        self.team_domain = team_domain
        self.team_name = team_name
        self.socket_mode_url = "ws://127.0.0.1:1/"
        """What ``apps.connections.open`` returns as ``url``."""
        self.users: dict[str, JsonDict] = {}
        """Overrides for ``users.info`` by user id (see :meth:`add_user`)."""
        self.channels: dict[str, JsonDict] = {}
        """Overrides for ``conversations.info`` by channel id (see :meth:`add_channel`)."""

        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._calls: list[Call] = []
        self._block_errors: list[str] = []
        self._failures: dict[str, deque[_Failure]] = {}
        self._ts_counter = itertools.count(1)
        self._view_counter = itertools.count(1)
        self._hash_counter = itertools.count(1)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._handlers: dict[str, Callable[[JsonDict], _Reply]] = {
            "auth.test": self._auth_test,
            "apps.connections.open": self._apps_connections_open,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.getPermalink": self._chat_get_permalink,
            "views.open": self._views_open,
            "views.push": self._views_push,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
            "users.info": self._users_info,
            "conversations.info": self._conversations_info,
        }

    # -- lifecycle -----------------------------------------------------------

    def start(self) -> FakeSlackAPI:
        """Start serving in a daemon thread; returns ``self``."""
        if self._server is not None:
            return self
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True
        server.fake = self  # type: ignore[attr-defined]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},  # keeps stop() fast
            name="fake-slack-api",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the server and release the port."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> FakeSlackAPI:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- addresses -----------------------------------------------------------

    @property
    def port(self) -> int:
        """The port the server listens on (only while started)."""
        if self._server is None:
            raise RuntimeError("FakeSlackAPI is not started")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        """Base URL for ``WebClient(base_url=...)``, with the trailing slash."""
        return f"{self.base_url}/api/"

    def response_url(self, name: str) -> str:
        """A ``response_url`` whose posts are recorded as method ``"response_url"``."""
        return f"{self.base_url}/response/{name}"

    # -- recorded state ------------------------------------------------------

    @property
    def calls(self) -> list[Call]:
        """A snapshot of every call received, oldest first."""
        with self._lock:
            return list(self._calls)

    @property
    def block_errors(self) -> list[str]:
        """A snapshot of every Block Kit problem refused so far."""
        with self._lock:
            return list(self._block_errors)

    def calls_to(self, method: str) -> list[Call]:
        """Calls to one API method (or ``"response_url"``), oldest first."""
        with self._lock:
            return [call for call in self._calls if call.method == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        """Block until at least ``count`` calls to ``method`` arrived; return them.

        Raises ``AssertionError`` naming the methods seen when ``timeout`` expires.
        """
        with self._changed:
            arrived = self._changed.wait_for(
                lambda: sum(call.method == method for call in self._calls) >= count,
                timeout=timeout,
            )
            matching = [call for call in self._calls if call.method == method]
            if arrived:
                return matching
            seen = [call.method for call in self._calls]
        raise AssertionError(
            f"expected {count} call(s) to {method!r} within {timeout}s, got {len(matching)}; "
            f"methods seen: {seen or 'none'}"
        )

    def reset(self) -> None:
        """Forget recorded calls, block errors, queued failures, and users and channels added."""
        with self._lock:
            self._calls.clear()
            self._block_errors.clear()
            self._failures.clear()
            self.users.clear()
            self.channels.clear()
            self.socket_mode_url = "ws://127.0.0.1:1/"

    # -- programming the fake ------------------------------------------------

    def fail_next(
        self,
        method: str,
        *,
        status: int = 500,
        times: int = 1,
        retry_after: int | None = None,
        error: str = "internal_error",
        channel: str | None = None,
        text_body: str | None = None,
    ) -> None:
        """Answer the next ``times`` calls to ``method`` with an error.

        ``status=429`` answers ``{"ok": false, "error": "ratelimited"}`` (plus a
        ``Retry-After`` header when ``retry_after`` is given); ``status=200``
        answers a Slack-level error such as ``error="channel_not_found"``.
        With ``channel``, only calls to that channel fail (others pass by);
        ``text_body`` answers plain text instead of JSON, as a proxy in front of
        Slack may.
        """
        if status == HTTPStatus.TOO_MANY_REQUESTS:
            error = "ratelimited"
        failure = _Failure(status=status, error=error, retry_after=retry_after, channel=channel, text_body=text_body)
        with self._lock:
            self._failures.setdefault(method, deque()).extend([failure] * times)

    def add_user(
        self,
        user_id: str,
        *,
        name: str | None = None,
        real_name: str | None = None,
        email: str | None = None,
        tz: str = "Europe/Berlin",
        **extra: Any,
    ) -> JsonDict:
        """Define what ``users.info`` returns for ``user_id``; returns the user object."""
        user = self._default_user(user_id)
        profile = user["profile"]
        if name is not None:
            user["name"] = profile["display_name"] = name
        if real_name is not None:
            user["real_name"] = profile["real_name"] = real_name
        if email is not None:
            profile["email"] = email
        user["tz"] = tz
        user.update(extra)
        self.users[user_id] = user
        return user

    def add_channel(self, channel_id: str, *, name: str, is_private: bool = False, **extra: Any) -> JsonDict:
        """Define what ``conversations.info`` returns for ``channel_id``."""
        channel = self._default_channel(channel_id)
        channel.update(name=name, name_normalized=name, is_private=is_private, **extra)
        self.channels[channel_id] = channel
        return channel

    # -- request handling (called from server threads) -----------------------

    def _handle(self, method: str, params: JsonDict, headers: dict[str, str]) -> _Reply:
        with self._lock:
            queue = self._failures.get(method) or deque()
            failure = next((f for f in queue if f.applies_to(params)), None)
            if failure is not None:
                queue.remove(failure)  # the first that applies: equal failures are interchangeable
        if failure is not None:
            body: JsonDict | str = failure.text_body if failure.text_body is not None else {"ok": False, "error": failure.error}
            reply = _Reply(failure.status, body)
            if failure.retry_after is not None:
                reply.headers["Retry-After"] = str(failure.retry_after)
        elif method == RESPONSE_URL_METHOD:
            reply = self._response_url_post(params)
        else:
            reply = self._check_token(method, headers, params) or self._dispatch(method, params)

        error = reply.error
        ts = reply.body.get("ts") if isinstance(reply.body, dict) and error is None else None
        call = Call(method, params, headers, time.time(), failed=error is not None, error=error, ts=ts)
        with self._changed:
            self._calls.append(call)
            self._changed.notify_all()
        return reply

    def _check_token(self, method: str, headers: dict[str, str], params: JsonDict) -> _Reply | None:
        auth = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
        token = auth[len("Bearer ") :].strip() if auth.startswith("Bearer ") else str(params.get("token", ""))
        if not token:
            return _error("not_authed")
        if token not in (self.bot_token, self.app_token):
            return _error("invalid_auth")
        needs_app_token = method == "apps.connections.open"
        if (token == self.app_token) != needs_app_token:
            return _error("not_allowed_token_type")
        return None

    def _dispatch(self, method: str, params: JsonDict) -> _Reply:
        handler = self._handlers.get(method)
        if handler is None:
            return _error("unknown_method")
        return handler(params)

    def _refuse_blocks(self, where: str, problems: list[str], error: str) -> _Reply:
        with self._lock:
            self._block_errors.extend(f"{where}: {problem}" for problem in problems)
        return _error(
            error,
            errors=problems,
            response_metadata={"messages": [f"[ERROR] {problem}" for problem in problems]},
        )

    def _message_problems(self, where: str, params: JsonDict) -> _Reply | None:
        blocks = params.get("blocks")
        if blocks is None:
            return None
        problems = message_block_errors(blocks)
        if not problems:
            return None
        error = "invalid_blocks_format" if not isinstance(blocks, list) else "invalid_blocks"
        return self._refuse_blocks(where, problems, error)

    def _view_problems(self, where: str, params: JsonDict) -> _Reply | None:
        problems = view_errors(params.get("view"))
        return self._refuse_blocks(where, problems, "invalid_arguments") if problems else None

    # -- Web API methods -----------------------------------------------------

    def _auth_test(self, params: JsonDict) -> _Reply:
        return _ok(
            url=f"https://{self.team_domain}.slack.com/",
            team=self.team_name,
            user="interview-desk",
            team_id=self.team_id,
            user_id=BOT_USER_ID,
            bot_id=BOT_ID,
            is_enterprise_install=False,
        )

    def _apps_connections_open(self, params: JsonDict) -> _Reply:
        return _ok(url=self.socket_mode_url)

    def _chat_post_message(self, params: JsonDict) -> _Reply:
        channel = params.get("channel")
        if not channel:
            return _error("channel_not_found")
        if not (params.get("text") or params.get("blocks") or params.get("attachments")):
            return _error("no_text")
        refused = self._message_problems("chat.postMessage", params)
        if refused:
            return refused
        ts = self._next_ts()
        channel = _dm_channel(str(channel))
        return _ok(channel=channel, ts=ts, message=self._message(params, ts))

    def _chat_update(self, params: JsonDict) -> _Reply:
        channel, ts = params.get("channel"), params.get("ts")
        if not channel:
            return _error("channel_not_found")
        if not ts:
            return _error("message_not_found")
        refused = self._message_problems("chat.update", params)
        if refused:
            return refused
        message = self._message(params, str(ts))
        return _ok(channel=channel, ts=ts, text=params.get("text", ""), message=message)

    def _chat_post_ephemeral(self, params: JsonDict) -> _Reply:
        if not params.get("channel"):
            return _error("channel_not_found")
        if not params.get("user"):
            return _error("user_not_in_channel")
        refused = self._message_problems("chat.postEphemeral", params)
        if refused:
            return refused
        return _ok(message_ts=self._next_ts())

    def _chat_get_permalink(self, params: JsonDict) -> _Reply:
        channel, ts = params.get("channel"), params.get("message_ts")
        if not channel:
            return _error("channel_not_found")
        if not ts:
            return _error("message_not_found")
        link = f"https://{self.team_domain}.slack.com/archives/{channel}/p{str(ts).replace('.', '')}"
        return _ok(channel=channel, permalink=link)

    def _views_open(self, params: JsonDict) -> _Reply:
        return self._open_view("views.open", params)

    def _views_push(self, params: JsonDict) -> _Reply:
        return self._open_view("views.push", params)

    def _open_view(self, method: str, params: JsonDict) -> _Reply:
        if not (params.get("trigger_id") or params.get("interactivity_pointer")):
            return _invalid_arguments("missing required field: trigger_id")
        return self._view_reply(method, params, view_id=None)

    def _views_update(self, params: JsonDict) -> _Reply:
        view_id = params.get("view_id")
        if not (view_id or params.get("external_id")):
            return _invalid_arguments("missing required field: view_id or external_id")
        return self._view_reply("views.update", params, view_id=view_id)

    def _views_publish(self, params: JsonDict) -> _Reply:
        if not params.get("user_id"):
            return _invalid_arguments("missing required field: user_id")
        return self._view_reply("views.publish", params, view_id=None)

    def _view_reply(self, method: str, params: JsonDict, *, view_id: str | None) -> _Reply:
        refused = self._view_problems(method, params)
        if refused:
            return refused
        view: JsonDict = dict(params["view"])
        new_id = view_id or f"V{next(self._view_counter):04d}"
        view.update(
            id=new_id,
            team_id=self.team_id,
            app_id=APP_ID,
            bot_id=BOT_ID,
            app_installed_team_id=self.team_id,
            hash=f"1700000000.{next(self._hash_counter):08d}",
            state={"values": {}},
            root_view_id=new_id,
            previous_view_id=None,
        )
        for key, default in (("private_metadata", ""), ("callback_id", ""), ("external_id", "")):
            view.setdefault(key, default)
        view.setdefault("clear_on_close", False)
        view.setdefault("notify_on_close", False)
        return _ok(view=view)

    def _users_info(self, params: JsonDict) -> _Reply:
        user_id = params.get("user")
        if not user_id:
            return _error("user_not_found")
        user = self.users.get(str(user_id)) or self._default_user(str(user_id))
        return _ok(user=user)

    def _conversations_info(self, params: JsonDict) -> _Reply:
        channel_id = params.get("channel")
        if not channel_id:
            return _error("channel_not_found")
        channel = self.channels.get(str(channel_id)) or self._default_channel(str(channel_id))
        return _ok(channel=channel)

    def _response_url_post(self, params: JsonDict) -> _Reply:
        name = params.get("_name", "")
        blocks = params.get("blocks")
        problems = message_block_errors(blocks) if blocks is not None else []
        if problems:
            refused = self._refuse_blocks(f"response_url {name}", problems, "invalid_blocks")
            refused.status = HTTPStatus.BAD_REQUEST
            return refused
        return _Reply(HTTPStatus.OK, "ok")

    # -- builders ------------------------------------------------------------

    def _next_ts(self) -> str:
        micros = _TS_BASE_MICROS + next(self._ts_counter) * 100
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _message(self, params: JsonDict, ts: str) -> JsonDict:
        message: JsonDict = {
            "type": "message",
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "app_id": APP_ID,
            "team": self.team_id,
            "text": params.get("text", ""),
            "ts": ts,
        }
        for key in ("blocks", "attachments", "metadata", "thread_ts"):
            if params.get(key) is not None:
                message[key] = params[key]
        return message

    def _default_user(self, user_id: str) -> JsonDict:
        name = user_id.lower()
        real_name = f"Test User {user_id}"
        return {
            "id": user_id,
            "team_id": self.team_id,
            "name": name,
            "deleted": False,
            "real_name": real_name,
            "tz": "Europe/Berlin",
            "tz_label": "Central European Time",
            "tz_offset": 3600,
            "is_admin": False,
            "is_owner": False,
            "is_bot": False,
            "is_app_user": False,
            "updated": 1_700_000_000,
            "profile": {
                "real_name": real_name,
                "display_name": name,
                "email": f"{name}@example.com",
                "image_72": f"https://avatars.example.com/{name}_72.png",
                "team": self.team_id,
            },
        }

    def _default_channel(self, channel_id: str) -> JsonDict:
        is_im = channel_id.startswith("D")
        is_private = channel_id.startswith("G")
        name = channel_id.lower()
        channel: JsonDict = {
            "id": channel_id,
            "created": 1_700_000_000,
            "is_archived": False,
            "is_channel": not (is_im or is_private),
            "is_group": is_private,
            "is_im": is_im,
            "is_mpim": False,
            "is_private": is_private or is_im,
            "is_member": True,
            "context_team_id": self.team_id,
        }
        if is_im:
            channel["user"] = "U" + channel_id[1:]
        else:
            channel.update(name=name, name_normalized=name, creator=BOT_USER_ID)
        return channel


class _Handler(BaseHTTPRequestHandler):
    """Translate HTTP requests into :meth:`FakeSlackAPI._handle` calls."""

    server_version = "FakeSlack/1.0"

    def do_POST(self) -> None:  # noqa: N802 - http.server naming
        self._serve()

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - signature from the base class
        """Keep test output quiet."""

    def _serve(self) -> None:
        fake: FakeSlackAPI = self.server.fake  # type: ignore[attr-defined]
        url = urlsplit(self.path)
        if url.path.startswith("/api/"):
            method = url.path[len("/api/") :].strip("/")
        elif url.path.startswith("/response/"):
            method = RESPONSE_URL_METHOD
        else:
            self._send(_Reply(HTTPStatus.NOT_FOUND, "not_found"))
            return

        headers = dict(self.headers.items())
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        try:
            params = _flatten(parse_qs(url.query, keep_blank_values=True))
            params.update(_parse_body(body, self.headers.get("Content-Type", "")))
        except ValueError as exc:
            self._send(_Reply(HTTPStatus.BAD_REQUEST, {"ok": False, "error": "invalid_form_data", "detail": str(exc)}))
            return
        if method == RESPONSE_URL_METHOD:
            params["_name"] = url.path[len("/response/") :]
        self._send(fake._handle(method, _decode_json_fields(params), headers))

    def _send(self, reply: _Reply) -> None:
        if isinstance(reply.body, str):
            payload, content_type = reply.body.encode(), "text/plain; charset=utf-8"
        else:
            payload, content_type = json.dumps(reply.body).encode(), "application/json; charset=utf-8"
        self.send_response(reply.status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)


# -- helpers ------------------------------------------------------------------


def _ok(**fields: Any) -> _Reply:
    return _Reply(HTTPStatus.OK, {"ok": True, **fields})


def _error(error: str, **fields: Any) -> _Reply:
    return _Reply(HTTPStatus.OK, {"ok": False, "error": error, **fields})


def _invalid_arguments(message: str) -> _Reply:
    return _error("invalid_arguments", response_metadata={"messages": [f"[ERROR] {message}"]})


def _dm_channel(channel: str) -> str:
    """Posting to a user id lands in the DM channel, whose id Slack returns."""
    return "D" + channel[1:] if channel[:1] in ("U", "W") else channel


def _flatten(values: Mapping[str, list[str]]) -> JsonDict:
    """``parse_qs`` output with single values unwrapped."""
    return {key: items[0] if len(items) == 1 else items for key, items in values.items()}


def _parse_body(body: bytes, content_type: str) -> JsonDict:
    """Decode a form, JSON or multipart request body into a dict."""
    if not body:
        return {}
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type == "application/json":
        try:
            decoded = json.loads(body)
        except json.JSONDecodeError as exc:
            raise ValueError(f"invalid JSON body: {exc}") from exc
        return decoded if isinstance(decoded, dict) else {"_body": decoded}
    if media_type == "multipart/form-data":
        return _parse_multipart(body, content_type)
    return _flatten(parse_qs(body.decode("utf-8"), keep_blank_values=True))


def _parse_multipart(body: bytes, content_type: str) -> JsonDict:
    """Text fields become strings; file parts become ``{"filename", "content"}``."""
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    fields: JsonDict = {}
    for part in message.iter_parts():  # type: ignore[attr-defined]
        name = part.get_param("name", header="content-disposition")
        if not name:
            continue
        content = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        fields[name] = {"filename": filename, "content": content} if filename else content.decode("utf-8")
    return fields


def _decode_json_fields(params: JsonDict) -> JsonDict:
    """Turn JSON strings in :data:`JSON_FIELDS` into Python objects."""
    for key in JSON_FIELDS:
        value = params.get(key)
        if isinstance(value, str) and value.lstrip()[:1] in ("[", "{"):
            try:
                params[key] = json.loads(value)
            except json.JSONDecodeError:
                pass  # left as a string; validation reports it
    return params
