"""Slow calendar and email backends for the acknowledgement benchmark.

Both answer every request only after ``delay`` seconds, the way a slow SMTP relay or a slow
Google answers, and count the requests they are holding, so the benchmark can tell when the
server has finished the work it queued (nothing held here, for a while).

- ``SlowSmtpRelay``: an aiosmtpd server on loopback whose DATA handler sleeps before accepting.
- ``SlowGoogle``: the fake Google of the tests (``tests/support/fake_google.py``), stalling every
  request, OAuth token refreshes included.
"""

import asyncio
import threading
import time
from dataclasses import dataclass, field
from types import TracebackType

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.support.fake_google import FakeGoogle
from tests.support.fake_google_oauth import Reply, Request
from tests.support.live_server import free_port


@dataclass
class InFlight:
    """How many requests a backend is holding now, and how many it has answered."""

    held: int = 0
    answered: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def enter(self) -> None:
        with self._lock:
            self.held += 1

    def leave(self) -> None:
        with self._lock:
            self.held -= 1
            self.answered += 1


@dataclass
class _SlowHandler:
    delay: float
    in_flight: InFlight

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.in_flight.enter()
        try:
            await asyncio.sleep(self.delay)  # other sessions go on meanwhile: a slow relay, not a stuck one
        finally:
            self.in_flight.leave()
        return "250 2.0.0 Message accepted for delivery"


class SlowSmtpRelay:
    """An SMTP relay on ``127.0.0.1`` that takes ``delay`` seconds to accept each message."""

    def __init__(self, delay: float) -> None:
        self.in_flight = InFlight()
        self._handler = _SlowHandler(delay, self.in_flight)
        self.port = free_port()
        self._controller = Controller(self._handler, hostname="127.0.0.1", port=self.port)

    @property
    def delay(self) -> float:
        return self._handler.delay

    @delay.setter
    def delay(self, seconds: float) -> None:
        self._handler.delay = seconds

    def __enter__(self) -> "SlowSmtpRelay":
        self._controller.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._controller.stop()


class SlowGoogle(FakeGoogle):
    """The fake Google, answering every request (API and OAuth) ``delay`` seconds late.

    The delay starts at 0, so that seeding events is quick; the benchmark sets it once the
    server is up. ``_handle`` is the one method every request of the fake goes through.
    """

    def __init__(self) -> None:
        super().__init__()
        self.delay = 0.0
        self.in_flight = InFlight()

    def _handle(self, request: Request) -> Reply:
        self.in_flight.enter()
        try:
            if self.delay:
                time.sleep(self.delay)
            return super()._handle(request)
        finally:
            self.in_flight.leave()
