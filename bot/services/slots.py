"""Open times a participant may book: a pure computation over a study's settings and its bookings.

The participant scheduling pages show these times; the caller loads what is booked (each host's
interviews in any study, their calendar events, and this study's group interviews) and passes it
in. Nothing here touches the database, the clock or the network, so the same inputs always give
the same list.

How a time is chosen:

* Candidate starts lie on a grid in the study's own zone: from each availability window's start,
  every ``step_minutes``, while the interview still ends inside the window. Wall-clock times are
  turned into instants with ``zoneinfo``: a time that does not exist (the spring-forward gap) is
  skipped, an ambiguous one (fall back) is its first occurrence. When the clock changes during an
  interview, it ends at another wall-clock time than the grid says; it is offered only if it still
  passes the window check booking makes (``availability.within``), so every new slot is bookable.
* A start must be at least ``min_notice_minutes`` after ``now`` and less than ``horizon_days``
  ahead.
* A host can take a new interview when none of their busy time overlaps it, widened by
  ``buffer_minutes`` on both sides.
* Each start is offered once. In a group study, an existing group interview with a seat left is
  offered as itself (its host is busy with it, which is the point); otherwise the first free
  host, in the order given, opens a new interview. A full group interview is never offered.

Each host's busy time is sorted and merged once, and every candidate is checked against it with
one binary search, so the work is a sort per host plus a logarithmic lookup per candidate and
host (``bench/slots.py`` measures it).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.services.availability import Window

__all__ = [
    "Busy",
    "GroupSlot",
    "OpenSlot",
    "SchedulingRules",
    "busy_from_interviews",
    "open_slots",
]


@dataclass(frozen=True)
class Busy:
    """A time a host can't be booked: their interviews in any study, their calendar events."""

    start: datetime  # aware; converted to UTC when used
    end: datetime


@dataclass(frozen=True)
class GroupSlot:
    """An upcoming interview of this study that may have seats left."""

    interview_id: int
    host: str  # Slack user id of the organizer
    start: datetime
    end: datetime
    seated: int  # participants booked
    limit: int  # participant_limit of that interview


@dataclass(frozen=True)
class OpenSlot:
    """A time a participant may book, and with whom."""

    start: datetime  # aware UTC
    end: datetime
    host: str
    seats_left: int
    interview_id: int | None  # set when booking this slot joins an existing group slot


@dataclass(frozen=True)
class SchedulingRules:
    """A study's scheduling settings (``storage.models.Study``), checked when built."""

    # Study.availability: [{"weekday": 0-6 (Mon=0), "start": "09:00", "end": "17:00"}]
    windows: list[dict[str, Any]]
    timezone: str  # IANA zone of the windows
    duration_minutes: int
    buffer_minutes: int = 0  # kept free before and after every interview of a host
    min_notice_minutes: int = 0
    horizon_days: int = 30
    participant_limit: int = 1  # >1: group slots
    step_minutes: int = 30  # start times every step minutes from each window's start

    def __post_init__(self) -> None:
        _zone(self.timezone)
        _windows_by_weekday(self.windows)
        if self.duration_minutes <= 0:
            raise ValueError("duration_minutes must be positive.")
        if self.step_minutes <= 0:
            raise ValueError("step_minutes must be positive.")
        if self.participant_limit < 1:
            raise ValueError("participant_limit must be at least 1.")
        for name in ("buffer_minutes", "min_notice_minutes", "horizon_days"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} can't be negative.")


