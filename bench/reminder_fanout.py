"""5,000 reminders due in the same minute, planned by the lifecycle tick and delivered by several
`interview-desk serve` processes sharing one PostgreSQL database.

    python -m bench.reminder_fanout [--postgres URL] [--reminders 5000] [--studies 50]
                                    [--servers 2] [--tick 2] [--lease 30] [--kill-after N]

What is measured:

1. A scratch database is created on the PostgreSQL server of ``--postgres`` (default
   ``$TEST_DATABASE_URL``, else ``postgresql://postgres@127.0.0.1:5432/test``), migrated, and
   dropped at the end.
2. ``--reminders`` one-to-one interviews are seeded over ``--studies`` studies (one channel
   each), all starting at the same instant 24 hours and about 40 seconds from now, each study
   with one reminder 24 hours before. The participant is the only attendee with an email, so
   every interview owes exactly one reminder email, due at the same instant ("due" below).
3. ``--servers`` real ``interview-desk serve`` processes start against that database, each with
   its own local aiosmtpd server as mail relay (so each server's share is counted where the mail
   arrives), the Slack settings pointing at a local ``FakeSlackAPI``, and the outbox tick every
   ``--tick`` seconds as in production. Nothing is queued by hand: the servers' own lifecycle
   ticks (every 5 s) find the due reminders, queue them with their idempotency keys, and their
   outbox ticks deliver them. Each reminder also queues a note in the interview's thread
   ("Reminder sent to …"); those go out at Slack's pace of about one per second per channel and
   are not part of the figures.
4. With ``--kill-after N``, the first server is killed with SIGKILL once N reminders have
   arrived; its leased items wait for ``--lease`` seconds before another server takes them.

Figures, counted from the due instant: until every reminder is queued in the outbox (the tick's
planning), until the SMTP servers have accepted all of them, and until the database shows every
one sent; throughput; duplicates (a recipient who got more than one reminder: must be 0) and
missing ones; each server's share of the planning (its log lines) and of the delivery (its SMTP
server). Nothing is asserted: the table is for reading.
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
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from bench.progress import Progress
from bench.seed import seed_due_reminders
from storage.db import Database
from storage.enums import OutboxStatus
from storage.migrate import upgrade
from storage.models import OutboxItem
from tests.support.fake_slack import FakeSlackAPI
from tests.support.live_server import free_port

TOKEN = "xoxb-bench-token"
SIGNING_SECRET = "bench-signing-secret"
REMINDER_KEYS = "reminder:%"
_PLANNED_LINE = re.compile(r"lifecycle: (\d+) reminders")


@dataclass
class Inbox:
    """Every reminder accepted by any of the SMTP servers: recipient and which server's relay."""

    received: list[tuple[str, int]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self) -> int:
        with self.lock:
            return len(self.received)

    def recipients(self) -> set[str]:
        with self.lock:
            return {to for to, _ in self.received}


@dataclass
class Relay:
    """The SMTP handler of one server's relay."""

    inbox: Inbox
    server: int

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        with self.inbox.lock:
            self.inbox.received.extend((to.lower(), self.server) for to in envelope.rcpt_tos)
        return "250 2.0.0 Message accepted for delivery"


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


def reminders_queued(db: Database) -> int:
    with db.transaction() as session:
        return session.scalar(select(func.count()).where(OutboxItem.idempotency_key.like(REMINDER_KEYS))) or 0


def reminders_sent(db: Database) -> int:
    with db.transaction() as session:
        return session.scalar(select(func.count()).where(
            OutboxItem.idempotency_key.like(REMINDER_KEYS), OutboxItem.status == OutboxStatus.SENT,
        )) or 0


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

    def planned(self) -> int:
        """Reminders this server's lifecycle ticks queued, summed from its log lines."""
        return sum(int(n) for n in _PLANNED_LINE.findall(self.log.read_text(errors="replace")))


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
        time.sleep(0.02)


def wait_received(inbox: Inbox, db: Database, expected: int, stall: float = 30.0) -> None:
    """Until every reminder has arrived; a run that stops moving for ``stall`` seconds is reported."""
    seen, moved = 0, time.monotonic()
    while len(inbox.recipients()) < expected:
        if inbox.count() != seen:
            seen, moved = inbox.count(), time.monotonic()
        elif time.monotonic() - moved > stall:
            with db.transaction() as session:
                statuses = dict(session.execute(select(OutboxItem.status, func.count()).group_by(OutboxItem.status)).all())
            raise RuntimeError(f"stalled at {seen} received for {stall:.0f} s; outbox: {statuses}")
        time.sleep(0.02)


@dataclass(frozen=True)
class Plan:
    """What to run: the command line's options."""

    postgres: str = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
    reminders: int = 5000
    studies: int = 50
    lead_in: float = 40.0
    servers: int = 2
    tick: float = 2.0
    lease: float = 30.0
    kill_after: int = 0


@dataclass(frozen=True)
class Result:
    late_start: float  # how long after the due instant the servers were ready (0: before)
    queued_seconds: float
    received_seconds: float
    settled_seconds: float
    received: int
    duplicates: int
    missing: int
    planned: list[int]
    delivered: list[int]
    killed: bool


