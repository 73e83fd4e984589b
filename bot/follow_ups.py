"""Work a Slack listener hands off once it has acknowledged, in two lanes of threads of their own.

- **Answers** (``answer``): the rest of a click's work, such as the queries and Block Kit of a
  modal and the Slack calls that open it. It is Python work, and in one process Python work
  takes turns on one interpreter lock: every thread busy with it slows down every
  acknowledgement still on its way. So at most ``answering`` jobs hold a turn at once (a
  ``CpuTurns``); a job gives its turn back while it waits for Slack's answer, so a slow Slack
  does not hold up the others. When answers fall behind, new clicks wait for room before they
  are acknowledged (``wait_for_room``), so every answer still comes in time to open a modal.
- **Deliveries** (``run``): sending what an action queued through the mail server, the calendar
  and the channel, then showing how it went. Those wait on the network, so there are more
  threads, and none holds a turn.

Bolt starts every listener, the acknowledging part included, on its listener executor; a
listener that went on working there would keep a thread that a new request needs for its
acknowledgement, and Slack gives up after 3 seconds. Answers and deliveries may wait;
acknowledgements may not. Nothing here is the only copy of a side effect: the outbox tick
delivers whatever a follow-up did not get to.
"""

import logging
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from functools import partial
from typing import TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")
ROOM_WAIT = 2.0  # seconds an acknowledgement may wait for room: Slack waits 3


class CpuTurns:
    """At most ``n`` threads at a time doing after-ack Python work; the others wait, off the lock."""

    def __init__(self, n: int) -> None:
        self._turns = threading.BoundedSemaphore(n)
        self._mine = threading.local()

    def holding(self) -> bool:
        return getattr(self._mine, "held", False)

    @contextmanager
    def turn(self) -> Iterator[None]:
        self._turns.acquire()
        self._mine.held = True
        try:
            yield
        finally:
            self._mine.held = False
            self._turns.release()

    @contextmanager
    def waiting(self) -> Iterator[None]:
        """Around a network wait: the thread's turn, if it has one, goes to another meanwhile."""
        if not self.holding():
            yield
            return
        self._mine.held = False
        self._turns.release()
        try:
            yield
        finally:
            self._turns.acquire()
            self._mine.held = True


class FollowUps:
    """The two lanes; a failure is logged (the person has had their ack)."""

    def __init__(self, deliveries: int = 16, answering: int = 2, answer_threads: int = 16,
                 answers_waiting: int = 64) -> None:
        self.turns = CpuTurns(answering)
        self._room = threading.BoundedSemaphore(answers_waiting)
        self._deliveries = ThreadPoolExecutor(max_workers=deliveries, thread_name_prefix="slack-follow-up")
        self._answers = ThreadPoolExecutor(max_workers=answer_threads, thread_name_prefix="slack-answer")

    def run(self, work: Callable[[], None]) -> None:
        """Deliver after the ack (network-bound)."""
        self._deliveries.submit(self._logged, work)

    def wait_for_room(self, timeout: float = ROOM_WAIT) -> bool:
        """Before acknowledging a click whose answer will come here: wait while ``answers_waiting``
        answers are already queued or running. Without it, a flood of clicks would be
        acknowledged faster than answered, and the last answers would come after their
        trigger_id (3 seconds) has lapsed. False: no room came; the answer goes anyway."""
        return self._room.acquire(timeout=timeout)

    def answer(self, work: Callable[[], None], *, took_room: bool) -> None:
        """Finish answering a click after its ack, taking turns with the other answers;
        ``took_room``: what ``wait_for_room`` said (False also for the second half of an answer
        already counted, such as a submission's outcome)."""
        self._answers.submit(self._in_turn, partial(self._logged, work), took_room)

    def compute(self, work: Callable[[], T]) -> "Future[T]":
        """Run ``work`` on the answering lane, in turn, once there is room; its result or its
        exception comes in the future (a modal submission waits a moment for it)."""
        return self._answers.submit(self._in_turn, work, self.wait_for_room())

    def _in_turn(self, work: Callable[[], T], took_room: bool) -> T:
        try:
            with self.turns.turn():
                return work()
        finally:
            if took_room:
                self._room.release()

    @staticmethod
    def _logged(work: Callable[[], None]) -> None:
        try:
            work()
        except Exception:  # no listener is waiting for it: the log is where it can be seen
            log.exception("follow-up after a Slack acknowledgement failed")

    def shutdown(self, *, wait: bool = True) -> None:
        """Stop taking work; with ``wait``, finish what was handed over first."""
        self._answers.shutdown(wait=wait)  # answers may hand deliveries over: they stop first
        self._deliveries.shutdown(wait=wait)
