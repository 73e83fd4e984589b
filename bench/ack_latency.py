"""Slack acknowledgement latency of every request the app answers, at 1 and at 50 concurrent
requests, while the calendar and email backends take 2 seconds to answer, next to the floor.

    python -m bench.ack_latency [--database-url URL] [--requests 100] [--concurrency 1,50]
                                [--delay 2] [--cases "Reschedule · submit,Cancel · submit"]

What is measured:

1. A database (a temporary SQLite file, or ``--database-url``, whose Interview Desk tables are
   emptied first) gets one team whose host has connected Google Calendar, and one study per
   request in ``bench/ack_cases.py`` holding interviews in the state that request needs, each
   organized by that host with its event already in the host's calendar (``bench/ack_seed.py``).
   A request that changes its interview gets an interview of its own.
2. The real ``interview-desk serve`` runs as a subprocess with every backend on loopback: the
   fake Slack Web API (``tests/support/fake_slack.py``), the fake Google Calendar and OAuth
   (``tests/support/fake_google.py``) and an aiosmtpd relay, the last two holding every request
   ``--delay`` seconds before answering (``bench/slow_backends.py``), and a fake notetaker.
3. For each request and each level of ``--concurrency``, ``--requests`` signed requests are sent
   from an ``httpx.AsyncClient`` keeping that many in flight (a closed loop: the next is sent as
   soon as one is answered). The figure is from sending a request to receiving its whole
   response, Slack's acknowledgement. Whatever the server does after acknowledging (opening the
   modal, sending the emails, writing the calendar event) goes on meanwhile, so the later
   requests of a row meet the work the earlier ones left. Before the next row the server is let
   finish: no email or calendar request held by the slow backends, no due email, calendar or
   notetaker item in the outbox, for two seconds ("drained": how long that took after the last
   acknowledgement).
4. "as meant" counts the requests that did what they are for, checked afterwards: the list in
   the acknowledgement, the modal opened in the fake Slack, the ephemeral reply with its
   content, or, for a change, outbox items queued for its interview. "not 200" counts the
   other answers; a 404 is Bolt's dispatch giving up after waiting 3 s for the listener's
   acknowledgement (Slack would show the person an error, though the listener still runs later).
5. The floor: ``bench/floor_app.py``, a Bolt app acknowledging each kind of request (slash
   command, button, "More…" option, modal submission) with a constant behind the same
   Starlette + uvicorn stack, measured the same way at the same concurrency; each row shows its
   figures beside ours and the ratio.

Nothing is asserted: the table is for reading.
"""

import argparse
import asyncio
import json
import os
import re
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import partial
from itertools import count, cycle
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
from sqlalchemy import func, or_, select

from bench import ack_seed
from bench.ack_cases import CASES, QUICK, Case, Entry, Expect, Target
from bench.ack_report import Options, Row, backend_name, table
from bench.ack_seed import Seeded, StudySpec
from bench.interviews import reset
from bench.processes import floor_command, serve_command, serving
from bench.progress import Progress
from bench.slow_backends import SlowGoogle, SlowSmtpRelay
from bot.composition import build_services
from bot.settings import load_settings
from storage.db import Database
from storage.enums import InterviewStatus, OutboxKind, OutboxStatus
from storage.models import OutboxItem
from tests.support import slack_requests
from tests.support.fake_notetaker import FakeNotetaker
from tests.support.fake_slack import RESPONSE_URL_METHOD, FakeSlackAPI
from tests.support.live_server import free_port

SIGNING_SECRET = "bench-signing-secret"
TOKEN = "xoxb-bench-token"
SECRET_KEY = "bench-ack-secret-key"
NOTETAKER_SECRET = "bench-notetaker-secret"
REUSED_POOL = 50  # interviews a read-only request cycles through
SETTLE = 2.0  # seconds with nothing in flight before the server counts as drained
DRAIN_LIMIT = 600.0
RESPONSE_NAME = re.compile(r"/response/(bench\d+)")  # a request's own response_url, in its body
# What an ephemeral reply must contain to count (the links of Copy link, the observer room).
REPLY_MARKERS = {"Copy link": "/s/", "Observer room": "observe.example.com"}
# The request the floor answers for each kind.
FLOOR_BODIES = {Entry.SLASH: "/interviews", Entry.BUTTON: "Reschedule · open", Entry.MENU: "Change host · open",
                Entry.SUBMIT: "Reschedule · submit"}


