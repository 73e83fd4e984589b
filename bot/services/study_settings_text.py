"""The typed parts of a study's settings: availability, screener, incentive, hosts, numbers.

People type these in the setup modal and on the command line, so each parser accepts the forgiving
spellings and raises ``InvalidInput`` with a message that quotes what was wrong and shows the
expected form; each ``format_*`` writes the canonical text its parser reads back.
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import time
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from functools import cache
from typing import Any, TypedDict, TypeVar
from zoneinfo import available_timezones

from bot.services import validation
from bot.services.availability import WEEKDAYS, Window
from bot.services.errors import InvalidInput

E = TypeVar("E", bound=StrEnum)

MAX_HOSTS = 10  # one link/password pair per host keeps the setup modal far from 100 blocks
MAX_QUESTIONS = 20
AVAILABILITY_EXAMPLE = '"Mon-Fri 09:00-17:00" or "Mon 09:00-12:00, Tue 13:00-17:00"'
SCREENER_EXAMPLE = "Question? | answer A* | answer B"
MAX_REMINDERS = 5
REMINDER_RANGE = (5, 14 * 24 * 60)  # minutes before the start: 5 minutes to 14 days
REMINDERS_EXAMPLE = '"24h, 1h" (or "2d, 90m"; "none" for no reminders)'
# Active ISO 4217 currencies (no funds, metals or test codes): an incentive is paid in one.
CURRENCIES = frozenset(
    "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP "
    "BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP "
    "GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR "
    "KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK "
    "MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR "
    "SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS "
    "UAH UGX USD UYU UZS VED VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG".split()
)
_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_ENTRY = re.compile(
    r"^(?P<days>[a-z]+(?:\s*-\s*[a-z]+)?)\s+(?P<start>\d{1,2}(?::\d{2})?)\s*(?:-|–|—|to)\s*"
    r"(?P<end>\d{1,2}(?::\d{2})?)$",
    re.IGNORECASE,
)
_CLOCK = re.compile(r"^(\d{1,2})(?::(\d{2}))?$")
_LEAD = re.compile(r"^(?P<n>\d{1,5}(?:[.,]\d{1,2})?)\s*(?P<unit>d|days?|h|hrs?|hours?|m|mins?|minutes?)$", re.IGNORECASE)
_UNIT_MINUTES = {"d": 24 * 60, "h": 60, "m": 1}
_AMOUNT = r"\d{1,10}(?:[.,]\d{1,2})?"
_MONEY = re.compile(rf"^(?:(?P<a>{_AMOUNT})\s*(?P<c>[a-z]{{3}})|(?P<c2>[a-z]{{3}})\s*(?P<a2>{_AMOUNT}))$", re.I)


@dataclass(frozen=True)
class Incentive:
    amount: Decimal
    currency: str  # ISO 4217

    def __str__(self) -> str:
        whole = self.amount == self.amount.to_integral()
        return f"{self.amount.quantize(Decimal(1)) if whole else self.amount:f} {self.currency}"


@dataclass(frozen=True)
class ScreenerQuestion:
    question: str
    choices: tuple[str, ...]
    qualifying: tuple[str, ...]  # the choices that let a participant book


@dataclass(frozen=True)
class HostRoom:
    slack_user_id: str
    url: str | None = None
    password: str | None = None


class HostForm(TypedDict, total=False):
    slack_user_id: str
    url: str
    password: str


def text(raw: object) -> str:
    return "" if raw is None else str(raw).strip()


def whole(raw: object, what: str, low: int, high: int, unit: str = "") -> int:
    """A whole number in ``[low, high]``, from a number or its text."""
    typed = text(raw)
    if not typed:
        raise InvalidInput(f"{what} is missing.")
    try:
        number = Decimal(typed)
    except InvalidOperation:
        raise InvalidInput(f"{what} must be a whole number{unit}, not {typed!r}.") from None
    if number.is_finite() and number < 0 and low == 0:
        raise InvalidInput(f"{what} can't be negative.")
    if not number.is_finite() or number != number.to_integral() or not low <= number <= high:
        raise InvalidInput(f"{what} must be a whole number from {low} to {high}{unit}, not {typed}.")
    return int(number)


def notice_minutes(raw: object) -> int:
    """Hours of notice (fractions allowed, e.g. 1.5) as whole minutes."""
    typed = text(raw)
    try:
        hours = Decimal(typed) if typed else None
    except InvalidOperation:
        hours = None
    if hours is None or not hours.is_finite() or not 0 <= hours <= 720:
        raise InvalidInput(f"The minimum notice must be 0 to 720 hours (e.g. 24 or 1.5), not {typed or 'empty'}.")
    return int((hours * 60).to_integral())


def format_hours(minutes: int) -> str:
    return f"{minutes / 60:.2f}".rstrip("0").rstrip(".")


def parse_reminders(raw: object) -> tuple[int, ...]:
    """How long before an interview reminders go out, e.g. ``24h, 1h``: minutes, earliest first;
    empty (or ``none``) for no reminders."""
    typed = text(raw)
    if typed.lower() in ("", "none", "off"):
        return ()
    found: set[int] = set()
    for part in re.split(r"[,;\n]+", typed):
        part = part.strip().removesuffix("before").strip()
        if not part:
            continue
        match = _LEAD.match(part)
        if not match:
            raise InvalidInput(f"Can't read {part!r} as a reminder time: write them like {REMINDERS_EXAMPLE}.")
        minutes = Decimal(match["n"].replace(",", ".")) * _UNIT_MINUTES[match["unit"][0].lower()]
        low, high = REMINDER_RANGE
        if minutes != minutes.to_integral():
            raise InvalidInput(f"{part!r} is not a whole number of minutes: write it like 90m.")
        if not low <= minutes <= high:
            raise InvalidInput(f"A reminder goes out 5 minutes to 14 days before the interview, so {part!r} won't do.")
        found.add(int(minutes))
    if len(found) > MAX_REMINDERS:
        raise InvalidInput(f"At most {MAX_REMINDERS} reminders per interview ({len(found)} given).")
    return tuple(sorted(found, reverse=True))


def format_reminders(offsets: Sequence[int]) -> str:
    """The canonical text ``parse_reminders`` reads back: ``24h, 1h``, ``90m``; ``none``."""
    if not offsets:
        return "none"
    return ", ".join(f"{m // 60}h" if m % 60 == 0 else f"{m}m" for m in sorted(offsets, reverse=True))


def optional_hours(raw: object, what: str, low: int, high: int) -> int | None:
    """A whole number of hours, or None when empty or ``off`` (the feature is off)."""
    typed = text(raw)
    if typed.lower() in ("", "off", "none"):
        return None
    return whole(typed, what, low, high, " hours")


def choice(options: type[E], raw: object, what: str) -> E:
    """One of a vocabulary's values, as typed ("google-meet" and "google_meet" alike)."""
    typed = text(raw).lower().replace("-", "_")
    try:
        return options(typed)
    except ValueError:
        allowed = ", ".join(o.value.replace("_", "-") for o in options)
        raise InvalidInput(f"{what} must be one of: {allowed}.") from None


