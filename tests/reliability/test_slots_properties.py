"""Properties of the open times (``bot/services/slots.py``) across clock changes in many zones.

``tests/bot/test_slots.py`` proves the rules against a slow reference in eight zones around
2030. This module adds what it does not cover: the zones with unusual offsets or changes
(Asia/Kathmandu at +05:45, Pacific/Chatham at +12:45/+13:45 changing at 02:45, Australia/
Lord_Howe moving by half an hour, America/Sao_Paulo whose clocks changed at midnight until 2019,
so that a day could start at 01:00 or repeat 23:00), the years when Sao Paulo still changed,
and properties stated in wall-clock terms:

* every slot lies inside one availability window of the study's zone, on the local day it
  starts, and lasts the study's duration in real elapsed time;
* it respects notice, horizon and each host's buffer; the list is sorted, without duplicates;
* a wall-clock time that a spring-forward skips is never offered, and a time of the repeated
  hour of a fall-back is offered once (its first occurrence): no two slots show the same time;
* nothing is lost: with free hosts, every time of the grid that exists and fits is offered.

Examples start just before a clock change half the time, with windows around the change.
"""

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.services.slots import Busy, OpenSlot, SchedulingRules, open_slots

ZONES = [
    "Europe/Berlin",
    "America/New_York",
    "Australia/Lord_Howe",
    "Asia/Kathmandu",
    "Pacific/Chatham",
    "America/Sao_Paulo",
    "UTC",
]
YEARS = (2018, 2030)  # Sao Paulo still changed its clocks in 2018
HOSTS = ["U0ADA", "U0BO"]
PROPERTIES = settings(max_examples=250, deadline=None, database=None, derandomize=True,
                      suppress_health_check=[HealthCheck.too_slow])


def changes(zone_name: str) -> list[datetime]:
    """The instants (to the minute) at which the zone's UTC offset changes in ``YEARS``."""
    zone = ZoneInfo(zone_name)
    found = []
    for year in YEARS:
        hours = [datetime(year, 1, 1, tzinfo=UTC) + timedelta(hours=h) for h in range(366 * 24)]
        for a, b in zip(hours, hours[1:], strict=False):
            if a.astimezone(zone).utcoffset() != b.astimezone(zone).utcoffset():
                minute = next(a + timedelta(minutes=m) for m in range(1, 61)
                              if (a + timedelta(minutes=m)).astimezone(zone).utcoffset() != a.astimezone(zone).utcoffset())
                found.append(minute)
    return found


CHANGES = {zone: changes(zone) for zone in ZONES}


def test_the_zones_change_their_clocks_as_this_module_expects() -> None:
    """Sao Paulo at midnight in 2018 only, Chatham and Lord Howe twice a year, Kathmandu never."""
    assert {c.year for c in CHANGES["America/Sao_Paulo"]} == {2018}
    sao_paulo = ZoneInfo("America/Sao_Paulo")
    assert {(c - timedelta(minutes=1)).astimezone(sao_paulo).strftime("%H:%M") for c in CHANGES["America/Sao_Paulo"]} == {"23:59"}
    assert len(CHANGES["Pacific/Chatham"]) == len(CHANGES["Australia/Lord_Howe"]) == 4
    assert CHANGES["Asia/Kathmandu"] == CHANGES["UTC"] == []


def hhmm(moment: time) -> str:
    return f"{moment.hour:02}:{moment.minute:02}"


