"""5,000 reminder emails due in the same instant, delivered by several `interview-desk serve`
processes sharing one PostgreSQL database, to one real SMTP server.

    python -m bench.outbox_fanout [--postgres URL] [--emails 5000] [--servers 2]
                                  [--tick 2] [--lease 30] [--kill-after N]

What is measured:

1. A scratch database is created on the PostgreSQL server of ``--postgres`` (default
   ``$TEST_DATABASE_URL``, else ``postgresql://postgres@127.0.0.1:5432/test``), migrated, and
   dropped at the end.
2. A local aiosmtpd server (in this process, on loopback) records every message it accepts.
3. ``--servers`` real ``interview-desk serve`` processes start against that database, with the
   Slack settings pointing at a local ``FakeSlackAPI``, the SMTP server as mail relay, and the
   outbox tick every ``--tick`` seconds (``OUTBOX_TICK_SECONDS``) as in production.
4. ``--emails`` reminder-like emails are queued in one transaction through
   ``storage.outbox.enqueue`` (as the services queue them), not yet due; once every server is
   healthy, one ``UPDATE`` makes all of them due at the same instant. The clock starts there.
   (Their keys are not ``reminder:…``: without interviews behind them, the lifecycle tick would
   drop those as no longer due.)
5. With ``--kill-after N``, the first server is killed with SIGKILL once the SMTP server has
   accepted N messages; its leased items wait for ``--lease`` seconds (``OUTBOX_LEASE_SECONDS``)
   before another server takes them.

Figures: the time until the SMTP server has accepted every email, and until the database shows
every item sent; throughput over the first; duplicates (Message-IDs accepted more than once,
which must be 0) and missing ones; each server's share, read from its own log lines
(``outbox: N sent, …``, written after each tick; a killed server's unfinished last tick never
logs, so its share is what the SMTP server accepted minus the others'). Nothing is asserted:
the table is for reading.
"""

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.parser import BytesHeaderParser
from pathlib import Path

import httpx
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import create_engine, func, select, text, update
from sqlalchemy.engine import make_url

from storage import outbox
from storage.db import Database
from storage.enums import OutboxKind, OutboxStatus
from storage.migrate import upgrade
from storage.models import OutboxItem
from tests.support.fake_slack import FakeSlackAPI
from tests.support.live_server import free_port

TOKEN = "xoxb-bench-token"
SIGNING_SECRET = "bench-signing-secret"
NOT_YET = datetime(2100, 1, 1, tzinfo=UTC)
_SENT_LINE = re.compile(r"outbox: (\d+) sent")


@dataclass
class Inbox:
    """An SMTP handler that keeps each accepted message's Message-ID (headers only are parsed)."""

    message_ids: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        data = envelope.original_content or envelope.content
        assert isinstance(data, bytes)
        message_id = str(BytesHeaderParser().parsebytes(data)["Message-ID"])
        with self.lock:
            self.message_ids.append(message_id)
        return "250 2.0.0 Message accepted for delivery"

    def count(self) -> int:
        with self.lock:
            return len(self.message_ids)


@contextmanager
def scratch_database(server_url: str) -> Iterator[str]:
    """A fresh, migrated database on the PostgreSQL server of ``server_url``; dropped after."""
    base = Database(server_url).url
    name = f"interview_desk_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    try:
        db = Database(url)
        upgrade(db.engine)
        db.dispose()
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def queue_reminders(db: Database, count: int) -> None:
    """``count`` reminder emails, queued as the reminder service queues them, due in 2100."""
    with db.transaction() as session:
        for n in range(count):
            outbox.enqueue(
                session, key=f"fanout:{n}", kind=OutboxKind.EMAIL, now=datetime.now(UTC), available_at=NOT_YET,
                payload={
                    "to": [f"Participant {n} <participant-{n}@example.com>"],
                    "subject": "Reminder: your interview tomorrow at 10:00",
                    "text": f"Hi Participant {n},\n\nsee you tomorrow at 10:00.\n",
                    "html": f"<p>Hi Participant {n},</p><p>see you tomorrow at 10:00.</p>",
                    "sender": "Checkout redesign team <interviews@example.com>",
                    "message_id": f"<reminder-{n}-24h@bench.interview-desk>",
                },
            )


def make_due(db: Database) -> None:
    with db.transaction() as session:
        session.execute(update(OutboxItem).values(available_at=datetime.now(UTC)))


def all_sent(db: Database, count: int) -> bool:
    with db.transaction() as session:
        return session.scalar(select(func.count()).where(OutboxItem.status == OutboxStatus.SENT)) == count


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    log: Path
    url: str

    def healthy(self) -> bool:
        try:
            return httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    def sent(self) -> int:
        """Items this server delivered, summed from its tick log lines."""
        return sum(int(n) for n in _SENT_LINE.findall(self.log.read_text(errors="replace")))


