"""A local notetaker service over real HTTP: records every request, answers as told.

    with FakeNotetaker() as notetaker:
        notetaker.answer_next(500)          # the next request gets HTTP 500
        notetaker.stall_next(2.0)           # the next one gets no answer for 2 s
        ...
        [request] = notetaker.wait_for(1)
        assert request.json["meeting_url"] == ...

It checks nothing itself: tests verify the signature with ``bot.integrations.notetaker.verify``
or by recomputing it, so a wrong signature fails a test instead of being hidden here.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

PATH = "/hooks/interview-desk"


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), None)


@dataclass(frozen=True)
class _Answer:
    status: int = 202
    body: str = '{"ok": true}'
    headers: dict[str, str] = field(default_factory=dict)
    stall: float = 0.0  # seconds to wait before answering (longer than the client's timeout: no answer)


class FakeNotetaker:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._received: list[Received] = []
        self._script: deque[_Answer] = deque()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle

    def start(self) -> FakeNotetaker:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True
        server.fake = self  # type: ignore[attr-defined]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True,
                                        name="fake-notetaker")
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> FakeNotetaker:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None, "FakeNotetaker is not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}{PATH}"

    # -- programming

    def answer_next(self, status: int, *, times: int = 1, body: str = "", headers: dict[str, str] | None = None) -> None:
        with self._lock:
            self._script.extend([_Answer(status, body, headers or {})] * times)

    def stall_next(self, seconds: float, *, times: int = 1) -> None:
        with self._lock:
            self._script.extend([_Answer(stall=seconds)] * times)

    # -- what arrived

    @property
    def received(self) -> list[Received]:
        with self._lock:
            return list(self._received)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Received]:
        with self._changed:
            if not self._changed.wait_for(lambda: len(self._received) >= count, timeout=timeout):
                raise AssertionError(f"expected {count} notetaker request(s), got {len(self._received)}")
            return list(self._received)

    def _take(self, request: Received) -> _Answer:
        with self._changed:
            self._received.append(request)
            self._changed.notify_all()
            return self._script.popleft() if self._script else _Answer()


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        fake: FakeNotetaker = self.server.fake  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        answer = fake._take(Received(self.path, dict(self.headers.items()), body, time.time()))
        if answer.stall:
            time.sleep(answer.stall)
        payload = answer.body.encode()
        try:
            self.send_response(answer.status)
            for name, value in {"Content-Type": "application/json", **answer.headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except OSError:  # the client gave up waiting (a stall): nobody to answer
            pass

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base class's name)
        """Quiet."""