def open_slots(
    rules: SchedulingRules,
    *,
    now: datetime,
    hosts: Sequence[str],
    busy: Mapping[str, Sequence[Busy]],
    group_slots: Sequence[GroupSlot] = (),
) -> list[OpenSlot]:
    """The times a participant may book, soonest first, one per start time.

    ``hosts`` are the study's hosts in order of preference; ``busy`` holds each host's busy time
    (hosts missing from it are free). ``group_slots`` are this study's upcoming interviews; they
    are offered only when the study takes groups (``participant_limit > 1``), and only with a
    host still in ``hosts``, since booking refuses anyone else.
    """
    now = _as_utc(now, "argument now")
    zone = _zone(rules.timezone)
    earliest = now + timedelta(minutes=rules.min_notice_minutes)
    horizon_end = now + timedelta(days=rules.horizon_days)  # exclusive
    duration = timedelta(minutes=rules.duration_minutes)
    buffer = timedelta(minutes=rules.buffer_minutes)
    preference = {host: rank for rank, host in enumerate(dict.fromkeys(hosts))}

    taken: dict[str, list[tuple[datetime, datetime]]] = {
        host: [_span(b.start, b.end, "busy time of", host) for b in busy.get(host, ())]
        for host in preference
    }
    # A group interview occupies its host whether or not the caller listed it among their busy
    # time, so a host is never offered twice at once.
    for slot in group_slots:
        if slot.host in taken:
            taken[slot.host].append(_span(slot.start, slot.end, "interview", slot.interview_id))
    # Only busy time that can meet a candidate, buffer included, is worth sorting: callers may
    # pass a host's whole history.
    reach = (earliest - buffer, horizon_end + duration + buffer)
    calendars = {host: _BusyTime.merged(spans, *reach) for host, spans in taken.items()}

    offered: dict[datetime, OpenSlot] = {}
    if rules.participant_limit > 1:
        for slot in _joinable(group_slots, preference, earliest, horizon_end):
            # Sorted by host preference, so the first group slot at a start wins it.
            offered.setdefault(slot.start, slot)

    for start in _candidate_starts(rules, zone, now, earliest, horizon_end):
        if start in offered:  # joining an existing group beats opening a new interview
            continue
        end = start + duration
        with_buffer = (start - buffer, end + buffer)
        host = next(
            (h for h, calendar in calendars.items() if calendar.is_free(*with_buffer)), None
        )
        if host is not None:
            offered[start] = OpenSlot(start, end, host, rules.participant_limit, None)

    return [offered[start] for start in sorted(offered)]


def busy_from_interviews(rows: Iterable[tuple[str, datetime, datetime]]) -> dict[str, list[Busy]]:
    """Group ``(host slack user id, starts_at, ends_at)`` rows into the ``busy`` of ``open_slots``.

    The rows are whatever the caller loaded (live interviews a host attends in any study,
    calendar events); their order does not matter.
    """
    busy: dict[str, list[Busy]] = {}
    for host, starts_at, ends_at in rows:
        busy.setdefault(host, []).append(Busy(starts_at, ends_at))
    return busy


# ---------------------------------------------------------------- busy time


class _BusyTime:
    """One host's busy time as disjoint blocks sorted by start: each check is one bisect."""

    __slots__ = ("_starts", "_ends")

    def __init__(self, starts: list[datetime], ends: list[datetime]) -> None:
        self._starts = starts
        self._ends = ends

    @classmethod
    def merged(
        cls, spans: Iterable[tuple[datetime, datetime]], reach_start: datetime, reach_end: datetime
    ) -> _BusyTime:
        """The UTC ``spans`` that overlap ``[reach_start, reach_end)``, merged into blocks."""
        starts: list[datetime] = []
        ends: list[datetime] = []
        # An empty span (end <= start) overlaps nothing, and neither does one out of reach.
        relevant = sorted(
            s for s in spans if s[0] < s[1] and s[0] < reach_end and s[1] > reach_start
        )
        for start, end in relevant:
            if ends and start <= ends[-1]:
                # Overlapping or touching blocks become one, which keeps the ends sorted too.
                ends[-1] = max(ends[-1], end)
            else:
                starts.append(start)
                ends.append(end)
        return cls(starts, ends)

    def is_free(self, start: datetime, end: datetime) -> bool:
        """Whether no busy block overlaps ``[start, end)``."""
        # The last block starting before ``end`` is the only one that can reach past ``start``:
        # the blocks are disjoint, so every earlier one ends before it begins.
        before_end = bisect_left(self._starts, end)
        return before_end == 0 or self._ends[before_end - 1] <= start


# ---------------------------------------------------------------- candidate starts


