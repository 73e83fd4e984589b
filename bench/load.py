"""The load generator: signed Slack requests in a closed loop, from a process of its own.

It runs apart from the benchmark's fake Slack, Google and mail servers, so that their threads do
not hold up the clock that times the server, and each request in flight has a connection of its
own: one pool shared by 50 connections spends more of the client's CPU choosing a connection
than sending (httpx checks every pooled connection for each request), and then it is the client
that is measured, not the server.
"""

import asyncio
import multiprocessing
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

import httpx

from tests.support import slack_requests


@dataclass
class Sent:
    """What the client saw, request by request in the order given."""

    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    bodies: list[bytes] = field(default_factory=list)
    sent_at: list[float] = field(default_factory=list)
    """Wall-clock time each request was sent (the fake Slack stamps what it receives the same way)."""


class LoadGenerator:
    """A process that sends rows of requests; one for a whole benchmark run."""

    def __init__(self, signing_secret: str) -> None:
        self._secret = signing_secret
        self._pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))

    def closed_loop(self, url: str, bodies: list[str], concurrency: int) -> Sent:
        """Send ``bodies`` to ``url``/slack/events keeping ``concurrency`` in flight: the next goes
        as soon as one is answered. Each is signed as it is sent."""
        return self._pool.submit(_closed_loop, url, bodies, concurrency, self._secret).result()

    def close(self) -> None:
        self._pool.shutdown()

    def __enter__(self) -> "LoadGenerator":
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def _closed_loop(url: str, bodies: list[str], concurrency: int, secret: str) -> Sent:
    return asyncio.run(_send_all(url, bodies, concurrency, secret))


async def _send_all(url: str, bodies: list[str], concurrency: int, secret: str) -> Sent:
    n = len(bodies)
    latencies, statuses, contents, sent_at = [0.0] * n, [""] * n, [b""] * n, [0.0] * n
    pending = iter(range(n))  # shared: each free connection takes the next request
    ready = asyncio.Barrier(min(concurrency, n) + 1)
    start = asyncio.Event()

    async def connection() -> None:
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:
            await client.get("/healthz")  # connected before the row starts: no request pays for it
            await ready.wait()
            await start.wait()
            for index in pending:
                body = bodies[index]
                headers = slack_requests.sign(body, secret)
                sent_at[index] = time.time()
                started = time.perf_counter()
                try:
                    response = await client.post("/slack/events", content=body, headers=headers)
                    statuses[index], contents[index] = str(response.status_code), response.content
                except httpx.HTTPError as error:
                    statuses[index] = type(error).__name__
                latencies[index] = (time.perf_counter() - started) * 1000

    tasks = [asyncio.create_task(connection()) for _ in range(min(concurrency, n))]
    await ready.wait()
    start.set()
    await asyncio.gather(*tasks)
    return Sent(latencies, Counter(statuses), contents, sent_at)
