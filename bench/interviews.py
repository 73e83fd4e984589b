"""`/interviews` and View details latency against study size, next to the floor.

    python -m bench.interviews [--sizes 100,1000,10000] [--requests 300] [--database-url URL]

For each study size, a fresh database is seeded and the real `interview-desk serve` answers
signed requests sent one at a time over loopback HTTP; the figure is the time from sending the
request to receiving the full response (Slack's acknowledgement). The floor is a Bolt app that
answers a constant behind the same Starlette + uvicorn stack. A figure that grows with study
size where the floor does not is a query that scans. Bolt acknowledges in steps of about 10 ms,
so a second table times the work behind each request in process (service call and Block Kit).

With --database-url (e.g. PostgreSQL), that database's Interview Desk tables are emptied first.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx
from sqlalchemy import text

from bench.progress import Progress
from bench.seed import CHANNEL, HOST, WORKSPACE, seed_study
from blocks.ids import InterviewRef
from blocks.interview_details import interview_details_view
from blocks.interview_list import interview_list
from bot.domain import Actor, ListTab
from bot.services import Services
from bot.services.links import LinkSigner
from bot.services.notifications import Mailer
from storage.db import Database
from storage.migrate import upgrade
from storage.models import Base
from tests.support import slack_requests
from tests.support.fake_slack import FakeSlackAPI
from tests.support.live_server import free_port

SECRET = "bench-signing-secret"
BENCH_MAILER = Mailer("Bench <bench@example.com>", LinkSigner(b"bench-secret-key", "http://127.0.0.1"))
TOKEN = "xoxb-bench-token"


@contextmanager
def server(command: list[str], env: dict[str, str], port: int) -> Iterator[str]:
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server did not start: {process.stderr.read().decode() if process.stderr else ''}")
            time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=15)


def timings(send: Callable[[], httpx.Response], count: int) -> list[float]:
    for _ in range(min(30, count)):  # warm up connections, caches and the thread pool
        send()
    result = []
    for _ in range(count):
        started = time.perf_counter()
        response = send()
        result.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"HTTP {response.status_code}: {response.text[:200]}")
    return result


def p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def requests_for(url: str, fake: FakeSlackAPI, interview_id: int) -> dict[str, Callable[[], httpx.Response]]:
    client = httpx.Client(base_url=url, timeout=10)

    def post(body: str) -> httpx.Response:
        return client.post("/slack/events", content=body, headers=slack_requests.sign(body, SECRET))

    command = slack_requests.slash_command("/interviews", "", user_id=HOST, team_id=WORKSPACE, channel_id=CHANNEL, response_url=fake.response_url("bench"))
    details = slack_requests.block_actions(
        "interview.view_details", value=InterviewRef(interview_id=interview_id).encode(),
        user_id=HOST, team_id=WORKSPACE, channel_id=CHANNEL, response_url=fake.response_url("bench"),
    )
    past = slack_requests.slash_command("/interviews", "past", user_id=HOST, team_id=WORKSPACE, channel_id=CHANNEL, response_url=fake.response_url("bench"))
    return {"/interviews": lambda: post(command), "/interviews past": lambda: post(past), "View details (ack)": lambda: post(details)}


def in_process(database_url: str, interview_id: int, count: int) -> dict[str, list[float]]:
    """The work behind each request without HTTP and Bolt: service call plus Block Kit."""
    db = Database(database_url)
    services = Services.build(db, BENCH_MAILER)
    actor = Actor.slack_user(WORKSPACE, HOST)

    def listing(tab: ListTab) -> Callable[[], object]:
        return lambda: [b.to_dict() for b in interview_list(services.interviews.list_page(actor=actor, tab=tab, workspace_id=WORKSPACE, channel_id=CHANNEL))]

    work = {
        "/interviews": listing(ListTab.UPCOMING),
        "/interviews past": listing(ListTab.PAST),
        "View details (modal)": lambda: interview_details_view(services.interviews.details(interview_id, actor)).to_dict(),
    }
    result = {}
    for name, call in work.items():
        for _ in range(20):
            call()
        values = []
        for _ in range(count):
            started = time.perf_counter()
            call()
            values.append((time.perf_counter() - started) * 1000)
        result[name] = values
    db.dispose()
    return result


def reset(database_url: str) -> Database:
    db = Database(database_url)
    upgrade(db.engine)
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with db.engine.begin() as connection:
        if db.backend == "postgresql":
            connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(text(f"DELETE FROM {table}"))
    return db


def run(
    database_url: str | None = None, sizes: Sequence[int] = (100, 1000, 10000), requests: int = 300,
    progress: Progress | None = None,
) -> str:
    """Measure every study size and the floor; returns the two Markdown tables."""
    progress = progress or Progress()
    backend = Database(database_url).backend if database_url else "sqlite"
    progress.stage(f"/interviews and View details against study size ({backend})", 2 * len(sizes) + 1)
    workdir = Path(tempfile.mkdtemp(prefix="interview-desk-bench-"))
    executable = shutil.which("interview-desk") or str(Path(sys.executable).with_name("interview-desk"))
    rows: list[tuple[str, str, float, float]] = []
    work_rows: list[tuple[str, str, float, float]] = []
    try:
        with FakeSlackAPI(bot_token=TOKEN, team_id=WORKSPACE) as fake:
            base_env = {
                **os.environ, "SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET,
                "SLACK_API_URL": fake.api_url, "SLACK_APP_TOKEN": "", "PYTHONPATH": str(Path.cwd()),
            }
            for size in sizes:
                progress.step(f"seeding {size:,} interviews")
                url_of_db = database_url or f"sqlite:///{workdir}/bench-{size}.db"
                db = reset(url_of_db)
                ids = seed_study(db, size)
                db.dispose()
                progress.step(f"{size:,} interviews: {requests} requests of each kind")
                port = free_port()
                env = {**base_env, "DATABASE_URL": url_of_db, "PORT": str(port), "HOST": "127.0.0.1"}
                with server([executable, "serve"], env, port) as url:
                    for name, send in requests_for(url, fake, ids["middle_interview_id"]).items():
                        values = timings(send, requests)
                        rows.append((f"{size:,} interviews", name, statistics.median(values), p(values, 99)))
                for name, values in in_process(url_of_db, ids["middle_interview_id"], requests).items():
                    work_rows.append((f"{size:,} interviews", name, statistics.median(values), p(values, 99)))
            progress.step("the floor")
            port = free_port()
            floor_env = {**base_env, "DATABASE_URL": f"sqlite:///{workdir}/floor.db", "PORT": str(port)}
            with server([sys.executable, "-m", "bench.floor_app", "--port", str(port)], floor_env, port) as url:
                for name, send in requests_for(url, fake, 1).items():
                    if name == "/interviews past":
                        continue
                    values = timings(send, requests)
                    rows.append(("floor (constant Bolt app)", name, statistics.median(values), p(values, 99)))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    lines = [
        f"#### Slack acknowledgement latency ({backend}, {requests} sequential signed requests each, loopback HTTP)",
        "",
        "| study | request | p50 (ms) | p99 (ms) |",
        "|---|---|---:|---:|",
        *(f"| {study} | {name} | {p50:.1f} | {p99:.1f} |" for study, name, p50, p99 in rows),
        "",
        f"#### The work behind each request, in process ({backend}: service call and Block Kit, no HTTP)",
        "",
        "| study | work | p50 (ms) | p99 (ms) |",
        "|---|---|---:|---:|",
        *(f"| {study} | {name} | {p50:.2f} | {p99:.2f} |" for study, name, p50, p99 in work_rows),
        "",
        "Each study size seeded afresh in bulk (half past, half upcoming); the real `interview-desk serve` as a "
        "subprocess; requests sent one at a time after 30 warm-up requests, timed from sending to the whole "
        "response; the floor is a constant Bolt app on the same stack. The second table times the service call "
        "and the Block Kit rendering in process, without HTTP.",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    progress = Progress()
    print(run(args.database_url, [int(s) for s in args.sizes.split(",")], args.requests, progress))
    progress.finish()


if __name__ == "__main__":
    main()
