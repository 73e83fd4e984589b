"""`bot.services.slots`: the open times a participant may book, from settings and bookings."""

import os
import random
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

from bot.services import availability
from bot.services.slots import (
    Busy,
    GroupSlot,
    OpenSlot,
    SchedulingRules,
    busy_from_interviews,
    open_slots,
)

# Hypothesis writes caches (e.g. constants found in the source) to ./.hypothesis even with no
# example database; keep them out of the checkout unless a location is configured.
if not os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):
    set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "interview-desk-hypothesis")

ADA, BO, CY = "U0ADA", "U0BO", "U0CY"
BERLIN, NEW_YORK = ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York")
MONDAY = datetime(2030, 3, 4, tzinfo=UTC)  # 00:00 UTC on a Monday


def at(hour: int, minute: int = 0, day: datetime = MONDAY) -> datetime:
    return day.replace(hour=hour, minute=minute)


def window(weekday: int, start: str, end: str) -> dict[str, Any]:
    return {"weekday": weekday, "start": start, "end": end}


def rules(*windows: dict[str, Any], timezone: str = "UTC", **settings_: Any) -> SchedulingRules:
    """One-on-one, 30-minute interviews every 30 minutes, no buffer or notice, a week ahead."""
    values: dict[str, Any] = {"duration_minutes": 30, "horizon_days": 7, **settings_}
    return SchedulingRules(
        windows=list(windows) or [window(0, "09:00", "11:00")], timezone=timezone, **values
    )


def slots(
    study: SchedulingRules,
    *,
    now: datetime = MONDAY,
    hosts: Sequence[str] = (ADA,),
    busy: dict[str, list[Busy]] | None = None,
    group_slots: Sequence[GroupSlot] = (),
) -> list[OpenSlot]:
    return open_slots(study, now=now, hosts=hosts, busy=busy or {}, group_slots=group_slots)


def starts(found: list[OpenSlot]) -> list[datetime]:
    return [s.start for s in found]


def local(found: list[OpenSlot], zone: ZoneInfo) -> list[str]:
    return [f"{s.start.astimezone(zone):%Y-%m-%d %H:%M %Z}" for s in found]


# ---------------------------------------------------------------- the window grid


def test_starts_every_step_from_the_window_start_while_the_interview_fits() -> None:
    found = slots(rules(window(0, "09:00", "11:00")))

    assert starts(found) == [at(9), at(9, 30), at(10), at(10, 30)]  # 10:30 ends exactly at 11:00
    assert all(s.end - s.start == timedelta(minutes=30) for s in found)
    assert all(s.start.tzinfo is UTC and s.host == ADA and s.interview_id is None for s in found)
    assert all(s.seats_left == 1 for s in found)


def test_a_step_shorter_or_longer_than_the_interview() -> None:
    assert starts(
        slots(rules(window(0, "09:00", "11:00"), duration_minutes=60, step_minutes=45))
    ) == [
        at(9),
        at(9, 45),  # 10:30 would end at 11:30
    ]
    assert starts(
        slots(rules(window(0, "09:00", "10:00"), duration_minutes=45, step_minutes=5))
    ) == [
        at(9),
        at(9, 5),
        at(9, 10),
        at(9, 15),
    ]
    assert slots(rules(window(0, "09:00", "09:20"), duration_minutes=30)) == []


def test_windows_apply_to_their_weekday_only() -> None:
    found = slots(rules(window(2, "09:00", "09:30"), window(6, "18:00", "18:30"), horizon_days=14))

    assert starts(found) == [
        at(9, day=MONDAY + timedelta(days=2)),
        at(18, day=MONDAY + timedelta(days=6)),
        at(9, day=MONDAY + timedelta(days=9)),
        at(18, day=MONDAY + timedelta(days=13)),
    ]


def test_overlapping_windows_offer_each_start_once_in_order() -> None:
    found = slots(
        rules(window(0, "10:00", "11:30"), window(0, "09:00", "10:30"), window(0, "09:15", "10:00"))
    )

    # 09:15-10:00 holds only 09:15; 10:00 is on two windows' grids.
    assert starts(found) == [at(9), at(9, 15), at(9, 30), at(10), at(10, 30), at(11)]


def test_the_grid_is_laid_in_the_study_zone() -> None:
    found = slots(rules(window(0, "09:00", "10:00"), timezone="Europe/Berlin"))

    assert local(found, BERLIN) == ["2030-03-04 09:00 CET", "2030-03-04 09:30 CET"]
    assert starts(found) == [at(8), at(8, 30)]