def start_server(env: dict[str, str], workdir: Path, n: int) -> Server:
    executable = shutil.which("interview-desk") or str(Path(sys.executable).with_name("interview-desk"))
    port = free_port()
    log = workdir / f"serve-{n}.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [executable, "serve"], cwd=workdir, env={**env, "PORT": str(port)}, stdout=output, stderr=subprocess.STDOUT,
        )
    return Server(process, log, f"http://127.0.0.1:{port}")


def wait(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not happen within {timeout:.0f} s")
        time.sleep(0.01)


def wait_accepted(inbox: Inbox, db: Database, expected: int, stall: float = 30.0) -> None:
    """Until every email is accepted; a run that stops moving for ``stall`` seconds is reported."""
    seen, moved = 0, time.monotonic()
    while len(set(inbox.message_ids)) < expected:
        if inbox.count() != seen:
            seen, moved = inbox.count(), time.monotonic()
        elif time.monotonic() - moved > stall:
            with db.transaction() as session:
                statuses = dict(session.execute(select(OutboxItem.status, func.count()).group_by(OutboxItem.status)).all())
            raise RuntimeError(f"stalled at {seen} accepted for {stall:.0f} s; outbox: {statuses}")
        time.sleep(0.01)


@dataclass(frozen=True)
class Result:
    received_seconds: float
    settled_seconds: float
    accepted: int
    duplicates: int
    missing: int
    shares: list[int]
    killed: bool


def run(args: argparse.Namespace, url: str, workdir: Path) -> Result:
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    db = Database(url)
    servers: list[Server] = []
    try:
        queue_reminders(db, args.emails)
        with FakeSlackAPI(bot_token=TOKEN) as fake:
            env = {
                **os.environ, "DATABASE_URL": url, "HOST": "127.0.0.1",
                "SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_API_URL": fake.api_url,
                "SLACK_APP_TOKEN": "", "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp.port), "SMTP_STARTTLS": "false",
                "SECRET_KEY": "bench-outbox-secret-key", "OUTBOX_TICK_SECONDS": str(args.tick),
                "OUTBOX_LEASE_SECONDS": str(args.lease), "PYTHONPATH": str(Path.cwd()),
            }
            servers = [start_server(env, workdir, n) for n in range(args.servers)]
            wait(lambda: all(s.healthy() for s in servers), 60, "every server answering /healthz")

            make_due(db)
            started = time.perf_counter()
            killed = False
            if args.kill_after:
                wait(lambda: inbox.count() >= args.kill_after, 600, f"{args.kill_after} messages accepted")
                servers[0].process.send_signal(signal.SIGKILL)
                killed = True
            expected = args.emails
            wait_accepted(inbox, db, expected)
            received = time.perf_counter() - started
            wait(lambda: all_sent(db, expected), 600, "every item sent in the database")
            settled = time.perf_counter() - started
            time.sleep(args.tick + 0.5)  # the last tick's log line, and any late duplicate
    finally:
        for server in servers:
            if server.process.poll() is None:
                server.process.terminate()
                server.process.wait(timeout=15)
        smtp.stop()
        db.dispose()
    counts = Counter(inbox.message_ids)
    wanted = {f"<reminder-{n}-24h@bench.interview-desk>" for n in range(args.emails)}
    shares = [s.sent() for s in servers]
    if killed:  # its unfinished last tick never logged: it sent whatever the others did not
        shares[0] = len(inbox.message_ids) - sum(shares[1:])
    return Result(
        received, settled, len(inbox.message_ids), sum(n - 1 for n in counts.values() if n > 1),
        len(wanted - set(counts)), shares, killed,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", default=os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--emails", type=int, default=5000)
    parser.add_argument("--servers", type=int, default=2)
    parser.add_argument("--tick", type=float, default=2.0, help="OUTBOX_TICK_SECONDS")
    parser.add_argument("--lease", type=float, default=30.0, help="OUTBOX_LEASE_SECONDS")
    parser.add_argument("--kill-after", type=int, default=0, metavar="N", help="SIGKILL the first server after N emails")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="interview-desk-fanout-"))
    try:
        with scratch_database(args.postgres) as url:
            result = run(args, url, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    shares = " / ".join(f"{n} ({n / max(1, sum(result.shares)):.0%})" for n in result.shares)
    killed = f", the first killed with SIGKILL after {args.kill_after} emails (lease {args.lease:g} s)" if result.killed else ""
    print(
        f"\n### Outbox fan-out (PostgreSQL: {args.emails} emails due at once, {args.servers} `serve` "
        f"processes ticking every {args.tick:g} s{killed}, one aiosmtpd on loopback)\n"
    )
    columns = ("all accepted (s)", "all sent in db (s)", "emails/s", "accepted", "duplicates", "missing", "share per server")
    print(f"| {' | '.join(columns)} |")
    print(f"|{'---:|' * len(columns)}")
    cells = [
        f"{result.received_seconds:.1f}", f"{result.settled_seconds:.1f}",
        f"{args.emails / result.received_seconds:.0f}", result.accepted, result.duplicates, result.missing, shares,
    ]
    print(f"| {' | '.join(str(c) for c in cells)} |")


if __name__ == "__main__":
    main()
