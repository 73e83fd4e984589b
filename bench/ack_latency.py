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
   from a process of their own (``bench/load.py``), keeping that many in flight, each on its own
   connection (a closed loop: the next is sent as soon as one is answered). The figure is from
   sending a request to receiving its whole response, Slack's acknowledgement. Whatever the server does after acknowledging (opening the
   modal, sending the emails, writing the calendar event) goes on meanwhile, so the later
   requests of a row meet the work the earlier ones left. Before the next row the server is let
   finish: no email or calendar request held by the slow backends, no due email, calendar or
   notetaker item in the outbox, for two seconds ("drained": how long that took after the last
   acknowledgement). "server CPU" is the server process's CPU time over the row and its drain,
   per request: what a request costs, whoever waits for it.
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
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from itertools import count, cycle
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import psutil
from sqlalchemy import func, or_, select

from bench import ack_seed
from bench.ack_cases import CASES, QUICK, Case, Entry, Expect, Target
from bench.ack_report import Options, Row, backend_name, table
from bench.ack_seed import Seeded, StudySpec
from bench.interviews import reset
from bench.load import LoadGenerator, Sent
from bench.processes import floor_command, serve_command, serving
from bench.progress import Progress
from bench.slow_backends import SlowGoogle, SlowSmtpRelay
from blocks.progress import BANNER_BLOCK
from bot.composition import build_services
from bot.settings import load_settings
from storage.db import Database
from storage.enums import InterviewStatus, OutboxKind, OutboxStatus
from storage.models import OutboxItem
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
LATE_ANSWERS = 10.0  # seconds "as meant" waits for answers still on their way after the drain
RESPONSE_NAME = re.compile(r"/response/(bench\d+)")  # a request's own response_url, in its body
TRIGGER = re.compile(r"(bench\d+\.trigger)")  # and its own trigger_id
VIEW_ID = re.compile(r"(VBENCH\d+)")  # a submitted modal's own view id
# What an ephemeral reply must contain to count (the links of Copy link, the observer room).
REPLY_MARKERS = {"Copy link": "/s/", "Observer room": "observe.example.com"}
# The request the floor answers for each kind.
FLOOR_BODIES = {Entry.SLASH: "/interviews", Entry.BUTTON: "Reschedule · open", Entry.MENU: "Change host · open",
                Entry.SUBMIT: "Reschedule · submit"}


def _answers_ms(bodies: list[str], sent: Sent, slack: FakeSlackAPI) -> list[float]:
    """How long each request took to be answered in Slack: its ephemeral reply through its own
    response_url, the modal opened with its own trigger_id, or, for a submission acknowledged
    as "Saving…", the first update of its modal (one answered in its acknowledgement: that)."""
    sent_at: dict[str, float] = {}
    answers = []
    for body, at, ack, latency in zip(bodies, sent.sent_at, sent.bodies, sent.latencies_ms, strict=True):
        plain = unquote(body)
        if (view := VIEW_ID.search(plain)) and not (TRIGGER.search(plain) or RESPONSE_NAME.search(plain)):
            if BANNER_BLOCK.encode() in ack:  # acknowledged as "Saving…"
                sent_at[view[1]] = at
            elif ack:
                answers.append(latency)
            continue
        for pattern in (RESPONSE_NAME, TRIGGER):
            if found := pattern.search(plain):
                sent_at[found[1]] = at
    for call in slack.calls:
        match call.method:
            case "views.open" | "views.push":
                key = call.params.get("trigger_id")
            case "views.update":
                key = call.params.get("view_id")
            case method if method == RESPONSE_URL_METHOD:
                key = call.params.get("_name")
            case _:
                continue
        if key in sent_at:
            answers.append((call.at - sent_at.pop(key)) * 1000)  # the first answer only
    return answers


def _cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


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