def optional_url(raw: object, what: str) -> str | None:
    typed = text(raw)
    return validation.web_url(typed, what=what) if typed else None


def host_url_key(user_id: str) -> str:
    return f"host_url:{user_id}"


def host_password_key(user_id: str) -> str:
    return f"host_password:{user_id}"


def parse_hosts(raw: Sequence[HostForm], errors: dict[str, str]) -> tuple[HostRoom, ...]:
    """Hosts with their meeting rooms; problems go into ``errors`` under each host's own key."""
    rooms: dict[str, HostRoom] = {}
    for item in raw:
        try:
            user = validation.slack_user_id(text(item.get("slack_user_id")))
        except InvalidInput as exc:
            errors.setdefault("hosts", exc.message)
            continue
        url, password = text(item.get("url")), text(item.get("password"))
        try:
            url = validation.web_url(url, what="The meeting link") if url else ""
        except InvalidInput as exc:
            errors[host_url_key(user)] = exc.message
        if password and not url:
            errors.setdefault(host_password_key(user), "A password needs a meeting link.")
        elif len(password) > 200:
            errors[host_password_key(user)] = "The password is too long (at most 200 characters)."
        rooms.setdefault(user, HostRoom(user, url or None, password or None))
    if not rooms:
        errors.setdefault("hosts", "Choose at least one host.")
    elif len(rooms) > MAX_HOSTS:
        errors["hosts"] = f"Choose at most {MAX_HOSTS} hosts."
    return tuple(rooms.values())


@cache
def _zones() -> dict[str, str]:
    return {z.lower(): z for z in available_timezones() if z not in ("localtime", "Factory")}


def parse_timezone(raw: object) -> str:
    """An IANA zone, spelled canonically whatever the case it was typed in."""
    typed = text(raw)
    zone = _zones().get(typed.lower())
    if zone is None:
        shown = f"{typed!r} is not a time zone" if typed else "The time zone is missing"
        raise InvalidInput(f"{shown}: use an IANA name such as Europe/Berlin or America/New_York.")
    return zone


def _clock(typed: str, where: str) -> time:
    match = _CLOCK.match(typed.strip())
    if not match or int(match[1]) > 23 or int(match[2] or 0) > 59:
        raise InvalidInput(f"{where}: {typed.strip() or 'a missing time'} is not a time of day (00:00 to 23:59).")
    return time(int(match[1]), int(match[2] or 0))


def _window(day: int, start: time, end: time) -> Window:
    window = Window(day, start, end)
    if end <= start:
        raise InvalidInput(
            f"{window} ends before it starts: a window can't cross midnight. Split it into one window per day."
        )
    return window


def _day(word: str) -> int | None:
    word = word.strip().lower()
    return next((i for i, d in enumerate(_DAY_NAMES) if len(word) >= 2 and d.startswith(word)), None)


