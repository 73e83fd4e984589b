"""Open-slot computation (`bot.services.slots.open_slots`) against the number of existing bookings.

    python -m bench.slots [--runs 200]

The study: Europe/Berlin, Monday to Friday 09:00-17:00, 45-minute interviews every 30 minutes, a
15-minute buffer, 24 hours' notice, a 60-day horizon and 3 hosts. "Now" is a fixed Tuesday noon,
and the existing interviews are drawn from a seeded random generator, so every run computes the
same thing. Each interview lasts 45 or 60 minutes, starts on a quarter hour between 08:00 and
18:00 local on a weekday, and goes to a random host; it lies either within the 60 days ahead
(every one of them competes with the candidate starts) or anywhere in the 300 days before now and
the 60 ahead (a host's whole history passed in, most of it in the past). In the group rows the
study seats up to 4, and the interviews ahead that start on the slot grid are this study's group
interviews with 1 to 4 participants seated.

How it is measured: the inputs (``Busy`` and ``GroupSlot`` lists) are built first; then, in one
process, ``open_slots`` is called 20 times to warm up and ``--runs`` times timed one after
another with ``time.perf_counter``. The figure is the wall time of one call, which includes
sorting and merging each host's busy time; p50 is the median and p99 the 99th percentile
(inclusive method) of those calls. The garbage collector stays on, as in the server, so p99
includes its pauses. Nothing is asserted: the table is for reading.
"""

import argparse
import platform
import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bench.progress import Progress
from bot.services.slots import Busy, GroupSlot, OpenSlot, SchedulingRules, open_slots

HOSTS = ("U0HOST1", "U0HOST2", "U0HOST3")
NOW = datetime(2030, 3, 5, 12, 0, tzinfo=UTC)  # a Tuesday
HORIZON_DAYS = 60
HISTORY_DAYS = 300
WARM_UP = 20


def study(participant_limit: int = 1) -> SchedulingRules:
    return SchedulingRules(
        windows=[{"weekday": d, "start": "09:00", "end": "17:00"} for d in range(5)],
        timezone="Europe/Berlin",
        duration_minutes=45,
        buffer_minutes=15,
        min_notice_minutes=24 * 60,
        horizon_days=HORIZON_DAYS,
        participant_limit=participant_limit,
        step_minutes=30,
    )


def existing_interviews(
    count: int, *, days_back: int, seed: int
) -> list[tuple[str, datetime, datetime]]:
    """``count`` interviews ``(host, start, end)`` on weekdays from ``days_back`` days ago to the horizon."""
    draw = random.Random(seed)
    zone = ZoneInfo("Europe/Berlin")
    first_day = (NOW - timedelta(days=days_back)).astimezone(zone).date()
    weekdays = [
        day
        for day in (first_day + timedelta(days=n) for n in range(days_back + HORIZON_DAYS + 1))
        if day.weekday() < 5
    ]
    rows = []
    for _ in range(count):
        day = draw.choice(weekdays)
        quarter = draw.randrange(8 * 4, 18 * 4)
        local = datetime(
            day.year, day.month, day.day, quarter // 4, 15 * (quarter % 4), tzinfo=zone
        )
        start = local.astimezone(UTC)
        rows.append((draw.choice(HOSTS), start, start + timedelta(minutes=draw.choice([45, 60]))))
    return rows


def inputs(
    count: int, *, days_back: int, group: bool
) -> tuple[SchedulingRules, dict[str, list[Busy]], list[GroupSlot]]:
    rows = existing_interviews(count, days_back=days_back, seed=count + days_back)
    busy: dict[str, list[Busy]] = {host: [] for host in HOSTS}
    for host, start, end in rows:
        busy[host].append(Busy(start, end))
    group_slots: list[GroupSlot] = []
    if group:
        draw = random.Random(count)
        on_grid = [
            (host, start, end)
            for host, start, end in rows
            if start > NOW and start.minute in (0, 30) and end - start == timedelta(minutes=45)
        ]
        group_slots = [
            GroupSlot(number, host, start, end, seated=draw.randint(1, 4), limit=4)
            for number, (host, start, end) in enumerate(on_grid, start=1)
        ]
    return study(4 if group else 1), busy, group_slots


def timed(call: Callable[[], list[OpenSlot]], runs: int) -> tuple[list[float], int]:
    for _ in range(WARM_UP):
        call()
    result = []
    found: list[OpenSlot] = []
    for _ in range(runs):
        started = time.perf_counter()
        found = call()
        result.append((time.perf_counter() - started) * 1000)
    return result, len(found)


def p(values: list[float], q: int) -> float:
    return (
        statistics.quantiles(values, n=100, method="inclusive")[q - 1]
        if len(values) > 1
        else values[0]
    )


CASES = [
    # (label, interviews, days back, group)
    ("no interviews", 0, 0, False),
    ("1,000 interviews, all ahead", 1_000, 0, False),
    ("1,000 interviews, past year + ahead", 1_000, HISTORY_DAYS, False),
    ("10,000 interviews, all ahead", 10_000, 0, False),
    ("10,000 interviews, past year + ahead", 10_000, HISTORY_DAYS, False),
    ("1,000 interviews, all ahead, groups of 4", 1_000, 0, True),
    ("10,000 interviews, all ahead, groups of 4", 10_000, 0, True),
]


def run(runs: int = 200, progress: Progress | None = None) -> str:
    """Time every case; returns the Markdown table."""
    progress = progress or Progress()
    progress.stage("Open slots", len(CASES))
    rows = []
    for label, count, days_back, group in CASES:
        progress.step(label)
        rules, busy, group_slots = inputs(count, days_back=days_back, group=group)

        def call(
            rules: SchedulingRules = rules,
            busy: dict[str, list[Busy]] = busy,
            group_slots: list[GroupSlot] = group_slots,
        ) -> list[OpenSlot]:
            return open_slots(rules, now=NOW, hosts=HOSTS, busy=busy, group_slots=group_slots)

        values, found = timed(call, runs)
        joined = sum(1 for s in call() if s.interview_id is not None)
        rows.append(
            (label, statistics.median(values), p(values, 99), found, joined if group else None)
        )
    lines = [
        f"#### Open slots: 3 hosts, {HORIZON_DAYS}-day horizon, Mon-Fri 09:00-17:00 Europe/Berlin "
        f"({runs} timed calls each, Python {platform.python_version()})",
        "",
        "| existing interviews | p50 (ms) | p99 (ms) | slots returned | of which join a group |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, p50, p99, found, joined in rows:
        lines.append(
            f"| {label} | {p50:.2f} | {p99:.2f} | {found:,} | {'' if joined is None else f'{joined:,}'} |"
        )
    lines += [
        "",
        f"`open_slots` alone (pure Python, no database), in one process: {WARM_UP} warm-up calls, then "
        f"{runs} calls timed one after another with `time.perf_counter`, the garbage collector on.",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    progress = Progress()
    print(run(args.runs, progress))
    progress.finish()


if __name__ == "__main__":
    main()