def _as_meant(case: Case, bodies: list[str], sent: Sent, since: float, ids: Sequence[int], db: Database,
              slack: FakeSlackAPI) -> int:
    match case.expect:
        case Expect.ANSWER:  # in the acknowledgement, or through response_url when it came later
            in_ack = sum(1 for body in sent.bodies if body and "blocks" in json.loads(body))
            names = {m[1] for m in (RESPONSE_NAME.search(unquote(b)) for b in bodies) if m}
            later = sum(1 for call in slack.calls if call.at >= since and call.method == RESPONSE_URL_METHOD
                        and call.params.get("_name") in names and "blocks" in call.params)
            return in_ack + later
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


def _count_as_meant(case: Case, bodies: list[str], sent: Sent, since: float, ids: Sequence[int], db: Database,
                    slack: FakeSlackAPI) -> int:
    """``_as_meant``, giving answers that are still on their way (a list posted late through
    response_url, a modal updated after "Saving…") up to ``LATE_ANSWERS`` seconds to arrive."""
    deadline = time.monotonic() + LATE_ANSWERS
    while (meant := _as_meant(case, bodies, sent, since, ids, db, slack)) < len(bodies) and time.monotonic() < deadline:
        time.sleep(0.2)
    return meant


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


def _measure_app(options: Options, backends: Backends, load: LoadGenerator, workdir: Path, progress: Progress,
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
    with serving(serve_command(), {**os.environ, **app_env}, url, workdir / "serve.log") as server:
        cpu = psutil.Process(server.pid)
        progress.step("warming up")
        warm = _targets(CASES[0], specs[0][1], seeded[specs[0][1].channel_id], numbers, backends.slack)
        load.closed_loop(url, [CASES[0].body(next(warm)) for _ in range(30)], 1)
        wait_drained(db, backends)  # the first calendar sync, with the backends still quick
        backends.set_delay(options.delay)
        for case, spec in specs:
            targets = _targets(case, spec, seeded[spec.channel_id], numbers, backends.slack)
            for level in options.levels:
                progress.step(f"{case.label}, {level} concurrent")
                batch = [next(targets) for _ in range(options.requests)]
                bodies = [case.body(t) for t in batch]
                since, cpu_before = time.time(), _cpu_seconds(cpu)
                sent = load.closed_loop(url, bodies, level)
                drained = wait_drained(db, backends)
                cpu_ms = (_cpu_seconds(cpu) - cpu_before) * 1000 / len(bodies)
                ids = [t.interview.id for t in batch]
                rows[(case.label, level)] = Row(sent.latencies_ms, sent.statuses,
                                                _count_as_meant(case, bodies, sent, since, ids, db, backends.slack), drained,
                                                _answers_ms(bodies, sent, backends.slack), cpu_ms)
        backends.set_delay(0)
    db.dispose()
    return rows


def _measure_floor(options: Options, backends: Backends, load: LoadGenerator, workdir: Path, progress: Progress,
                   ) -> dict[tuple[Entry, int], Row]:
    port = free_port()
    env = {**os.environ, **backends.env(f"sqlite:///{workdir}/floor.db", port)}
    url = f"http://127.0.0.1:{port}"
    by_label = {case.label: case for case in CASES}
    anyone = Seeded(1, datetime.now(UTC), InterviewStatus.UPCOMING, "https://meet.example.com/x")
    rows: dict[tuple[Entry, int], Row] = {}
    with serving(floor_command(port), env, url, workdir / "floor.log") as server:
        cpu = psutil.Process(server.pid)
        for entry, label in FLOOR_BODIES.items():
            body = by_label[label].body(Target(anyone, "C0FLOOR", 0, backends.slack.response_url("floor")))
            for level in options.levels:
                progress.step(f"floor: {entry.value}, {level} concurrent")
                cpu_before = _cpu_seconds(cpu)
                sent = load.closed_loop(url, [body] * options.requests, level)
                cpu_ms = (_cpu_seconds(cpu) - cpu_before) * 1000 / options.requests
                rows[(entry, level)] = Row(sent.latencies_ms, sent.statuses, options.requests, 0.0, cpu_ms=cpu_ms)
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
            load = stack.enter_context(LoadGenerator(SIGNING_SECRET))
            ours = _measure_app(options, backends, load, workdir, progress)
            floor = _measure_floor(options, backends, load, workdir, progress)
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