def _entry(typed: str) -> list[Window]:
    match = _ENTRY.match(typed)
    if not match:
        raise InvalidInput(f"Can't read {typed!r} as availability: write it like {AVAILABILITY_EXAMPLE}.")
    first, _, last = match["days"].partition("-")
    a, b = _day(first), _day(last or first)
    if a is None or b is None:
        raise InvalidInput(f"{typed!r}: {match['days']!r} is not a weekday or a range like Mon-Fri.")
    start, end = _clock(match["start"], repr(typed)), _clock(match["end"], repr(typed))
    return [_window((a + i) % 7, start, end) for i in range((b - a) % 7 + 1)]


def parse_availability(raw: str | Sequence[Mapping[str, Any]]) -> tuple[Window, ...]:
    """Weekly windows from text (see ``AVAILABILITY_EXAMPLE``) or from days with start/end times."""
    found: list[Window] = []
    if isinstance(raw, str):
        for part in re.split(r"[,;\n]+", raw):
            if part.strip():
                found.extend(_entry(" ".join(part.split())))
    else:
        for item in raw:
            day = item.get("weekday")
            if not isinstance(day, int) or not 0 <= day <= 6:
                raise InvalidInput(f"{day!r} is not a weekday.")
            start = _clock(text(item.get("start")), "Start")
            found.append(_window(day, start, _clock(text(item.get("end")), "End")))
    if not found:
        raise InvalidInput(f"Choose at least one day and its hours, e.g. {AVAILABILITY_EXAMPLE}.")
    found = sorted(set(found), key=lambda w: (w.weekday, w.start, w.end))
    for a, b in zip(found, found[1:], strict=False):
        if a.weekday == b.weekday and b.start < a.end:
            raise InvalidInput(f"{a} overlaps {b}: merge them into one window.")
    return tuple(found)


def format_availability(found: Sequence[Window]) -> str:
    """The canonical text: runs of days with the same hours, e.g. ``Mon-Fri 09:00-17:00``."""
    by_hours: dict[tuple[time, time], list[int]] = {}
    for w in found:
        by_hours.setdefault((w.start, w.end), []).append(w.weekday)
    entries: list[tuple[int, time, str]] = []
    for (start, end), days in by_hours.items():
        runs: list[list[int]] = []
        for day in sorted(set(days)):
            if runs and day == runs[-1][-1] + 1:
                runs[-1].append(day)
            else:
                runs.append([day])
        for run in runs:
            label = WEEKDAYS[run[0]] if len(run) == 1 else f"{WEEKDAYS[run[0]]}-{WEEKDAYS[run[-1]]}"
            entries.append((run[0], start, f"{label} {start:%H:%M}-{end:%H:%M}"))
    return ", ".join(entry for *_, entry in sorted(entries))


def parse_screener(raw: object) -> tuple[ScreenerQuestion, ...]:
    """One question per line, answers after ``|``, qualifying answers marked with ``*``."""
    questions: list[ScreenerQuestion] = []
    for number, line in enumerate(text(raw).splitlines(), start=1):
        if not line.strip():
            continue
        where = f"Screener line {number}"
        question, *answers = (part.strip() for part in line.split("|"))
        if not question or len(question) > 300:
            raise InvalidInput(f"{where}: start with the question (up to 300 characters), like {SCREENER_EXAMPLE}.")
        if len(answers) < 2:
            raise InvalidInput(f"{where}: give at least two answers after the question, separated by |, like {SCREENER_EXAMPLE}.")
        choices: list[str] = []
        qualifying: list[str] = []
        for answer in answers:
            label = answer.rstrip("*").strip()
            if not label or len(label) > 150:
                raise InvalidInput(f"{where}: every answer needs 1 to 150 characters.")
            if label.lower() in (c.lower() for c in choices):
                raise InvalidInput(f"{where}: the answer {label!r} is there twice.")
            choices.append(label)
            if answer.endswith("*"):
                qualifying.append(label)
        if not qualifying:
            raise InvalidInput(f"{where}: mark the answers that qualify with *, like {SCREENER_EXAMPLE}.")
        questions.append(ScreenerQuestion(question, tuple(choices), tuple(qualifying)))
    if len(questions) > MAX_QUESTIONS:
        raise InvalidInput(f"The screener has {len(questions)} questions; at most {MAX_QUESTIONS}.")
    return tuple(questions)


def format_screener(questions: Sequence[ScreenerQuestion]) -> str:
    return "\n".join(
        " | ".join([q.question, *(c + ("*" if c in q.qualifying else "") for c in q.choices)])
        for q in questions
    )


def parse_incentive(raw: object) -> Incentive | None:
    """``50 EUR`` (or ``EUR 50``); empty or ``none`` for no incentive."""
    typed = text(raw)
    if typed.lower() in ("", "none"):
        return None
    match = _MONEY.match(typed)
    if not match:
        raise InvalidInput(f"Can't read the incentive {typed!r}: write an amount and a currency code, like 50 EUR.")
    amount = Decimal((match["a"] or match["a2"]).replace(",", "."))
    currency = (match["c"] or match["c2"]).upper()
    if currency not in CURRENCIES:
        raise InvalidInput(f"{currency} is not an ISO 4217 currency code: use one such as EUR, USD or GBP.")
    if amount <= 0:
        raise InvalidInput("The incentive amount must be more than 0.")
    return Incentive(amount, currency)
