"""What the participant pages show, computed from the portal's data: pure functions, no I/O.

Kept apart from the HTTP handlers so that time zones, day grouping and input parsing can be
reasoned about (and tested) without a server. Every time is turned into the zone the participant
chose here, once, so a template never does time arithmetic and always names the zone.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from bot.services.errors import InvalidInput
from bot.services.notifications import when
from bot.services.portal import PortalBooking, PortalState
from bot.services.slots import OpenSlot

# Names the tz database carries that are not places anyone lives in.
_NOT_ZONES = frozenset({"Factory", "localtime", "posixrules"})
MAX_START_LENGTH = 40  # an ISO 8601 instant is at most ~32 characters


@cache
def zone_names() -> tuple[str, ...]:
    """Every IANA zone a participant may pick, sorted; built once per process."""
    return tuple(sorted(available_timezones() - _NOT_ZONES))


@cache
def _zone_set() -> frozenset[str]:
    return frozenset(zone_names())


def known_zone(name: str) -> str:
    """``name`` if it is a zone of the list; anything else is refused before it reaches zoneinfo."""
    if name not in _zone_set():
        raise InvalidInput("That time zone is not one we know. Please choose one from the list.")
    return name


@dataclass(frozen=True)
class ZoneChoice:
    name: str
    chosen: bool  # picked by the participant (now or when they booked), not the study's default


def zone_for(requested: str | None, state: PortalState) -> ZoneChoice:
    """The zone to show times in: the ``?tz=`` asked for, else the saved one, else the study's."""
    if requested is not None:
        return ZoneChoice(known_zone(requested), chosen=True)
    if state.participant_timezone and state.participant_timezone in _zone_set():
        return ZoneChoice(state.participant_timezone, chosen=True)
    return ZoneChoice(state.study_timezone, chosen=False)


def parse_start(value: str | None) -> datetime:
    """A slot's start as posted by a slot button: an ISO 8601 instant with its offset, in UTC."""
    problem = InvalidInput("That time could not be read. Please choose a time from the list.")
    if not value or len(value) > MAX_START_LENGTH:
        raise problem
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise problem from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise problem
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # a moment of year 1 or 9999 whose offset takes it out of the calendar in UTC
        raise problem from None


def start_value(moment: datetime) -> str:
    """How a slot's start travels in a form: ISO 8601 in UTC with a ``Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class SlotView:
    value: str  # the ``start`` field the button posts
    time: str  # "09:30", in the chosen zone
    full: str  # "Wed 6 March 2030, 09:30–10:15 (Europe/Berlin)", for screen readers


@dataclass(frozen=True)
class DayView:
    key: str  # ISO date in the chosen zone; unique on the page, so usable as an id
    heading: str  # "Wednesday 6 March"
    slots: tuple[SlotView, ...]


def days(slots: Iterable[OpenSlot], zone: str, today: date) -> list[DayView]:
    """Open times grouped by their day in ``zone``, soonest first."""
    tz = ZoneInfo(zone)
    grouped: dict[date, list[SlotView]] = {}
    for slot in sorted(slots, key=lambda s: s.start):
        local = slot.start.astimezone(tz)
        grouped.setdefault(local.date(), []).append(
            SlotView(start_value(slot.start), f"{local:%H:%M}", when(slot.start, slot.end, zone))
        )
    return [DayView(day.isoformat(), day_heading(day, today), tuple(views)) for day, views in grouped.items()]


def day_heading(day: date, today: date) -> str:
    """ "Wednesday 6 March"; the year only when it is not this year's."""
    heading = f"{day:%A} {day.day} {day:%B}"
    return heading if day.year == today.year else f"{heading} {day.year}"


def moment(instant: datetime, zone: str) -> str:
    """ "Tue 5 March 2030, 10:00 (Europe/Berlin)": one instant, as the reader lives it."""
    local = instant.astimezone(ZoneInfo(zone))
    return f"{local:%a} {local.day} {local:%B %Y, %H:%M} ({zone})"


def today_in(zone: str, now: datetime) -> date:
    return now.astimezone(ZoneInfo(zone)).date()


@dataclass(frozen=True)
class Header:
    """The top of every page of a valid link: which study, with whom, how long."""

    study_name: str
    hosts: str
    duration: str


def header(state: PortalState) -> Header:
    return Header(state.study_name, hosted_by(state.host_names), f"{state.duration_minutes} minutes")


def hosted_by(names: Sequence[str]) -> str:
    unique = list(dict.fromkeys(n for n in names if n))
    if not unique:
        return "Hosted by the research team"
    if len(unique) == 1:
        return f"Hosted by {unique[0]}"
    return f"Hosted by {', '.join(unique[:-1])} and {unique[-1]}"


@dataclass(frozen=True)
class BookingView:
    when: str
    meeting_url: str | None
    meeting_password: str | None
    can_change: bool
    change_deadline: str | None  # in the chosen zone; None when this study takes no changes here


def booking_view(booking: PortalBooking, zone: str) -> BookingView:
    deadline = booking.change_deadline
    return BookingView(
        when=when(booking.starts_at, booking.ends_at, zone),
        meeting_url=booking.meeting_url,
        meeting_password=booking.meeting_password,
        can_change=booking.can_change,
        change_deadline=moment(deadline, zone) if deadline is not None else None,
    )


def other_times(slots: Iterable[OpenSlot], booking: PortalBooking) -> list[OpenSlot]:
    """The times a booking can move to: every open time except the one it already has."""
    return [s for s in slots if s.start != booking.starts_at]
