"""iTIP/iMIP calendar invites (RFC 5545, RFC 5546) rendered with ``icalendar``.

One interview is one VEVENT whose UID never changes; every reschedule or edit sends it again with
a higher SEQUENCE, so calendar clients update the event they already hold instead of adding one.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from icalendar import Calendar, Event, vCalAddress

PRODID = "-//Interview Desk//EN"
PARTSTATS = frozenset({"ACCEPTED", "TENTATIVE", "DECLINED", "NEEDS-ACTION"})
ROLES = frozenset({"CHAIR", "REQ-PARTICIPANT", "OPT-PARTICIPANT", "NON-PARTICIPANT"})
_STATUS = {"REQUEST": "CONFIRMED", "CANCEL": "CANCELLED"}


@dataclass(frozen=True)
class InviteAttendee:
    email: str
    name: str
    partstat: str = "NEEDS-ACTION"  # ACCEPTED | TENTATIVE | DECLINED | NEEDS-ACTION
    role: str = "REQ-PARTICIPANT"


@dataclass(frozen=True)
class CalendarInvite:
    uid: str  # never changes for an interview
    sequence: int  # +1 on every reschedule or edit
    method: Literal["REQUEST", "CANCEL"]
    start: datetime  # aware UTC
    end: datetime
    summary: str
    description: str
    location: str | None  # the meeting link
    organizer_email: str
    organizer_name: str
    attendees: tuple[InviteAttendee, ...]
    stamp: datetime  # DTSTAMP (aware UTC), passed in so output is deterministic


def render_ics(invite: CalendarInvite) -> bytes:
    """The invite as an iCalendar object (CRLF lines, folded at 75 octets, text escaped)."""
    _check(invite)
    event = Event.new(
        uid=invite.uid,
        sequence=invite.sequence,
        stamp=_utc(invite.stamp, "stamp"),
        start=_utc(invite.start, "start"),
        end=_utc(invite.end, "end"),
        summary=invite.summary,
        description=invite.description or None,
        location=invite.location or None,
        url=invite.location if _is_web_url(invite.location) else None,
        organizer=_address(invite.organizer_email, invite.organizer_name),
        attendees=[_attendee(a, rsvp=invite.method == "REQUEST") for a in invite.attendees],
        status=_STATUS[invite.method],
        transparency="OPAQUE",
    )
    # Built by hand rather than with Calendar.new(), which adds a random calendar UID and would
    # make the same invite render differently on every retry.
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", invite.method)
    calendar.add_component(event)
    return calendar.to_ical()


def _check(invite: CalendarInvite) -> None:
    if invite.method not in _STATUS:
        raise ValueError(f"method must be REQUEST or CANCEL, not {invite.method!r}")
    if invite.sequence < 0:
        raise ValueError("sequence cannot be negative")
    if not invite.uid.strip():
        raise ValueError("an invite needs a UID")
    if _utc(invite.end, "end") <= _utc(invite.start, "start"):
        raise ValueError("an invite must end after it starts")
    for attendee in invite.attendees:
        if attendee.partstat not in PARTSTATS:
            raise ValueError(f"unknown PARTSTAT {attendee.partstat!r}")
        if attendee.role not in ROLES:
            raise ValueError(f"unknown ROLE {attendee.role!r}")


def _utc(value: datetime, field: str) -> datetime:
    # A naive datetime would be written as floating local time: each reader's own zone.
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{field} must be timezone-aware")
    return value.astimezone(UTC)


def _address(email: str, name: str | None) -> vCalAddress:
    address = vCalAddress(f"mailto:{email.strip()}")
    if name and name.strip():  # a member without a display name is just an address
        address.params["CN"] = name.strip()
    return address


def _attendee(attendee: InviteAttendee, *, rsvp: bool) -> vCalAddress:
    address = _address(attendee.email, attendee.name)
    address.params["ROLE"] = attendee.role
    address.params["PARTSTAT"] = attendee.partstat
    if rsvp:  # a CANCEL expects no reply (RFC 5546, 3.2.5)
        address.params["RSVP"] = "TRUE"
    return address


def _is_web_url(value: str | None) -> bool:
    return value is not None and value.lower().startswith(("https://", "http://"))
