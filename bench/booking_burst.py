"""A burst of participants booking the same few times at once, against the real server.

    python -m bench.booking_burst [--database-url URL] [--participants 300] [--concurrency 50]
                                  [--limits 1,3] [--seed 1]

What is measured, for each participant limit in ``--limits`` (1 is one-on-one, 3 a group study):

1. The database (a temporary SQLite file, or ``--database-url``, whose Interview Desk tables are
   emptied first) gets a team with one host and a study created through the services; its
   availability is then set on the model to two windows, 10:00-12:30 Europe/Berlin on the days
   two and three days from now, with 30-minute interviews, a day's notice and a five-day horizon:
   exactly 10 open times (the run stops if the portal offers any other number). The study seats
   ``limit`` participants per time, so there are ``10 x limit`` seats for ``--participants``
   people.
2. The participants are added through the services; their personal links are computed by
   ``Services`` with a ``LinkSigner`` built from the same ``SECRET_KEY`` and base URL the server
   gets.
3. The real ``interview-desk serve`` starts as a subprocess on a free loopback port, with the
   Slack settings pointing at a local ``FakeSlackAPI``, ``PUBLIC_BASE_URL`` set to its own URL,
   emails written to a temporary outbox folder, and its outbox worker ticking as in production.
4. Every participant POSTs ``/s/<token>/book`` for one of the 10 times, drawn at random (seeded),
   all at once from an ``httpx.AsyncClient`` that keeps at most ``--concurrency`` requests in
   flight. Latency is from sending a request to receiving its whole response, so it includes the
   wait for the server's thread pool and database locks but not the wait for a free client slot.
   Wall time is from the first request sent to the last response received; throughput is
   requests over wall time.
5. Afterwards the database is read directly: interviews and seated participants, and
   overbookings, which must be 0: interviews holding more participants than their limit, plus
   pairs of the host's live interviews that overlap in time.

303 is a booking (the redirect to the confirmation page), 409 a time taken meanwhile (or a group
time filled meanwhile); anything else, including a failed connection, counts as an error.
Nothing is asserted: the table is for reading.
"""

import argparse
import asyncio
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import select

from bench.interviews import p, reset
from bench.progress import Progress
from bot.services import Services
from bot.services.links import LinkSigner
from bot.services.notifications import Mailer
from bot.web.views import start_value
from storage.db import Database
from storage.enums import AttendeeRole, InterviewStatus
from storage.models import Interview, Study
from tests.support.fake_slack import FakeSlackAPI
from tests.support.live_server import free_port

SECRET_KEY = "bench-burst-secret-key"
SIGNING_SECRET = "bench-signing-secret"
TOKEN = "xoxb-bench-token"
WORKSPACE, CHANNEL, HOST = "T0BURST", "C0BURST", "U0BURSTHOST"
ZONE = "Europe/Berlin"
OPEN_TIMES = 10
COLUMNS = (
    "seats per time",
    "seats",
    "wall (s)",
    "throughput (req/s)",
    "p50 (ms)",
    "p99 (ms)",
    "booked (303)",
    "interviews in db",
    "seated in db",
    "taken (409)",
    "other errors",
    "overbookings",
)


@dataclass(frozen=True)
class Burst:
    """What the server answered to one burst of bookings."""

    wall_seconds: float
    latencies_ms: list[float]
    statuses: Counter[str]  # "303", "409", ..., or the name of a transport error


@dataclass(frozen=True)
class Outcome:
    """What the database holds after the burst."""

    interviews: int
    seated: int
    over_limit: int
    host_overlaps: int


def seed(
    db: Database, services: Services, participants: int, limit: int
) -> tuple[list[str], list[str]]:
    """A one-host study with exactly ``OPEN_TIMES`` open times: the times' form values, and the
    participants' personal links."""
    team = services.teams.create("Burst team", WORKSPACE, [HOST])
    study = services.studies.create(
        team_ref=team.id,
        name="Burst study",
        channel_id=CHANNEL,
        timezone=ZONE,
        duration_minutes=30,
        host_ids=[HOST],
        participant_limit=limit,
    )
    today = datetime.now(UTC).astimezone(ZoneInfo(ZONE)).date()
    days = [today + timedelta(days=2), today + timedelta(days=3)]
    with db.transaction() as session:
        row = session.get(Study, study.id)
        assert row is not None
        row.availability = [
            {"weekday": d.weekday(), "start": "10:00", "end": "12:30"} for d in days
        ]
        row.buffer_minutes, row.min_notice_minutes, row.horizon_days = 0, 24 * 60, 5
    links = [
        services.participants.scheduling_link(
            services.participants.add(study.id, f"p{i}@example.com", f"Participant {i}").id
        )
        for i in range(participants)
    ]
    offered = services.portal.slots(links[0].rsplit("/", 1)[-1])
    if len(offered) != OPEN_TIMES:
        raise RuntimeError(f"the study offers {len(offered)} times, not {OPEN_TIMES}")
    return [start_value(s.start) for s in offered], links


async def burst(links: list[str], starts: list[str], concurrency: int, rng: random.Random) -> Burst:
    """Every link books one of ``starts`` at random, at most ``concurrency`` requests in flight."""
    gate = asyncio.Semaphore(concurrency)
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    choices = [rng.choice(starts) for _ in links]
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async with httpx.AsyncClient(timeout=120, limits=limits) as client:
        await client.get(links[0].rsplit("/s/", 1)[0] + "/healthz")  # one connection warmed up

        async def book(link: str, start: str) -> None:
            async with gate:
                sent = time.perf_counter()
                try:
                    response = await client.post(f"{link}/book", data={"start": start, "tz": ZONE})
                    statuses[str(response.status_code)] += 1
                except httpx.HTTPError as error:
                    statuses[type(error).__name__] += 1
                latencies.append((time.perf_counter() - sent) * 1000)

        started = time.perf_counter()
        await asyncio.gather(
            *(book(link, start) for link, start in zip(links, choices, strict=True))
        )
        wall = time.perf_counter() - started
    return Burst(wall, latencies, statuses)


