"""Work a Slack listener hands off once it has acknowledged: delivering what an action queued
(emails, calendar writes, the card) and then showing the person how it went.

It has threads of its own. Bolt starts every listener, the acknowledging part included, on its
listener executor; a listener that went on to send through a slow mail server or calendar there
would hold a thread that a new request needs for its acknowledgement, and Slack gives up after
3 seconds. Follow-ups may wait; acknowledgements may not. Nothing here is the only copy of a side
effect: the outbox tick delivers whatever a follow-up did not get to.
"""

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

log = logging.getLogger(__name__)


class FollowUps:
    """A bounded pool for after-the-ack work; a failure is logged (the person has had their ack)."""

    def __init__(self, max_workers: int = 16) -> None:
        self._executor = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="slack-follow-up")

    def run(self, work: Callable[[], None]) -> None:
        self._executor.submit(self._logged, work)

    @staticmethod
    def _logged(work: Callable[[], None]) -> None:
        try:
            work()
        except Exception:  # no listener is waiting for it: the log is where it can be seen
            log.exception("follow-up after a Slack acknowledgement failed")

    def shutdown(self, *, wait: bool = True) -> None:
        """Stop taking work; with ``wait``, finish what was handed over first."""
        self._executor.shutdown(wait=wait)