def _candidate_starts(
    rules: SchedulingRules, zone: ZoneInfo, now: datetime, earliest: datetime, horizon_end: datetime
) -> list[datetime]:
    """Grid starts inside the windows, as UTC instants in ``[earliest, horizon_end)``, sorted."""
    by_weekday = _windows_by_weekday(rules.windows)
    duration = timedelta(minutes=rules.duration_minutes)
    step = timedelta(minutes=rules.step_minutes)
    starts: set[datetime] = set()
    day = now.astimezone(zone).date()
    last_day = horizon_end.astimezone(zone).date()
    while day <= last_day:
        windows_today = by_weekday[day.weekday()]
        for window in windows_today:
            window_end = datetime.combine(day, window.end)
            wall = datetime.combine(day, window.start)
            while wall + duration <= window_end:
                instant = _instant(wall, zone)
                if instant is not None and earliest <= instant < horizon_end:
                    end_wall = (instant + duration).astimezone(zone).replace(tzinfo=None)
                    # When the clock changes during an interview it ends at another wall-clock
                    # time than the grid says; offer it only if booking would still accept it.
                    if end_wall == wall + duration or _inside_a_window(
                        windows_today, wall, end_wall
                    ):
                        starts.add(instant)
                wall += step
        day += timedelta(days=1)
    # Overlapping windows on one weekday put the same start on the grid twice.
    return sorted(starts)


def _instant(wall: datetime, zone: ZoneInfo) -> datetime | None:
    """The UTC instant of a naive local wall-clock time, or None if the clock skips it."""
    local = wall.replace(tzinfo=zone)  # fold=0: the first of two ambiguous times
    instant = local.astimezone(UTC)
    # A time in the gap comes back shifted by the jump, so the round trip tells it apart.
    if instant.astimezone(zone).replace(tzinfo=None) != wall:
        return None
    return instant


def _inside_a_window(
    windows_today: Sequence[Window], start_wall: datetime, end_wall: datetime
) -> bool:
    """Booking's check (``availability.within``): one window holds both ends, on one local day."""
    return end_wall.date() == start_wall.date() and any(
        w.start <= start_wall.time() and end_wall.time() <= w.end for w in windows_today
    )


def _windows_by_weekday(raw_windows: Sequence[dict[str, Any]]) -> tuple[list[Window], ...]:
    """The windows parsed the way booking reads them, per weekday and sorted by start."""
    by_weekday: tuple[list[Window], ...] = tuple([] for _ in range(7))
    for raw in raw_windows:
        try:
            window = Window.parse(raw)
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"Availability window {raw!r} is not valid: {exc}") from exc
        if window.start.tzinfo is not None or window.end.tzinfo is not None:
            raise ValueError(f"Availability window {raw!r}: times are local, without an offset.")
        if not 0 <= window.weekday <= 6:
            raise ValueError(f"Availability window {raw!r}: weekday must be 0 (Mon) to 6 (Sun).")
        if window.end <= window.start:
            # A window can't cross midnight: split it into one window on each day.
            raise ValueError(f"Availability window {raw!r} must end after it starts, on one day.")
        by_weekday[window.weekday].append(window)
    for windows in by_weekday:
        windows.sort(key=lambda w: (w.start, w.end))
    return by_weekday


# ---------------------------------------------------------------- group slots


def _joinable(
    group_slots: Iterable[GroupSlot],
    preference: Mapping[str, int],
    earliest: datetime,
    horizon_end: datetime,
) -> list[OpenSlot]:
    """Group interviews a participant can join, by start, then host preference, then id."""
    joinable = []
    for slot in group_slots:
        start = _as_utc(slot.start, "start of interview", slot.interview_id)
        if slot.host in preference and slot.seated < slot.limit and earliest <= start < horizon_end:
            joinable.append(
                OpenSlot(
                    start=start,
                    end=_as_utc(slot.end, "end of interview", slot.interview_id),
                    host=slot.host,
                    seats_left=slot.limit - slot.seated,
                    interview_id=slot.interview_id,
                )
            )
    joinable.sort(key=lambda s: (s.start, preference[s.host], s.interview_id))
    return joinable


# ---------------------------------------------------------------- helpers


def _as_utc(moment: datetime, *what: object) -> datetime:
    """``moment`` in UTC; ``what`` names it in the error, built only if there is one."""
    if moment.tzinfo is UTC:  # the common case, and the one that must stay cheap
        return moment
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"The {' '.join(map(str, what))} must be timezone-aware: {moment!r}.")
    return moment.astimezone(UTC)


def _span(start: datetime, end: datetime, *what: object) -> tuple[datetime, datetime]:
    return _as_utc(start, "start of the", *what), _as_utc(end, "end of the", *what)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"Unknown time zone {name!r}.") from exc