def outcome(db: Database) -> Outcome:
    """Interviews, seats and overbookings, read from the database."""
    with db.transaction() as session:
        live = session.scalars(
            select(Interview).where(Interview.status == InterviewStatus.UPCOMING)
        ).all()
        seated = {
            i.id: sum(1 for a in i.attendees if a.role is AttendeeRole.PARTICIPANT) for i in live
        }
        by_host: dict[str, list[tuple[datetime, datetime]]] = {}
        for interview in live:
            for host in (a for a in interview.attendees if a.role is AttendeeRole.HOST):
                by_host.setdefault(host.slack_user_id or "", []).append(
                    (interview.starts_at, interview.ends_at)
                )
        overlaps = sum(
            1
            for times in by_host.values()
            for (_, end), (start, _) in pairwise(sorted(times))
            if start < end
        )
        over_limit = sum(1 for i in live if seated[i.id] > i.participant_limit)
        return Outcome(len(live), sum(seated.values()), over_limit, overlaps)


@contextmanager
def serving(env: dict[str, str], url: str, log: Path) -> Iterator[None]:
    """``interview-desk serve`` until the block ends; its log goes to a file, never a full pipe."""
    executable = shutil.which("interview-desk") or str(
        Path(sys.executable).with_name("interview-desk")
    )
    with log.open("wb") as output:
        process = subprocess.Popen(
            [executable, "serve"], env=env, stdout=output, stderr=subprocess.STDOUT
        )
        try:
            deadline = time.monotonic() + 30
            while not _healthy(url):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the server did not start:\n{log.read_text()[-2000:]}")
                time.sleep(0.05)
            yield
        finally:
            process.terminate()
            process.wait(timeout=15)


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def burst_once(
    database_url: str, limit: int, participants: int, concurrency: int, seed_value: int, fake: FakeSlackAPI,
    workdir: Path,
) -> tuple[Burst, Outcome]:
    """One burst at a fresh study seating ``limit`` per time, and what the database holds."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    db = reset(database_url)
    services = Services.build(
        db, Mailer("Burst <burst@example.com>", LinkSigner(SECRET_KEY.encode(), url))
    )
    starts, links = seed(db, services, participants, limit)
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "PUBLIC_BASE_URL": url,
        "SECRET_KEY": SECRET_KEY,
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake.api_url,
        "SLACK_APP_TOKEN": "",
        "SMTP_HOST": "",
        "OUTBOX_DIR": str(workdir / f"outbox-{limit}"),
        "PYTHONPATH": str(Path.cwd()),
    }
    with serving(env, url, workdir / f"serve-{limit}.log"):
        result = asyncio.run(burst(links, starts, concurrency, random.Random(seed_value)))
    try:
        return result, outcome(db)
    finally:
        db.dispose()


def run(
    database_url: str | None = None,
    participants: int = 300,
    concurrency: int = 50,
    limits: Sequence[int] = (1, 3),
    seed_value: int = 1,
    progress: Progress | None = None,
) -> str:
    """One burst per participant limit; returns the Markdown table."""
    progress = progress or Progress()
    workdir = Path(tempfile.mkdtemp(prefix="interview-desk-burst-"))
    database_url = database_url or f"sqlite:///{workdir}/burst.db"
    backend = Database(database_url).backend
    progress.stage(f"Booking burst ({backend})", len(limits))
    rows: list[tuple[int, Burst, Outcome]] = []
    try:
        with FakeSlackAPI(bot_token=TOKEN, team_id=WORKSPACE) as fake:
            for limit in limits:
                progress.step(f"{participants} participants, {limit} per time")
                rows.append((limit, *burst_once(
                    database_url, limit, participants, concurrency, seed_value, fake, workdir
                )))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    lines = [
        f"#### Booking burst ({backend}: {participants} participants, {OPEN_TIMES} open "
        f"times, at most {concurrency} requests in flight, loopback HTTP)",
        "",
        f"| {' | '.join(COLUMNS)} |",
        f"|{'---:|' * len(COLUMNS)}",
    ]
    for limit, result, held in rows:
        requests = sum(result.statuses.values())
        others = {k: v for k, v in result.statuses.items() if k not in ("303", "409")}
        cells = [
            limit,
            OPEN_TIMES * limit,
            f"{result.wall_seconds:.2f}",
            f"{requests / result.wall_seconds:.0f}",
            f"{statistics.median(result.latencies_ms):.0f}",
            f"{p(result.latencies_ms, 99):.0f}",
            result.statuses["303"],
            held.interviews,
            held.seated,
            result.statuses["409"],
            f"{sum(others.values())}{' ' + str(others) if others else ''}",
            held.over_limit + held.host_overlaps,
        ]
        lines.append(f"| {' | '.join(str(c) for c in cells)} |")
    lines += [
        "",
        "The real `interview-desk serve` as a subprocess; a one-host study with exactly "
        f"{OPEN_TIMES} open times; every participant posts one of them at random through their "
        "personal page at once; latency from sending to the whole response; counts read from the "
        "database afterwards. Overbookings must be 0.",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url")
    parser.add_argument("--participants", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--limits", default="1,3", help="participants per time, one run each")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    progress = Progress()
    print(run(
        args.database_url, args.participants, args.concurrency,
        [int(v) for v in args.limits.split(",")], args.seed, progress,
    ))
    progress.finish()


if __name__ == "__main__":
    main()