@dataclass
class Sent:
    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    bodies: list[bytes] = field(default_factory=list)
    sent_at: dict[str, float] = field(default_factory=dict)
    """Wall-clock send time by the request's response_url name (each request has its own)."""

    def answers_ms(self, slack: FakeSlackAPI) -> list[float]:
        """How long each request's answer through its response_url took to reach Slack."""
        return [(call.at - self.sent_at[name]) * 1000 for call in slack.calls_to(RESPONSE_URL_METHOD)
                if (name := call.params.get("_name")) in self.sent_at]


@dataclass
class Backends:
    slack: FakeSlackAPI
    google: SlowGoogle
    relay: SlowSmtpRelay
    notetaker: FakeNotetaker

    def env(self, database_url: str, port: int) -> dict[str, str]:
        """The server's settings: every backend on loopback."""
        google = self.google
        return {
            "DATABASE_URL": database_url, "HOST": "127.0.0.1", "PORT": str(port),
            "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}", "SECRET_KEY": SECRET_KEY,
            "SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_API_URL": self.slack.api_url,
            "SLACK_APP_TOKEN": "", "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(self.relay.port),
            "SMTP_STARTTLS": "false", "NOTETAKER_SECRET": NOTETAKER_SECRET,
            "GOOGLE_CLIENT_ID": google.oauth.client_id, "GOOGLE_CLIENT_SECRET": google.oauth.client_secret,
            "GOOGLE_API_URL": google.api_url, "GOOGLE_AUTH_URL": google.auth_url,
            "GOOGLE_TOKEN_URL": google.token_url, "GOOGLE_REVOKE_URL": google.revoke_url,
        }

    def held(self) -> int:
        return self.google.in_flight.held + self.relay.in_flight.held

    def set_delay(self, seconds: float) -> None:
        self.google.delay = self.relay.delay = seconds


# ---------------------------------------------------------------- sending


async def _send(url: str, bodies: Iterator[Callable[[], str]], total: int, concurrency: int) -> Sent:
    """``total`` requests, ``concurrency`` in flight; each body is built and signed when sent."""
    sent = Sent()
    gate = asyncio.Semaphore(concurrency)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:
        # Open the connections first, so no request of the row pays for its connection.
        await asyncio.gather(*(client.get("/healthz") for _ in range(concurrency)))

        async def one(make: Callable[[], str]) -> None:
            async with gate:
                body = make()
                headers = slack_requests.sign(body, SIGNING_SECRET)
                if answered_at := RESPONSE_NAME.search(unquote(body)):
                    sent.sent_at[answered_at[1]] = time.time()
                started = time.perf_counter()
                try:
                    response = await client.post("/slack/events", content=body, headers=headers)
                    status, content = str(response.status_code), response.content
                except httpx.HTTPError as error:
                    status, content = type(error).__name__, b""
                sent.latencies_ms.append((time.perf_counter() - started) * 1000)
                sent.statuses[status] += 1
                sent.bodies.append(content)

        await asyncio.gather(*(one(next(bodies)) for _ in range(total)))
    return sent


# ---------------------------------------------------------------- waiting and checking


def _busy_items(db: Database) -> int:
    """Outbox items being delivered now, or due and waiting for a worker (channel posts wait
    for Slack's pace per channel, so only those being posted count)."""
    now = datetime.now(UTC)
    with db.transaction() as session:
        return session.scalar(select(func.count()).select_from(OutboxItem).where(
            OutboxItem.status == OutboxStatus.PENDING,
            or_(OutboxItem.locked_until > now,
                (OutboxItem.kind != OutboxKind.SLACK_POST) & (OutboxItem.available_at <= now)),
        )) or 0


