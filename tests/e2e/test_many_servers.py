"""Two real ``interview-desk serve`` processes on one PostgreSQL database, one real SMTP server.

Server A is caught mid-batch (the SMTP server holds one of its messages' DATA) and killed with
SIGKILL; server B, which has been delivering alongside it, takes A's leased items once their
lease runs out. The SMTP server must end up with every message exactly once, counted by
Message-ID, and the outbox with every item sent. PostgreSQL only: SQLite has a single writer.
"""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from storage import outbox
from storage.db import Database
from storage.enums import OutboxKind, OutboxStatus
from storage.models import OutboxItem
from tests.conftest import BOT_TOKEN, SIGNING_SECRET, emptied
from tests.e2e.processes import Cli, ServerProcess, clean_env, exited_cleanly
from tests.support.fake_slack import FakeSlackAPI
from tests.support.live_server import free_port
from tests.support.smtp_gate import GateHandler
from tests.support.smtp_servers import SmtpServer

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

EMAILS = 300
HOLD_AT = 10  # A delivers nine messages, then its tenth is held until A is dead
LEASE_SECONDS = 5
SETTLE_TIMEOUT = 60.0


@pytest.fixture
def pg_url(request: pytest.FixtureRequest) -> str:
    """The session's PostgreSQL test database, emptied."""
    if not (os.environ.get("TEST_DATABASE_URL") or os.environ.get("REQUIRE_POSTGRES") == "1"):
        pytest.skip("set TEST_DATABASE_URL to run several servers on PostgreSQL")
    return emptied(request.getfixturevalue("postgres_database"))


@pytest.fixture
def db(pg_url: str) -> Iterator[Database]:
    database = Database(pg_url)
    yield database
    database.dispose()


def _message_id(n: int) -> str:
    return f"<reminder-{n}@many-servers.test>"


def _seed_due_emails(db: Database) -> set[str]:
    """``EMAILS`` reminder-like emails, all due now, as the services would queue them."""
    with db.transaction() as session:
        now = session.scalar(select(func.now()))
        for n in range(EMAILS):
            outbox.enqueue(
                session, key=f"due-email:{n}", kind=OutboxKind.EMAIL, now=now,
                payload={
                    "to": [f"participant-{n}@example.com"], "subject": f"Reminder {n}: your interview tomorrow",
                    "text": "See you tomorrow.", "html": "<p>See you tomorrow.</p>",
                    "sender": "Interview Desk <interviews@example.com>", "message_id": _message_id(n),
                },
            )
    return {_message_id(n) for n in range(EMAILS)}


def _wait(condition: Callable[[], bool], timeout: float, what: str, *servers: ServerProcess) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            logs = "\n".join(s.output() for s in servers)
            pytest.fail(f"{what} did not happen within {timeout}s\n{logs}", pytrace=False)
        time.sleep(0.05)


def _statuses(db: Database) -> Counter[OutboxStatus]:
    with db.transaction() as session:
        return Counter(dict(session.execute(select(OutboxItem.status, func.count()).group_by(OutboxItem.status)).all()))


def _held_by(db: Database, pid: int) -> dict[int, object]:
    """The pending items a server process holds, with their lease ends (its worker id has its pid)."""
    with db.transaction() as session:
        rows = session.execute(
            select(OutboxItem.id, OutboxItem.locked_until)
            .where(OutboxItem.status == OutboxStatus.PENDING, OutboxItem.locked_by.like(f"%:{pid}:%"))
        ).all()
    return dict(rows)


def test_a_server_killed_mid_batch_leaves_its_work_to_the_other_and_nothing_is_sent_twice(
    db: Database, pg_url: str, start_smtp: Callable[..., SmtpServer], fake_slack_server: FakeSlackAPI, tmp_path: Path,
) -> None:
    expected = _seed_due_emails(db)
    gate = GateHandler(hold_at=HOLD_AT)
    smtp = start_smtp(gate)
    env = clean_env(
        DATABASE_URL=pg_url, SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=fake_slack_server.api_url, SMTP_HOST=smtp.host, SMTP_PORT=str(smtp.port),
        SMTP_STARTTLS="false", OUTBOX_LEASE_SECONDS=str(LEASE_SECONDS), OUTBOX_TICK_SECONDS="0.2",
        SECRET_KEY="many-servers-secret-key", HOST="127.0.0.1",
    )
    servers: list[ServerProcess] = []

    def start(name: str) -> ServerProcess:
        port = free_port()
        server = ServerProcess(["serve"], cwd=tmp_path, env={**env, "PORT": str(port)}, port=port)
        servers.append(server)
        server.wait_until_healthy()
        return server

    try:
        a = start("A")
        _wait(gate.held.is_set, 30, "server A reaching its held message", a)
        assert len(gate.message_ids()) == HOLD_AT - 1  # all of them from A: B is not running yet
        left_by_a = _held_by(db, a.process.pid)
        assert len(left_by_a) > 1, "A is mid-batch: the held message and the rest of its batch are leased to it"

        b = start("B")
        _wait(lambda: len(gate.message_ids()) >= HOLD_AT + 20, 30, "server B delivering alongside A", a, b)
        a.process.send_signal(signal.SIGKILL)
        assert a.process.wait(timeout=10) == -signal.SIGKILL
        gate.released.set()  # A's connection is gone; its held message was never accepted

        _wait(lambda: _statuses(db)[OutboxStatus.SENT] == EMAILS, SETTLE_TIMEOUT, "every item sent", b)
        received = Counter(gate.message_ids())
        assert set(received) == expected, "every email arrived"
        assert [mid for mid, n in received.items() if n > 1] == [], "no email arrived twice"
        assert received[gate.held_message_id] == 1  # the message A died sending, sent by B
        assert _statuses(db) == Counter({OutboxStatus.SENT: EMAILS})

        with db.transaction() as session:
            taken_over = session.execute(
                select(OutboxItem.id, OutboxItem.sent_at, OutboxItem.attempts).where(OutboxItem.id.in_(left_by_a))
            ).all()
        for item_id, sent_at, attempts in taken_over:
            assert sent_at >= left_by_a[item_id], f"item {item_id} was taken over only after A's lease ran out"
            assert attempts == 2  # A's claim and B's

        listing = Cli(tmp_path, env)("outbox", "--json").json()
        assert listing == {"counts": {"sent": EMAILS}, "items": []}

        assert b.process.poll() is None, f"B kept running\n{b.output()}"
        assert exited_cleanly(b.stop()), b.output()
    finally:
        gate.released.set()
        for server in servers:
            if server.process.poll() is None:
                server.process.kill()
                server.process.wait(timeout=10)
