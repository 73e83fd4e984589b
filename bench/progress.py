"""Progress of a benchmark run, on stderr, so stdout keeps only the Markdown tables.

On a terminal one line is redrawn in place: which benchmark of how many, a bar over its steps,
the step running now and the time so far. Anywhere else (a CI log, a file) each step is one
plain line, so a log shows where a run spent its time.

Each benchmark's ``run`` takes a ``Progress``: it calls ``stage`` once with its number of steps,
then ``step`` as each begins.
"""

import sys
import time
from typing import TextIO

BAR_WIDTH = 24


class Progress:
    """Steps of one or more benchmarks (``stages``: how many ``stage`` calls to expect)."""

    def __init__(self, stages: int = 1, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.stages = stages
        self.live = self.stream.isatty()
        self.started = time.monotonic()
        self._stage = 0
        self._name = ""
        self._steps = 0
        self._done = -1

    def stage(self, name: str, steps: int) -> None:
        self._stage += 1
        self._name, self._steps, self._done = name, max(1, steps), -1

    def step(self, label: str) -> None:
        self._done = min(self._done + 1, self._steps)
        where = f"[{self._stage}/{max(self.stages, self._stage)}] {self._name}"
        if self.live:
            filled = BAR_WIDTH * self._done // self._steps
            bar = "█" * filled + "░" * (BAR_WIDTH - filled)
            self.stream.write(f"\r\x1b[2K{where} {bar} {self._done}/{self._steps} {label} · {self._clock()}")
        else:
            self.stream.write(f"{where} {self._done + 1}/{self._steps} · {self._clock()} · {label}\n")
        self.stream.flush()

    def finish(self) -> None:
        if self.live:
            self.stream.write(f"\r\x1b[2Kdone in {self._clock()}\n")
        else:
            self.stream.write(f"done in {self._clock()}\n")
        self.stream.flush()

    def _clock(self) -> str:
        seconds = int(time.monotonic() - self.started)
        return f"{seconds // 60}:{seconds % 60:02d}"