@pytest.mark.parametrize(
    "bad, message",
    [
        (window(0, "10:00", "10:00"), "must end after it starts"),
        (window(0, "22:00", "02:00"), "must end after it starts"),  # would cross midnight
        (window(7, "09:00", "10:00"), "weekday"),
        (window(0, "9am", "10:00"), "not valid"),
        ({"weekday": 0, "start": "09:00"}, "not valid"),
        (window(0, "09:00+01:00", "10:00+01:00"), "without an offset"),
    ],
)
def test_invalid_windows_are_refused(bad: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        rules(window(1, "09:00", "10:00"), bad)


@pytest.mark.parametrize(
    "setting, value",
    [
        ("timezone", "Mars/Olympus_Mons"),
        ("duration_minutes", 0),
        ("step_minutes", 0),
        ("participant_limit", 0),
        ("buffer_minutes", -5),
        ("min_notice_minutes", -1),
        ("horizon_days", -1),
    ],
)
def test_invalid_settings_are_refused(setting: str, value: Any) -> None:
    with pytest.raises(ValueError):
        rules(**{setting: value})


def test_naive_times_are_refused() -> None:
    naive = datetime(2030, 3, 4, 9)
    with pytest.raises(ValueError, match="now"):
        slots(rules(), now=naive)
    with pytest.raises(ValueError, match="timezone-aware"):
        slots(rules(), busy={ADA: [Busy(naive, naive + timedelta(hours=1))]})


# ---------------------------------------------------------------- notice and horizon


def test_min_notice_edge_is_inclusive() -> None:
    study = rules(min_notice_minutes=60)

    assert starts(slots(study, now=at(9)))[0] == at(10)  # exactly 60 minutes ahead
    assert starts(slots(study, now=at(9, 1)))[0] == at(10, 30)  # 59 minutes ahead is too soon
    assert starts(slots(rules(), now=at(9, 30)))[0] == at(9, 30)  # no notice: starting now is fine


def test_horizon_edge_is_exclusive() -> None:
    every_day = [window(d, "09:00", "09:30") for d in range(7)]

    assert starts(slots(rules(*every_day, horizon_days=2), now=at(9))) == [
        at(9),
        at(9, day=MONDAY + timedelta(days=1)),  # Wednesday 09:00 is exactly two days on
    ]
    assert starts(slots(rules(*every_day, horizon_days=2), now=at(9, 1))) == [
        at(9, day=MONDAY + timedelta(days=1)),
        at(9, day=MONDAY + timedelta(days=2)),
    ]
    assert slots(rules(*every_day, horizon_days=0)) == []


def test_notice_longer_than_the_horizon_leaves_nothing() -> None:
    assert slots(rules(min_notice_minutes=8 * 24 * 60, horizon_days=7)) == []


def test_days_run_from_today_in_the_study_zone_to_the_horizon() -> None:
    # 12:00 UTC on Monday is already 01:00 on Tuesday in Auckland (UTC+13 in March).
    now = at(12)
    study = rules(
        window(0, "09:00", "09:30"),  # Monday in Auckland has passed
        window(1, "09:00", "09:30"),  # Tuesday 09:00 NZDT = Monday 20:00 UTC
        window(2, "00:00", "01:30"),  # Wednesday until 01:00 local is inside a one-day horizon
        timezone="Pacific/Auckland",
        horizon_days=1,
    )

    assert local(slots(study, now=now), ZoneInfo("Pacific/Auckland")) == [
        "2030-03-05 09:00 NZDT",
        "2030-03-06 00:00 NZDT",
        "2030-03-06 00:30 NZDT",
    ]


def test_today_is_the_study_zone_date_even_when_utc_has_moved_on() -> None:
    # 02:00 UTC on Tuesday is still 21:00 on Monday in New York.
    study = rules(window(0, "21:30", "22:30"), timezone="America/New_York", horizon_days=1)

    assert local(slots(study, now=at(2, day=MONDAY + timedelta(days=1))), NEW_YORK) == [
        "2030-03-04 21:30 EST",
        "2030-03-04 22:00 EST",
    ]


# ---------------------------------------------------------------- busy hosts and buffers


def test_busy_time_blocks_overlapping_starts_only() -> None:
    study = rules(window(0, "09:00", "13:00"), step_minutes=15)
    busy = {ADA: [Busy(at(10), at(11))]}

    found = starts(slots(study, busy=busy))

    assert at(9, 30) in found and at(11) in found  # touching is not overlapping
    assert not {at(9, 45), at(10), at(10, 45)} & set(found)


def test_buffer_is_kept_before_and_after_busy_time() -> None:
    study = rules(window(0, "09:00", "13:00"), step_minutes=15, buffer_minutes=15)

    found = starts(slots(study, busy={ADA: [Busy(at(10), at(11))]}))

    assert found == [
        at(9),
        at(9, 15),
        at(11, 15),
        at(11, 30),
        at(11, 45),
        at(12),
        at(12, 15),
        at(12, 30),
    ]


def test_busy_time_just_outside_notice_and_horizon_still_counts() -> None:
    study = rules(
        window(0, "09:00", "11:00"),
        window(1, "08:30", "09:00"),
        buffer_minutes=15,
        min_notice_minutes=60,
        horizon_days=1,
    )
    tuesday = MONDAY + timedelta(days=1)
    before_notice = Busy(at(9, 40), at(9, 50))  # ends before the first start, inside its buffer
    after_horizon = Busy(at(9, 5, day=tuesday), at(9, 10, day=tuesday))  # past Tuesday 09:00

    assert starts(slots(study, now=at(9))) == [at(10), at(10, 30), at(8, 30, day=tuesday)]
    assert starts(slots(study, now=at(9), busy={ADA: [before_notice, after_horizon]})) == [
        at(10, 30)
    ]


def test_nested_overlapping_and_unsorted_busy_time() -> None:
    study = rules(window(0, "09:00", "14:00"))
    busy = {
        ADA: [
            Busy(at(12), at(12, 30)),
            Busy(at(9, 30), at(10)),
            Busy(at(9), at(11)),
            Busy(at(10, 30), at(11, 30)),
        ]
    }

    assert starts(slots(study, busy=busy)) == [at(11, 30), at(12, 30), at(13), at(13, 30)]


def test_empty_busy_intervals_block_nothing() -> None:
    assert starts(slots(rules(), busy={ADA: [Busy(at(10), at(10)), Busy(at(10), at(9))]})) == [
        at(9),
        at(9, 30),
        at(10),
        at(10, 30),
    ]


def test_busy_time_in_any_zone_counts_by_its_instant() -> None:
    busy = {ADA: [Busy(at(10).astimezone(BERLIN), at(11).astimezone(NEW_YORK))]}

    assert starts(slots(rules(), busy=busy)) == [at(9), at(9, 30)]


def test_the_first_free_host_in_order_is_chosen() -> None:
    study = rules(window(0, "09:00", "11:00"))
    busy = {ADA: [Busy(at(9), at(10))], BO: [Busy(at(10), at(10, 30))]}

    found = slots(study, hosts=[ADA, BO, CY], busy=busy)
    assert [(s.start, s.host) for s in found] == [
        (at(9), BO),
        (at(9, 30), BO),
        (at(10), ADA),
        (at(10, 30), ADA),
    ]

    found = slots(study, hosts=[BO, ADA], busy=busy)
    assert [(s.start, s.host) for s in found] == [
        (at(9), BO),
        (at(9, 30), BO),
        (at(10), ADA),
        (at(10, 30), BO),
    ]


def test_a_time_is_offered_while_any_host_is_free() -> None:
    study = rules(window(0, "09:00", "11:00"))
    busy = {ADA: [Busy(at(9), at(10))], BO: [Busy(at(9, 30), at(11))], CY: [Busy(at(0), at(23))]}

    assert [(s.start, s.host) for s in slots(study, hosts=[ADA, BO, CY], busy=busy)] == [
        (at(9), BO),
        (at(10), ADA),
        (at(10, 30), ADA),  # 09:30: every host is busy
    ]
    assert slots(study, hosts=[], busy=busy) == []


def test_busy_time_of_other_people_is_ignored_and_hosts_may_repeat() -> None:
    found = slots(rules(), hosts=[ADA, ADA], busy={BO: [Busy(at(0), at(23))]})

    assert [(s.start, s.host) for s in found] == [
        (at(9), ADA),
        (at(9, 30), ADA),
        (at(10), ADA),
        (at(10, 30), ADA),
    ]


# ---------------------------------------------------------------- group slots


def group(
    interview_id: int, host: str, start: datetime, seated: int, limit: int = 3, minutes: int = 30
) -> GroupSlot:
    return GroupSlot(interview_id, host, start, start + timedelta(minutes=minutes), seated, limit)


def test_a_group_slot_with_seats_is_offered_as_itself() -> None:
    study = rules(participant_limit=3)
    existing = group(41, ADA, at(10), seated=1)

    found = slots(study, busy={ADA: [Busy(at(10), at(10, 30))]}, group_slots=[existing])

    assert found == [
        OpenSlot(at(9), at(9, 30), ADA, 3, None),
        OpenSlot(at(9, 30), at(10), ADA, 3, None),
        OpenSlot(at(10), at(10, 30), ADA, 2, 41),
        OpenSlot(at(10, 30), at(11), ADA, 3, None),
    ]


def test_a_group_slot_takes_precedence_over_a_new_interview_at_its_start() -> None:
    study = rules(participant_limit=3)
    existing = group(41, BO, at(10), seated=2)

    found = slots(
        study, hosts=[ADA, BO], busy={BO: [Busy(at(10), at(10, 30))]}, group_slots=[existing]
    )

    assert [
        (s.start, s.host, s.seats_left, s.interview_id) for s in found if s.start == at(10)
    ] == [(at(10), BO, 1, 41)]
    assert len(starts(found)) == len(set(starts(found))) == 4


def test_a_full_group_slot_is_hidden_and_its_host_stays_busy() -> None:
    study = rules(participant_limit=3)
    full = group(41, ADA, at(10), seated=3)

    alone = slots(study, hosts=[ADA], group_slots=[full])  # not even listed among ADA's busy time
    assert starts(alone) == [at(9), at(9, 30), at(10, 30)]

    with_bo = slots(study, hosts=[ADA, BO], group_slots=[full])
    assert [
        (s.start, s.host, s.seats_left, s.interview_id) for s in with_bo if s.start == at(10)
    ] == [(at(10), BO, 3, None)]


def test_an_open_group_slot_keeps_its_host_from_overlapping_new_interviews() -> None:
    study = rules(participant_limit=2)
    existing = group(41, ADA, at(9, 45), seated=0, limit=2)

    found = slots(study, group_slots=[existing])

    assert [(s.start, s.interview_id) for s in found] == [
        (at(9), None),
        (at(9, 45), 41),
        (at(10, 30), None),
    ]


def test_group_slots_follow_notice_and_horizon() -> None:
    study = rules(participant_limit=3, min_notice_minutes=60, horizon_days=1)
    too_soon = group(1, ADA, at(9, 30), seated=0)
    too_late = group(2, ADA, at(10, day=MONDAY + timedelta(days=1)), seated=0)
    in_time = group(3, ADA, at(10), seated=0)

    found = slots(study, now=at(9), group_slots=[too_soon, too_late, in_time])

    assert [s.interview_id for s in found if s.interview_id] == [3]


def test_group_slot_choice_is_by_host_order_then_id_and_hosts_off_the_study_are_skipped() -> None:
    study = rules(participant_limit=4)
    candidates = [
        group(7, BO, at(10), seated=1),
        group(5, ADA, at(10), seated=2),
        group(3, ADA, at(10), seated=3, limit=4),
    ]
    departed = group(9, CY, at(9), seated=0)

    found = slots(study, hosts=[ADA, BO], group_slots=[*candidates, departed])

    assert [(s.start, s.host, s.interview_id, s.seats_left) for s in found][:3] == [
        (at(9), ADA, None, 4),
        (at(9, 30), ADA, None, 4),
        (at(10), ADA, 3, 1),
    ]


def test_one_on_one_studies_ignore_group_slots() -> None:
    open_group = group(41, BO, at(10), seated=1)

    found = slots(rules(), hosts=[ADA, BO], group_slots=[open_group])

    assert all(s.interview_id is None and s.seats_left == 1 for s in found)
    assert [(s.start, s.host) for s in found if s.start == at(10)] == [(at(10), ADA)]


# ---------------------------------------------------------------- daylight saving time


def test_berlin_spring_forward_moves_nine_oclock_by_an_hour_in_utc() -> None:
    study = rules(
        window(5, "09:00", "09:30"),
        window(6, "09:00", "09:30"),
        timezone="Europe/Berlin",
        horizon_days=3,
    )

    found = slots(study, now=datetime(2030, 3, 29, tzinfo=UTC))

    assert starts(found) == [
        datetime(2030, 3, 30, 8, 0, tzinfo=UTC),
        datetime(2030, 3, 31, 7, 0, tzinfo=UTC),
    ]
    assert local(found, BERLIN) == ["2030-03-30 09:00 CET", "2030-03-31 09:00 CEST"]


def test_berlin_fall_back_moves_nine_oclock_by_an_hour_in_utc() -> None:
    study = rules(
        window(5, "09:00", "09:30"),
        window(6, "09:00", "09:30"),
        timezone="Europe/Berlin",
        horizon_days=3,
    )

    found = slots(study, now=datetime(2030, 10, 25, tzinfo=UTC))

    assert starts(found) == [
        datetime(2030, 10, 26, 7, 0, tzinfo=UTC),
        datetime(2030, 10, 27, 8, 0, tzinfo=UTC),
    ]
    assert local(found, BERLIN) == ["2030-10-26 09:00 CEST", "2030-10-27 09:00 CET"]


def test_berlin_spring_forward_night_skips_the_missing_hour() -> None:
    night = window(6, "01:30", "03:30")
    now = datetime(2030, 3, 30, tzinfo=UTC)

    found = slots(rules(night, timezone="Europe/Berlin", horizon_days=2), now=now)
    assert local(found, BERLIN) == [
        "2030-03-31 01:30 CET",
        "2030-03-31 03:00 CEST",
    ]  # no 02:00, 02:30
    assert starts(found) == [
        datetime(2030, 3, 31, 0, 30, tzinfo=UTC),
        datetime(2030, 3, 31, 1, 0, tzinfo=UTC),
    ]

    # An hour's interview from 01:30 ends at 03:30 CEST: just inside the window.
    hour = slots(
        rules(night, timezone="Europe/Berlin", horizon_days=2, duration_minutes=60), now=now
    )
    assert local(hour, BERLIN) == ["2030-03-31 01:30 CET"]

    # Two hours from 01:30 fit the window on paper but end at 04:30 CEST, after it closes.
    assert (
        slots(rules(night, timezone="Europe/Berlin", horizon_days=2, duration_minutes=120), now=now)
        == []
    )


def test_an_interview_the_clock_jumps_during_is_offered_only_if_booking_accepts_it() -> None:
    until_two = window(6, "00:00", "02:00")
    now = datetime(2030, 3, 30, tzinfo=UTC)
    # 01:30-02:00 CET fits on the grid, but the clock reads 03:00 CEST when it ends.
    jumped = (datetime(2030, 3, 31, 0, 30, tzinfo=UTC), datetime(2030, 3, 31, 1, 0, tzinfo=UTC))

    alone = slots(rules(until_two, timezone="Europe/Berlin", horizon_days=2), now=now)
    assert not availability.within([until_two], "Europe/Berlin", *jumped)
    assert local(alone, BERLIN) == [
        "2030-03-31 00:00 CET",
        "2030-03-31 00:30 CET",
        "2030-03-31 01:00 CET",
    ]

    # Another window that holds it makes it bookable, so it is offered.
    until_three = window(6, "01:15", "03:00")
    both = slots(rules(until_two, until_three, timezone="Europe/Berlin", horizon_days=2), now=now)
    assert availability.within([until_two, until_three], "Europe/Berlin", *jumped)
    assert local(both, BERLIN) == [
        "2030-03-31 00:00 CET",
        "2030-03-31 00:30 CET",
        "2030-03-31 01:00 CET",
        "2030-03-31 01:15 CET",
        "2030-03-31 01:30 CET",
    ]


def test_an_interview_the_clock_pushes_into_the_next_day_is_not_offered() -> None:
    nuuk = ZoneInfo("America/Nuuk")
    # Nuuk moves its clocks at 01:00 UTC like the EU, which is 23:00 on Saturday there.
    if datetime(2030, 3, 31, 1, tzinfo=UTC).astimezone(nuuk).hour != 0:
        pytest.skip("this time zone database predates Nuuk's current rules")
    study = rules(window(5, "22:00", "23:59"), timezone="America/Nuuk", horizon_days=3)

    found = slots(study, now=datetime(2030, 3, 29, tzinfo=UTC))

    # 22:30 would end at 00:00 on Sunday; 23:00 does not exist that night.
    assert [f"{s.start.astimezone(nuuk):%a %H:%M}" for s in found] == ["Sat 22:00"]


def test_a_start_in_the_gap_is_skipped_not_moved_past_it() -> None:
    night = window(6, "01:30", "05:00")

    found = slots(
        rules(night, timezone="Europe/Berlin", horizon_days=2, step_minutes=45),
        now=datetime(2030, 3, 30, tzinfo=UTC),
    )

    # The grid is 01:30, 02:15, 03:00, 03:45, 04:30; 02:15 does not exist that night and does not
    # become 03:15.
    assert local(found, BERLIN) == [
        "2030-03-31 01:30 CET",
        "2030-03-31 03:00 CEST",
        "2030-03-31 03:45 CEST",
        "2030-03-31 04:30 CEST",
    ]


def test_berlin_fall_back_night_uses_the_first_of_the_repeated_hour() -> None:
    night = window(6, "01:30", "03:30")

    found = slots(
        rules(night, timezone="Europe/Berlin", horizon_days=2),
        now=datetime(2030, 10, 26, tzinfo=UTC),
    )

    assert local(found, BERLIN) == [
        "2030-10-27 01:30 CEST",
        "2030-10-27 02:00 CEST",
        "2030-10-27 02:30 CEST",
        "2030-10-27 03:00 CET",
    ]
    assert starts(found) == [
        datetime(2030, 10, 26, 23, 30, tzinfo=UTC),
        datetime(2030, 10, 27, 0, 0, tzinfo=UTC),
        datetime(2030, 10, 27, 0, 30, tzinfo=UTC),
        datetime(2030, 10, 27, 2, 0, tzinfo=UTC),
    ]


def test_new_york_spring_forward_and_fall_back() -> None:
    days = [window(5, "09:00", "09:30"), window(6, "09:00", "09:30")]
    spring = slots(
        rules(*days, timezone="America/New_York", horizon_days=3),
        now=datetime(2030, 3, 8, tzinfo=UTC),
    )
    fall = slots(
        rules(*days, timezone="America/New_York", horizon_days=3),
        now=datetime(2030, 11, 1, tzinfo=UTC),
    )

    assert starts(spring) == [
        datetime(2030, 3, 9, 14, tzinfo=UTC),
        datetime(2030, 3, 10, 13, tzinfo=UTC),
    ]
    assert starts(fall) == [
        datetime(2030, 11, 2, 13, tzinfo=UTC),
        datetime(2030, 11, 3, 14, tzinfo=UTC),
    ]
    assert local(fall, NEW_YORK) == ["2030-11-02 09:00 EDT", "2030-11-03 09:00 EST"]


def test_new_york_window_inside_the_gap_offers_nothing_and_the_repeat_offers_once() -> None:
    gap = slots(
        rules(window(6, "02:00", "03:00"), timezone="America/New_York", horizon_days=2),
        now=datetime(2030, 3, 9, tzinfo=UTC),
    )
    repeat = slots(
        rules(window(6, "01:00", "02:00"), timezone="America/New_York", horizon_days=2),
        now=datetime(2030, 11, 2, tzinfo=UTC),
    )

    assert gap == []
    assert local(repeat, NEW_YORK) == ["2030-11-03 01:00 EDT", "2030-11-03 01:30 EDT"]
    assert starts(repeat) == [
        datetime(2030, 11, 3, 5, 0, tzinfo=UTC),
        datetime(2030, 11, 3, 5, 30, tzinfo=UTC),
    ]


# ---------------------------------------------------------------- determinism and loading


def test_same_inputs_give_the_same_list_whatever_the_order_of_busy_time() -> None:
    study = rules(
        *(window(d, "08:00", "18:00") for d in range(5)), buffer_minutes=10, horizon_days=14
    )
    draw = random.Random(7)
    intervals = [
        Busy(start, start + timedelta(minutes=draw.choice([30, 45, 90])))
        for start in (MONDAY + timedelta(minutes=15 * draw.randrange(14 * 96)) for _ in range(300))
    ]
    busy = {ADA: intervals[:150], BO: intervals[150:]}
    shuffled = {host: draw.sample(taken, len(taken)) for host, taken in reversed(busy.items())}

    first = slots(study, hosts=[ADA, BO], busy=busy)

    assert first and {s.host for s in first} == {ADA, BO}
    assert slots(study, hosts=[ADA, BO], busy=busy) == first
    assert slots(study, hosts=[ADA, BO], busy=shuffled) == first


def test_busy_from_interviews_groups_rows_by_host() -> None:
    rows = [(ADA, at(9), at(10)), (BO, at(11), at(12)), (ADA, at(13), at(14))]

    assert busy_from_interviews(rows) == {
        ADA: [Busy(at(9), at(10)), Busy(at(13), at(14))],
        BO: [Busy(at(11), at(12))],
    }
    assert busy_from_interviews([]) == {}


# ---------------------------------------------------------------- properties

ZONES = [
    "UTC",
    "Asia/Tokyo",
    "Asia/Kolkata",  # a half-hour offset, no DST
    "Europe/Berlin",
    "America/New_York",
    "Australia/Lord_Howe",  # DST moves the clock by half an hour
    "America/Santiago",  # southern-hemisphere DST, changing at midnight
    "America/Nuuk",  # changes at 23:00 on Saturday, into Sunday
]
HOSTS = [ADA, BO, CY]


def offset_changes(zone_name: str, year: int = 2030) -> list[datetime]:
    """The hours of ``year`` (UTC) at which the zone's offset changes."""
    zone = ZoneInfo(zone_name)
    hours = [datetime(year, 1, 1, tzinfo=UTC) + timedelta(hours=h) for h in range(366 * 24)]
    return [
        b
        for a, b in zip(hours, hours[1:], strict=False)
        if a.astimezone(zone).utcoffset() != b.astimezone(zone).utcoffset()
    ]


# Examples start near one of their zone's DST changes half the time, so many cross one.
CHANGES = {zone: offset_changes(zone) for zone in ZONES}


def hhmm(minutes: int) -> str:
    return f"{minutes // 60:02}:{minutes % 60:02}"


# Times are drawn on five-minute marks so that slots, windows and busy time often meet exactly,
# where an off-by-one in an edge would show.
five_minutes = st.integers(0, 24 * 12 - 2).map(lambda n: 5 * n)  # 00:00 to 23:50


@st.composite
def windows_(draw: st.DrawFn) -> list[dict[str, Any]]:
    result = []
    for _ in range(draw(st.integers(1, 4))):
        start = draw(five_minutes)
        end = 5 * draw(st.integers(start // 5 + 1, (24 * 60 - 1) // 5))
        result.append(window(draw(st.integers(0, 6)), hhmm(start), hhmm(end)))
    return result


def window_across(change: datetime, zone: ZoneInfo, before: int, after: int) -> dict[str, Any]:
    """A window on the local day of a DST change, from ``before`` to ``after`` minutes around it."""
    just_before = (change - timedelta(minutes=1)).astimezone(zone).replace(tzinfo=None)
    wall = just_before + timedelta(minutes=1)  # the wall-clock time the change happens at
    at_minute = wall.hour * 60 + wall.minute
    start, end = max(at_minute - before, 0), min(at_minute + after, 24 * 60 - 1)
    return window(wall.weekday(), hhmm(start), hhmm(max(end, start + 5)))


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    timezone = draw(st.sampled_from(ZONES))
    windows = draw(windows_())
    # Half the examples in a DST zone start shortly before one of its changes, with a window
    # across it.
    change = draw(st.none() | st.sampled_from(CHANGES[timezone])) if CHANGES[timezone] else None
    if change is not None:
        windows.append(
            window_across(
                change,
                ZoneInfo(timezone),
                draw(st.integers(0, 16)) * 15,
                draw(st.integers(1, 16)) * 15,
            )
        )
        now = change - timedelta(minutes=5 * draw(st.integers(0, 3 * 24 * 12)))
    else:
        now = draw(
            st.datetimes(datetime(2029, 1, 1), datetime(2031, 12, 31)).map(
                lambda d: d.replace(tzinfo=UTC)
            )
        )
    study = SchedulingRules(
        windows=windows,
        timezone=timezone,
        duration_minutes=draw(st.integers(1, 36).map(lambda n: 5 * n)),
        buffer_minutes=draw(st.sampled_from([0, 0, 5, 15, 30, 60])),
        min_notice_minutes=draw(st.just(0) | st.integers(0, 3 * 24 * 12).map(lambda n: 5 * n)),
        horizon_days=draw(st.integers(0, 10)),
        participant_limit=draw(st.sampled_from([1, 1, 2, 4])),
        step_minutes=draw(st.sampled_from([10, 15, 20, 30, 45, 60, 90])),
    )
    hosts = draw(st.lists(st.sampled_from(HOSTS), min_size=1, max_size=3, unique=True))
    span = (study.horizon_days + 2) * 24 * 12  # in five-minute marks

    def mark(n: int) -> datetime:
        """The ``n``-th five-minute mark after the quarter hour before ``now``."""
        anchor = now.replace(minute=now.minute - now.minute % 15, second=0, microsecond=0)
        return anchor + timedelta(minutes=5 * n)

    busy = {
        host: [
            Busy(mark(n), mark(n + length))
            for n, length in draw(
                st.lists(st.tuples(st.integers(-24 * 12, span), st.integers(0, 48)), max_size=20)
            )
        ]
        for host in draw(st.lists(st.sampled_from(HOSTS), max_size=3, unique=True))
    }
    group_slots = [
        GroupSlot(
            number,
            host,
            mark(n),
            mark(n) + timedelta(minutes=study.duration_minutes),
            seated,
            limit,
        )
        for number, (host, n, limit, seated) in enumerate(
            draw(
                st.lists(
                    st.tuples(
                        st.sampled_from(HOSTS),
                        st.integers(-12, span),
                        st.integers(2, 4),
                        st.integers(0, 4),
                    ),
                    max_size=6,
                )
            ),
            start=1,
        )
    ]
    return {"rules": study, "now": now, "hosts": hosts, "busy": busy, "group_slots": group_slots}


PROPERTY_SETTINGS = settings(
    max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


def overlaps(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    return a_start < b_end and b_start < a_end


@PROPERTY_SETTINGS
@given(scenarios())
def test_every_slot_keeps_every_rule(scenario: dict[str, Any]) -> None:
    study: SchedulingRules = scenario["rules"]
    now: datetime = scenario["now"]
    zone = ZoneInfo(study.timezone)
    duration, buffer = (
        timedelta(minutes=study.duration_minutes),
        timedelta(minutes=study.buffer_minutes),
    )
    found = open_slots(study, **{k: v for k, v in scenario.items() if k != "rules"})

    assert [s.start for s in found] == sorted({s.start for s in found})  # sorted, unique
    for slot in found:
        assert slot.start.tzinfo is UTC
        assert (
            now + timedelta(minutes=study.min_notice_minutes)
            <= slot.start
            < now + timedelta(days=study.horizon_days)
        )
        assert slot.host in scenario["hosts"]
        if slot.interview_id is not None:
            joined = next(g for g in scenario["group_slots"] if g.interview_id == slot.interview_id)
            assert study.participant_limit > 1 and joined.seated < joined.limit
            assert (slot.start, slot.end, slot.host, slot.seats_left) == (
                joined.start,
                joined.end,
                joined.host,
                joined.limit - joined.seated,
            )
            continue
        assert slot.end - slot.start == duration and slot.seats_left == study.participant_limit
        # Inside a window in local time, exactly as booking checks it.
        assert availability.within(study.windows, study.timezone, slot.start, slot.end)
        # On the grid of a window of that weekday, at the first occurrence of its wall time.
        wall = slot.start.astimezone(zone).replace(tzinfo=None)
        assert wall.replace(tzinfo=zone).astimezone(UTC) == slot.start
        assert any(
            w["weekday"] == wall.weekday()
            and (
                wall - datetime.combine(wall.date(), datetime.strptime(w["start"], "%H:%M").time())
            )
            % timedelta(minutes=study.step_minutes)
            == timedelta(0)
            for w in study.windows
        )
        # The host is free, buffer included, of their busy time and their group interviews.
        taken = [(b.start, b.end) for b in scenario["busy"].get(slot.host, [])]
        taken += [(g.start, g.end) for g in scenario["group_slots"] if g.host == slot.host]
        assert not any(
            overlaps(slot.start - buffer, slot.end + buffer, s, e) for s, e in taken if s < e
        )


def instants_showing(wall: datetime, zone: ZoneInfo) -> list[datetime]:
    """The UTC instants at which the zone's clock reads ``wall``: none in a gap, two in a repeat."""
    found = set()
    for fold in (0, 1):
        offset = wall.replace(tzinfo=zone, fold=fold).utcoffset()
        assert offset is not None
        instant = (wall - offset).replace(tzinfo=UTC)
        if instant.astimezone(zone).replace(tzinfo=None) == wall:
            found.add(instant)
    return sorted(found)


def reference_slots(
    study: SchedulingRules,
    *,
    now: datetime,
    hosts: list[str],
    busy: dict[str, list[Busy]],
    group_slots: list[GroupSlot],
) -> list[OpenSlot]:
    """The same rules written the slow, obvious way: scan every busy interval for every start."""
    zone = ZoneInfo(study.timezone)
    duration, buffer = (
        timedelta(minutes=study.duration_minutes),
        timedelta(minutes=study.buffer_minutes),
    )
    earliest, horizon_end = (
        now + timedelta(minutes=study.min_notice_minutes),
        now + timedelta(days=study.horizon_days),
    )
    candidates: set[datetime] = set()
    day = now.astimezone(zone).date()
    while day <= horizon_end.astimezone(zone).date():
        for w in study.windows:
            if w["weekday"] != day.weekday():
                continue
            wall = datetime.combine(day, datetime.strptime(w["start"], "%H:%M").time())
            close = datetime.combine(day, datetime.strptime(w["end"], "%H:%M").time())
            while wall + duration <= close:
                instants = instants_showing(wall, zone)
                if (
                    instants
                    and earliest <= instants[0] < horizon_end
                    and availability.within(
                        study.windows, study.timezone, instants[0], instants[0] + duration
                    )
                ):
                    candidates.add(instants[0])
                wall += timedelta(minutes=study.step_minutes)
        day += timedelta(days=1)
    order = list(dict.fromkeys(hosts))
    offered: dict[datetime, OpenSlot] = {}
    if study.participant_limit > 1:
        for g in sorted(
            group_slots,
            key=lambda g: (g.start, order.index(g.host) if g.host in order else 99, g.interview_id),
        ):
            if (
                g.host in order
                and g.seated < g.limit
                and earliest <= g.start < horizon_end
                and g.start not in offered
            ):
                offered[g.start] = OpenSlot(
                    g.start, g.end, g.host, g.limit - g.seated, g.interview_id
                )
    for start in sorted(candidates):
        if start in offered:
            continue
        for host in order:
            taken = [(b.start, b.end) for b in busy.get(host, [])] + [
                (g.start, g.end) for g in group_slots if g.host == host
            ]
            if not any(
                s < e and overlaps(start - buffer, start + duration + buffer, s, e)
                for s, e in taken
            ):
                offered[start] = OpenSlot(
                    start, start + duration, host, study.participant_limit, None
                )
                break
    return [offered[s] for s in sorted(offered)]


@PROPERTY_SETTINGS
@given(scenarios())
def test_slots_match_a_slow_reference(scenario: dict[str, Any]) -> None:
    study, inputs = scenario["rules"], {k: v for k, v in scenario.items() if k != "rules"}

    assert open_slots(study, **inputs) == reference_slots(study, **inputs)