def at_minute(minute: int) -> str:
    return hhmm(time(minute // 60, minute % 60))


def window(day: date, start: int, end: int) -> dict[str, Any]:
    """A window on ``day``'s weekday from ``start`` to ``end`` minutes after midnight, kept
    inside that day (windows cannot cross midnight)."""
    start = min(max(start, 0), 24 * 60 - 6)
    end = min(max(end, start + 5), 24 * 60 - 1)
    return {"weekday": day.weekday(), "start": at_minute(start), "end": at_minute(end)}


def around(change: datetime, zone: ZoneInfo, before: int, after: int) -> list[dict[str, Any]]:
    """Windows around the wall-clock times of a change: as the old offset reads it (02:00 when
    Berlin springs forward) and as the new one does (03:00), each on its own local day."""
    old = (change - timedelta(minutes=1)).astimezone(zone).replace(tzinfo=None) + timedelta(minutes=1)
    new = change.astimezone(zone).replace(tzinfo=None)
    found = []
    for wall in (old, new):
        minute = wall.hour * 60 + wall.minute
        found.append(window(wall.date(), minute - before, minute + after))
        if minute < after:  # the change is at midnight: the evening before matters too
            found.append(window(wall.date() - timedelta(days=1), 24 * 60 - before - 1, 24 * 60 - 1))
    return found


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    zone_name = draw(st.sampled_from(ZONES))
    zone = ZoneInfo(zone_name)
    # Some windows anywhere in the week, on quarter hours (Chatham's :45 offset shifts them).
    windows = [
        {"weekday": weekday, "start": at_minute(15 * start), "end": at_minute(min(15 * (start + length), 24 * 60 - 1))}
        for weekday, start, length in draw(st.lists(
            st.tuples(st.integers(0, 6), st.integers(0, 92), st.integers(1, 16)), max_size=3,
        ))
    ]
    change = draw(st.none() | st.sampled_from(CHANGES[zone_name])) if CHANGES[zone_name] else None
    if change is not None:
        windows += around(change, zone, draw(st.integers(0, 12)) * 15, draw(st.integers(1, 12)) * 15)
        now = change - timedelta(minutes=5 * draw(st.integers(0, 2 * 24 * 12)))
    else:
        now = draw(st.sampled_from(YEARS).flatmap(
            lambda year: st.datetimes(datetime(year, 1, 1), datetime(year, 12, 28)))).replace(tzinfo=UTC)
    rules = SchedulingRules(
        windows=windows or [{"weekday": wall(now, zone).weekday(), "start": "00:00", "end": "23:59"}],
        timezone=zone_name,
        duration_minutes=draw(st.sampled_from([15, 20, 30, 45, 60, 90, 120, 180])),
        buffer_minutes=draw(st.sampled_from([0, 0, 10, 15, 45])),
        min_notice_minutes=draw(st.sampled_from([0, 0, 60, 24 * 60])),
        horizon_days=draw(st.integers(1, 4)),
        step_minutes=draw(st.sampled_from([15, 20, 30, 45, 60])),
    )
    busy = {
        host: [Busy(now + timedelta(minutes=15 * n), now + timedelta(minutes=15 * (n + length)))
               for n, length in draw(st.lists(st.tuples(st.integers(-8, 5 * 96), st.integers(1, 12)), max_size=6))]
        for host in draw(st.lists(st.sampled_from(HOSTS), max_size=2, unique=True))
    }
    return {"rules": rules, "now": now, "busy": busy}


def parsed(raw: dict[str, Any]) -> tuple[int, time, time]:
    return raw["weekday"], time.fromisoformat(raw["start"]), time.fromisoformat(raw["end"])


def wall(moment: datetime, zone: ZoneInfo) -> datetime:
    """The wall-clock time ``moment`` shows in ``zone`` (naive)."""
    return moment.astimezone(zone).replace(tzinfo=None)


def first_instant(local: datetime, zone: ZoneInfo) -> datetime | None:
    """The first instant the zone's clock shows ``local``; None if a spring-forward skips it."""
    instants = [
        instant for fold in (0, 1)
        if wall(instant := local.replace(tzinfo=zone, fold=fold).astimezone(UTC), zone) == local
    ]
    return min(instants) if instants else None


def in_a_window(windows: list[dict[str, Any]], start: datetime, end: datetime) -> bool:
    """Both ends on one local day, inside one window of that weekday."""
    return start.date() == end.date() and any(
        weekday == start.weekday() and opens <= start.time() and end.time() <= closes
        for weekday, opens, closes in map(parsed, windows)
    )


def expected_starts(rules: SchedulingRules, now: datetime) -> list[datetime]:
    """With free hosts: every grid time that exists, fits a window and is within notice and
    horizon, at its first occurrence."""
    zone = ZoneInfo(rules.timezone)
    duration, step = timedelta(minutes=rules.duration_minutes), timedelta(minutes=rules.step_minutes)
    earliest, horizon_end = now + timedelta(minutes=rules.min_notice_minutes), now + timedelta(days=rules.horizon_days)
    found = set()
    day = wall(now, zone).date()
    while day <= wall(horizon_end, zone).date():
        for weekday, opens, closes in map(parsed, rules.windows):
            local = datetime.combine(day, opens)
            while weekday == day.weekday() and local + duration <= datetime.combine(day, closes):
                instant = first_instant(local, zone)
                if (instant is not None and earliest <= instant < horizon_end
                        and in_a_window(rules.windows, local, wall(instant + duration, zone))):
                    found.add(instant)
                local += step
        day += timedelta(days=1)
    return sorted(found)


def overlaps(a: tuple[datetime, datetime], b: tuple[datetime, datetime]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


@PROPERTIES
@given(scenarios())
def test_slots_keep_every_rule_in_wall_clock_terms(scenario: dict[str, Any]) -> None:
    rules: SchedulingRules = scenario["rules"]
    now: datetime = scenario["now"]
    zone = ZoneInfo(rules.timezone)
    duration, buffer = timedelta(minutes=rules.duration_minutes), timedelta(minutes=rules.buffer_minutes)

    found: list[OpenSlot] = open_slots(rules, now=now, hosts=HOSTS, busy=scenario["busy"])

    starts = [slot.start for slot in found]
    assert starts == sorted(set(starts))
    walls = [wall(start, zone) for start in starts]
    assert len(walls) == len(set(walls)), "a wall-clock time is offered twice (the repeated hour)"
    for slot, local in zip(found, walls, strict=True):
        assert slot.start.tzinfo is UTC and slot.end - slot.start == duration  # real elapsed time
        assert now + timedelta(minutes=rules.min_notice_minutes) <= slot.start < now + timedelta(days=rules.horizon_days)
        assert first_instant(local, zone) == slot.start, "not the first occurrence of a time the clock shows"
        assert in_a_window(rules.windows, local, wall(slot.end, zone))
        taken = [(b.start, b.end) for b in scenario["busy"].get(slot.host, []) if b.start < b.end]
        assert not any(overlaps((slot.start - buffer, slot.end + buffer), span) for span in taken)


@PROPERTIES
@given(scenarios())
def test_with_free_hosts_every_existing_time_that_fits_is_offered(scenario: dict[str, Any]) -> None:
    rules: SchedulingRules = scenario["rules"]

    found = open_slots(rules, now=scenario["now"], hosts=HOSTS, busy={})

    assert [slot.start for slot in found] == expected_starts(rules, scenario["now"])


def test_a_skipped_time_is_never_offered_and_a_repeated_one_once_in_each_zone() -> None:
    """Every wall time of a day with a clock change, on a five-minute grid, in each zone."""
    for zone_name in ZONES:
        zone = ZoneInfo(zone_name)
        for change in CHANGES[zone_name]:
            days = {wall(change - timedelta(minutes=1), zone).date(), wall(change, zone).date()}
            windows = [{"weekday": day.weekday(), "start": "00:00", "end": "23:59"} for day in days]
            rules = SchedulingRules(windows=windows, timezone=zone_name, duration_minutes=5, step_minutes=5,
                                    horizon_days=3)
            now = datetime.combine(min(days), time(0), zone).astimezone(UTC) - timedelta(hours=12)
            offered = [wall(s.start, zone) for s in open_slots(rules, now=now, hosts=HOSTS, busy={})]
            skipped = [local for local in walls_of(days) if first_instant(local, zone) is None]
            repeated = [local for local in walls_of(days)
                        if local.replace(tzinfo=zone, fold=0).utcoffset() != local.replace(tzinfo=zone, fold=1).utcoffset()
                        and first_instant(local, zone) is not None]
            assert skipped or repeated, (zone_name, change)
            assert not set(skipped) & set(offered), (zone_name, change)
            assert len(offered) == len(set(offered)), (zone_name, change)
            assert set(repeated) <= set(offered), (zone_name, change)  # offered, once


def walls_of(days: set[date]) -> list[datetime]:
    return [datetime.combine(day, time(0)) + timedelta(minutes=5 * n) for day in sorted(days) for n in range(24 * 12 - 1)]
