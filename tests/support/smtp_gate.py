"""An SMTP handler that holds one message's DATA until the test lets go: a sender caught mid-send.

The held message is never accepted: when the test releases it (or the sender's connection
dies first) the server answers 421, so it counts as not delivered, exactly as when a server
process is killed while its mail server is still reading the message.
"""

import asyncio
import email
import email.policy
import threading
from dataclasses import dataclass, field

from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.support.smtp_servers import Received, RecordingHandler


@dataclass
class GateHandler(RecordingHandler):
    """Accepts and records every message except the ``hold_at``-th (1-based), which it holds."""

    hold_at: int = 1
    held: threading.Event = field(default_factory=threading.Event)
    """Set when the held message's DATA has arrived: its sender is now waiting for our answer."""
    released: threading.Event = field(default_factory=threading.Event)
    held_message_id: str | None = None
    _seen: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        data = envelope.original_content or envelope.content
        assert isinstance(data, bytes)
        self._seen += 1  # handlers run one at a time on the server's event loop
        if self._seen == self.hold_at:
            self.held_message_id = str(email.message_from_bytes(data, policy=email.policy.default)["Message-ID"])
            self.held.set()
            while not self.released.is_set():
                await asyncio.sleep(0.02)  # other connections go on meanwhile
            return "421 4.3.0 Service not available, closing transmission channel"
        with self._lock:
            self.received.append(Received(str(envelope.mail_from), tuple(envelope.rcpt_tos), data))
        return "250 2.0.0 Message accepted for delivery"

    def message_ids(self) -> list[str]:
        """The Message-ID of every accepted message, in arrival order."""
        with self._lock:
            received = list(self.received)
        return [str(email.message_from_bytes(r.data, policy=email.policy.default)["Message-ID"]) for r in received]
