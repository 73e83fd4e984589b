"""Every benchmark of `bench/` in one go, printing Markdown ready for `docs/BENCHMARKS.md`.

    python -m bench [--database-url URL] [--quick]

Without ``--database-url``: the embedded defaults, SQLite files in a temporary directory. With a
PostgreSQL URL: the same benchmarks on that database (its Interview Desk tables are emptied
first), and the reminder fan-out on two servers, which creates and drops a scratch database on
that server. Slot computation uses no database and runs either way.

``--quick`` runs small sizes (about a minute in all), for trying it; the default sizes are the
documented ones. Progress goes to stderr, the tables to stdout.
"""

import argparse
import os
import platform
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import text

from bench import ack_latency, booking_burst, interviews, reminder_fanout, slots
from bench.progress import Progress
from storage.db import Database


@dataclass(frozen=True)
class Benchmark:
    title: str
    run: Callable[[Progress], str]


def plan(database_url: str | None, quick: bool) -> list[Benchmark]:
    """What runs, in order, with its sizes."""
    ack = ack_latency.Options(database_url=database_url)
    benchmarks = [
        Benchmark("`/interviews` and View details against study size (`python -m bench.interviews`)",
                  lambda progress: interviews.run(database_url, (100, 1000) if quick else (100, 1000, 10000),
                                                  30 if quick else 300, progress)),
        Benchmark("Acknowledgement latency of every request, calendar and email slow (`python -m bench.ack_latency`)",
                  lambda progress: ack_latency.run(ack_latency.quick(ack) if quick else ack, progress)),
        Benchmark("Booking burst (`python -m bench.booking_burst`)",
                  lambda progress: booking_burst.run(database_url, 60 if quick else 300, 20 if quick else 50,
                                                     progress=progress)),
        Benchmark("Slot computation (`python -m bench.slots`)",
                  lambda progress: slots.run(20 if quick else 200, progress)),
    ]
    if database_url and Database(database_url).backend == "postgresql":
        fan_out = reminder_fanout.Plan(postgres=database_url)
        if quick:
            fan_out = reminder_fanout.Plan(postgres=database_url, reminders=300, studies=10, lead_in=15.0)
        benchmarks.append(Benchmark("Reminder fan-out on two servers (`python -m bench.reminder_fanout`)",
                                    lambda progress: reminder_fanout.run(fan_out, progress)))
    return benchmarks


def describe_database(database_url: str | None) -> str:
    if not database_url:
        return "SQLite"
    db = Database(database_url)
    try:
        if db.backend == "postgresql":
            with db.engine.connect() as connection:
                version = connection.execute(text("SHOW server_version")).scalar_one()
            return f"PostgreSQL {str(version).split()[0]}"
        return db.backend
    finally:
        db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", help="a PostgreSQL URL (its Interview Desk tables are emptied)")
    parser.add_argument("--quick", action="store_true", help="small sizes, about a minute in all")
    args = parser.parse_args()
    benchmarks = plan(args.database_url, args.quick)
    progress = Progress(stages=len(benchmarks))
    print(f"## {describe_database(args.database_url)}{' (quick sizes)' if args.quick else ''}\n")
    print(f"Measured {date.today():%Y-%m-%d} on {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"with `python -m bench{' --quick' if args.quick else ''}"
          f"{' --database-url …' if args.database_url else ''}`.\n", flush=True)
    for benchmark in benchmarks:
        table = benchmark.run(progress)
        print(f"### {benchmark.title}\n\n{table}\n", flush=True)
    progress.finish()


if __name__ == "__main__":
    main()
