"""What ``bench.ack_latency`` measured, and its Markdown table: each request's row beside the
floor's row for the same kind of request, with their ratio."""

import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from bench.ack_cases import CASES, Case, Entry
from bench.interviews import p
from storage.db import Database


@dataclass(frozen=True)
class Options:
    database_url: str | None = None
    requests: int = 100
    levels: tuple[int, ...] = (1, 50)
    delay: float = 2.0
    cases: tuple[Case, ...] = CASES


@dataclass(frozen=True)
class Row:
    """One request at one concurrency: what the client saw, and what the server did."""

    latencies_ms: list[float]
    statuses: Counter[str]
    as_meant: int
    drained_s: float
    answers_ms: list[float] = field(default_factory=list)
    """From sending to the answer's post to the request's response_url, where there is one."""
    cpu_ms: float | None = None
    """The server process's CPU time (user and system) per request, over the row and its drain."""

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies_ms)

    @property
    def p99(self) -> float:
        return p(self.latencies_ms, 99)

    @property
    def not_ok(self) -> int:
        return sum(n for status, n in self.statuses.items() if status != "200")


def backend_name(options: Options) -> str:
    return Database(options.database_url).backend if options.database_url else "sqlite"



def table(options: Options, ours: dict[tuple[str, int], Row], floor: dict[tuple[Entry, int], Row],
          problems: Sequence[str] = ()) -> str:
    levels = " and ".join(str(level) for level in options.levels)
    lines = [
        f"#### Slack acknowledgement latency, calendar and email {options.delay:g} s slow "
        f"({backend_name(options)}, {options.requests} signed requests per row at {levels} concurrent)",
        "",
        "| request | entry | concurrent | p50 (ms) | p99 (ms) | floor p50 (ms) | floor p99 (ms) | p50 ÷ floor "
        "| p99 ÷ floor | server CPU per request, ours / floor (ms) | answer p50 / p99 (ms) | as meant | not 200 "
        "| drained (s) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for case in options.cases:
        for level in options.levels:
            row, base = ours[(case.label, level)], floor[(case.entry, level)]
            lines.append(
                f"| {case.label} | {case.entry.value} | {level} | {row.p50:.1f} | {row.p99:.1f} | {base.p50:.1f} "
                f"| {base.p99:.1f} | {row.p50 / base.p50:.1f} | {row.p99 / base.p99:.1f} | {_cpu(row, base)} "
                f"| {_answers(row)} "
                f"| {row.as_meant}/{len(row.latencies_ms)} | {_not_ok(row)} | {row.drained_s:.1f} |"
            )
    lines += [
        "",
        f"Measured against the real `interview-desk serve` (subprocess, loopback HTTP), every calendar and email "
        f"request answered {options.delay:g} s late; a closed loop of signed requests per row (the next sent when "
        "one is answered), from sending to the whole acknowledgement; the server drained between rows; the floor "
        "is a Bolt app acknowledging the same kind of request with a constant on the same Starlette + uvicorn "
        "stack (`bench/floor_app.py`), measured the same way. \"as meant\": requests whose modal, reply or change "
        "was found afterwards; \"not 200\": 404 is Bolt giving up after waiting 3 s for an acknowledgement "
        "(Slack shows the person an error, yet the listener still runs once a thread frees up). \"answer\": "
        "from sending to the post of the answer to the request's response_url (an ephemeral reply), as the "
        "fake Slack received it. \"server CPU\": the server process's CPU time, user and system, from "
        "the row's first request until it had drained (the floor: until its last answer), per request. The "
        "requests come from a process of their own (`bench/load.py`), one connection per request in flight.",
    ]
    if problems:
        lines.append(f"\nBlock Kit problems reported by the fake Slack: {len(problems)} (first: {problems[0]})")
    return "\n".join(lines)


def _cpu(row: Row, base: Row) -> str:
    if row.cpu_ms is None or base.cpu_ms is None:
        return ""
    return f"{row.cpu_ms:.1f} / {base.cpu_ms:.1f}"


def _answers(row: Row) -> str:
    if not row.answers_ms:
        return ""
    return f"{statistics.median(row.answers_ms):.0f} / {p(row.answers_ms, 99):.0f}"


def _not_ok(row: Row) -> str:
    if not row.not_ok:
        return "0"
    kinds = ", ".join(f"{status}×{n}" for status, n in sorted(row.statuses.items()) if status != "200")
    return f"{row.not_ok} ({kinds})"