def fan_out(plan: Plan, url: str, workdir: Path) -> Result:
    inbox = Inbox()
    db = Database(url)
    servers: list[Server] = []
    now = datetime.now(UTC)
    due = now + timedelta(seconds=plan.lead_in)
    wanted = set(seed_due_reminders(db, plan.reminders, starts_at=due + timedelta(days=1), studies=plan.studies, now=now))
    with ExitStack() as stack:
        relays = []
        for n in range(plan.servers):
            relay = Controller(Relay(inbox, n), hostname="127.0.0.1", port=free_port())
            relay.start()
            stack.callback(relay.stop)
            relays.append(relay)
        fake = stack.enter_context(FakeSlackAPI(bot_token=TOKEN))
        env = {
            **os.environ, "DATABASE_URL": url, "HOST": "127.0.0.1",
            "SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_API_URL": fake.api_url,
            "SLACK_APP_TOKEN": "", "SMTP_STARTTLS": "false",
            "SECRET_KEY": "bench-reminder-secret-key", "OUTBOX_TICK_SECONDS": str(plan.tick),
            "OUTBOX_LEASE_SECONDS": str(plan.lease), "PYTHONPATH": str(Path.cwd()),
        }
        try:
            servers = [
                start_server({**env, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(relay.port)}, workdir, n)
                for n, relay in enumerate(relays)
            ]
            wait(lambda: all(s.healthy() for s in servers), 60, "every server answering /healthz")
            late_start = max(0.0, (datetime.now(UTC) - due).total_seconds())
            time.sleep(max(0.0, (due - datetime.now(UTC)).total_seconds()))

            def since_due() -> float:
                return (datetime.now(UTC) - due).total_seconds()

            killed = False
            if plan.kill_after:
                wait(lambda: inbox.count() >= plan.kill_after, 600, f"{plan.kill_after} reminders received")
                servers[0].process.send_signal(signal.SIGKILL)
                killed = True
            wait(lambda: reminders_queued(db) >= plan.reminders, 600, "every reminder queued")
            queued = since_due()
            wait_received(inbox, db, plan.reminders)
            received = since_due()
            wait(lambda: reminders_sent(db) >= plan.reminders, 600, "every reminder sent in the database")
            settled = since_due()
            time.sleep(plan.tick + 5.5)  # a late duplicate would arrive now; and the last log lines
        finally:
            for server in servers:
                if server.process.poll() is None:
                    server.process.terminate()
                    server.process.wait(timeout=15)
            db.dispose()
    counts = Counter(to for to, _ in inbox.received)
    delivered = [sum(1 for _, n in inbox.received if n == k) for k in range(plan.servers)]
    return Result(
        late_start, queued, received, settled, len(inbox.received),
        sum(n - 1 for n in counts.values() if n > 1), len(wanted - set(counts)),
        [s.planned() for s in servers], delivered, killed,
    )


def _shares(numbers: list[int]) -> str:
    return " / ".join(f"{n} ({n / max(1, sum(numbers)):.0%})" for n in numbers)


def run(plan: Plan, progress: Progress | None = None) -> str:
    """One fan-out on a scratch database of ``plan.postgres``'s server; returns the Markdown table."""
    progress = progress or Progress()
    progress.stage("Reminder fan-out (postgresql)", 1)
    progress.step(f"{plan.reminders:,} reminders on {plan.servers} servers")
    workdir = Path(tempfile.mkdtemp(prefix="interview-desk-fanout-"))
    try:
        with scratch_database(plan.postgres) as url:
            result = fan_out(plan, url, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    killed = (f", the first killed with SIGKILL after {plan.kill_after} reminders (lease {plan.lease:g} s)"
              if result.killed else "")
    late = f" The servers were ready {result.late_start:.1f} s after the due instant." if result.late_start else ""
    columns = ("all queued (s)", "all received (s)", "all sent in db (s)", "reminders/s", "received", "duplicates",
               "missing", "queued by server", "delivered by server")
    cells = [
        f"{result.queued_seconds:.1f}", f"{result.received_seconds:.1f}", f"{result.settled_seconds:.1f}",
        f"{plan.reminders / result.received_seconds:.0f}", result.received, result.duplicates, result.missing,
        _shares(result.planned), _shares(result.delivered),
    ]
    return "\n".join([
        f"#### Reminder fan-out (PostgreSQL: {plan.reminders} reminders due at one instant over {plan.studies} "
        f"studies, {plan.servers} `serve` processes, outbox tick {plan.tick:g} s, lifecycle tick 5 s{killed}).{late}",
        "",
        f"| {' | '.join(columns)} |",
        f"|{'---:|' * (len(columns) - 2)}---|---|",
        f"| {' | '.join(str(c) for c in cells)} |",
        "",
        "Seeded interviews each owing one reminder at the same instant; the servers' own lifecycle and outbox "
        "ticks plan and deliver them, each server to its own aiosmtpd relay; times from the due instant; "
        "duplicates and missing ones counted where the mail arrives.",
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", default=Plan.postgres)
    parser.add_argument("--reminders", type=int, default=Plan.reminders)
    parser.add_argument("--studies", type=int, default=Plan.studies, help="studies (channels) the interviews are spread over")
    parser.add_argument("--lead-in", type=float, default=Plan.lead_in, help="seconds from seeding to the due instant")
    parser.add_argument("--servers", type=int, default=Plan.servers)
    parser.add_argument("--tick", type=float, default=Plan.tick, help="OUTBOX_TICK_SECONDS")
    parser.add_argument("--lease", type=float, default=Plan.lease, help="OUTBOX_LEASE_SECONDS")
    parser.add_argument("--kill-after", type=int, default=Plan.kill_after, metavar="N",
                        help="SIGKILL the first server after N emails")
    args = parser.parse_args()
    progress = Progress()
    print(run(Plan(**vars(args)), progress))
    progress.finish()


if __name__ == "__main__":
    main()