def wait_drained(db: Database, backends: Backends) -> float:
    """Seconds until the server has finished what it was asked: nothing held by the slow
    backends and nothing due in the outbox, for ``SETTLE`` seconds."""
    started = time.monotonic()
    quiet_since: float | None = None
    while time.monotonic() - started < DRAIN_LIMIT:
        if backends.held() or _busy_items(db):
            quiet_since = None
        elif quiet_since is None:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since >= SETTLE:
            return quiet_since - started
        time.sleep(0.1)
    return float("inf")


def _as_meant(case: Case, sent: Sent, since: float, ids: Sequence[int], db: Database, slack: FakeSlackAPI) -> int:
    match case.expect:
        case Expect.ANSWER:
            return sum(1 for body in sent.bodies if body and "blocks" in json.loads(body))
        case Expect.MODAL:
            return sum(1 for call in slack.calls if call.at >= since and call.method in ("views.open", "views.push")
                       and _modal_of(call.params.get("view") or {}) == case.modal)
        case Expect.REPLY:
            marker = REPLY_MARKERS[case.label]
            return sum(1 for call in slack.calls if call.at >= since and call.method == RESPONSE_URL_METHOD
                       and marker in json.dumps(call.params))
        case Expect.CHANGE:
            with db.transaction() as session:
                return session.scalar(select(func.count(func.distinct(OutboxItem.interview_id)))
                                      .where(OutboxItem.interview_id.in_(ids))) or 0


def _modal_of(view: dict[str, Any]) -> str | None:
    return view.get("callback_id") or (view.get("title") or {}).get("text")


# ---------------------------------------------------------------- one run


def _specs(options: Options) -> list[tuple[Case, StudySpec]]:
    needed = options.requests * len(options.levels)
    return [
        (case, StudySpec(f"C0ACK{n:03d}", case.pool, needed if case.fresh else min(needed, REUSED_POOL)))
        for n, case in enumerate(options.cases)
    ]


def _targets(case: Case, spec: StudySpec, interviews: list[Seeded], numbers: Iterator[int], slack: FakeSlackAPI,
             ) -> Iterator[Target]:
    """Each request's interview (its own for a change, the pool in turn otherwise) and its own
    response_url, so its answer there can be timed."""
    for interview in (iter(interviews) if case.fresh else cycle(interviews)):
        number = next(numbers)
        yield Target(interview, spec.channel_id, number, slack.response_url(f"bench{number}"))


def _measure_app(options: Options, backends: Backends, workdir: Path, progress: Progress,
                 ) -> dict[tuple[str, int], Row]:
    database_url = options.database_url or f"sqlite:///{workdir}/ack.db"
    db = reset(database_url)
    port = free_port()
    app_env = backends.env(database_url, port)
    settings = load_settings(**{name.lower(): value for name, value in app_env.items()})
    services = build_services(settings, db)
    specs = _specs(options)
    progress.step(f"seeding {sum(s.interviews for _, s in specs):,} interviews")
    seeded = ack_seed.seed(services, backends.google, [s for _, s in specs], notetaker_url=backends.notetaker.url)
    url = f"http://127.0.0.1:{port}"
    numbers = count(1)
    rows: dict[tuple[str, int], Row] = {}
    with serving(serve_command(), {**os.environ, **app_env}, url, workdir / "serve.log"):
        progress.step("warming up")
        warm = _targets(CASES[0], specs[0][1], seeded[specs[0][1].channel_id], numbers, backends.slack)
        asyncio.run(_send(url, (partial(CASES[0].body, t) for t in warm), 30, 1))
        wait_drained(db, backends)  # the first calendar sync, with the backends still quick
        backends.set_delay(options.delay)
        for case, spec in specs:
            targets = _targets(case, spec, seeded[spec.channel_id], numbers, backends.slack)
            for level in options.levels:
                progress.step(f"{case.label}, {level} concurrent")
                batch = [next(targets) for _ in range(options.requests)]
                since = time.time()
                sent = asyncio.run(_send(url, iter([partial(case.body, t) for t in batch]), len(batch), level))
                drained = wait_drained(db, backends)
                ids = [t.interview.id for t in batch]
                rows[(case.label, level)] = Row(sent.latencies_ms, sent.statuses,
                                                _as_meant(case, sent, since, ids, db, backends.slack), drained,
                                                sent.answers_ms(backends.slack))
        backends.set_delay(0)
    db.dispose()
    return rows


