"""Weekly availability windows, defined in the study's own time zone."""

from dataclasses import dataclass
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class Window:
    weekday: int  # Monday = 0
    start: time
    end: time

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> "Window":
        return cls(int(raw["weekday"]), time.fromisoformat(raw["start"]), time.fromisoformat(raw["end"]))

    def __str__(self) -> str:
        return f"{WEEKDAYS[self.weekday]} {self.start:%H:%M}–{self.end:%H:%M}"


def windows(raw: list[dict[str, Any]]) -> list[Window]:
    return [Window.parse(w) for w in raw]


def within(raw_windows: list[dict[str, Any]], timezone: str, start: datetime, end: datetime) -> bool:
    """Whether ``[start, end)`` lies inside one window on one local day of the study's zone."""
    zone = ZoneInfo(timezone)
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    if local_start.date() != local_end.date() and local_end.time() != time(0):
        return False
    end_time = local_end.time() if local_end.date() == local_start.date() else time.max
    return any(
        w.weekday == local_start.weekday() and w.start <= local_start.time() and end_time <= w.end
        for w in windows(raw_windows)
    )


def describe(raw_windows: list[dict[str, Any]], timezone: str) -> str:
    listed = ", ".join(str(w) for w in windows(raw_windows)) or "no windows set"
    return f"{listed} ({timezone})"