def _measure_floor(options: Options, backends: Backends, workdir: Path, progress: Progress,
                   ) -> dict[tuple[Entry, int], Row]:
    port = free_port()
    env = {**os.environ, **backends.env(f"sqlite:///{workdir}/floor.db", port)}
    url = f"http://127.0.0.1:{port}"
    by_label = {case.label: case for case in CASES}
    anyone = Seeded(1, datetime.now(UTC), InterviewStatus.UPCOMING, "https://meet.example.com/x")
    rows: dict[tuple[Entry, int], Row] = {}
    with serving(floor_command(port), env, url, workdir / "floor.log"):
        for entry, label in FLOOR_BODIES.items():
            case = by_label[label]
            target = Target(anyone, "C0FLOOR", 0, backends.slack.response_url("floor"))
            for level in options.levels:
                progress.step(f"floor: {entry.value}, {level} concurrent")
                sent = asyncio.run(_send(url, cycle([partial(case.body, target)]), options.requests, level))
                rows[(entry, level)] = Row(sent.latencies_ms, sent.statuses, options.requests, 0.0)
    return rows


def run(options: Options, progress: Progress | None = None) -> str:
    """Measure, and return the Markdown table."""
    progress = progress or Progress()
    progress.stage(f"Acknowledgement latency ({backend_name(options)})",
                   2 + len(options.cases) * len(options.levels) + len(FLOOR_BODIES) * len(options.levels))
    workdir = Path(tempfile.mkdtemp(prefix="interview-desk-ack-"))
    try:
        with ExitStack() as stack:
            backends = Backends(
                slack=stack.enter_context(FakeSlackAPI(bot_token=TOKEN, team_id=ack_seed.WORKSPACE)),
                google=stack.enter_context(SlowGoogle()),
                relay=stack.enter_context(SlowSmtpRelay(0.0)),
                notetaker=stack.enter_context(FakeNotetaker()),
            )
            ours = _measure_app(options, backends, workdir, progress)
            floor = _measure_floor(options, backends, workdir, progress)
            problems = backends.slack.block_errors
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return table(options, ours, floor, problems)


# ---------------------------------------------------------------- command line


def options_from(args: argparse.Namespace) -> Options:
    cases = CASES
    if args.cases:
        wanted = [label.strip() for label in args.cases.split(",")]
        by_label = {case.label: case for case in CASES}
        unknown = [label for label in wanted if label not in by_label]
        if unknown:
            raise SystemExit(f"unknown cases {unknown}; known: {', '.join(by_label)}")
        cases = tuple(by_label[label] for label in wanted)
    return Options(database_url=args.database_url, requests=args.requests,
                   levels=tuple(int(v) for v in args.concurrency.split(",")), delay=args.delay, cases=cases)


def quick(options: Options) -> Options:
    """A taste: one request of each kind, 10 per row, at 1 and 10 concurrent."""
    by_label = {case.label: case for case in CASES}
    return replace(options, requests=10, levels=(1, 10), cases=tuple(by_label[label] for label in QUICK))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url")
    parser.add_argument("--requests", type=int, default=100, help="requests per row")
    parser.add_argument("--concurrency", default="1,50", help="requests in flight, one row each")
    parser.add_argument("--delay", type=float, default=2.0, help="seconds the calendar and email backends take")
    parser.add_argument("--cases", help="only these requests (labels as in the table, comma-separated)")
    parser.add_argument("--quick", action="store_true", help="a few requests of each kind, small rows")
    args = parser.parse_args()
    options = options_from(args)
    progress = Progress()
    print(run(quick(options) if args.quick else options, progress))
    progress.finish()


if __name__ == "__main__":
    main()
