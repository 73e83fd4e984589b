"""The invites parse back with icalendar and carry what iTIP clients need."""

from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar, Event

from bot.integrations.ical import CalendarInvite, InviteAttendee, render_ics
from tests.integrations.samples import CANCEL, END, REQUEST, STAMP, START


def parse(invite: CalendarInvite) -> tuple[Calendar, Event]:
    calendar = Calendar.from_ical(render_ics(invite))
    events = calendar.events
    assert len(events) == 1
    return calendar, events[0]


def test_request_carries_the_itip_fields() -> None:
    calendar, event = parse(REQUEST)

    assert calendar["PRODID"] == "-//Interview Desk//EN"
    assert calendar["VERSION"] == "2.0"
    assert calendar["METHOD"] == "REQUEST"
    assert event["UID"] == "interview-42@interview-desk"
    assert event["SEQUENCE"] == 0
    assert event["DTSTAMP"].dt == STAMP
    assert event["DTSTART"].dt == START
    assert event["DTSTART"].dt.utcoffset() == timedelta(0)
    assert event["DTEND"].dt == END
    assert event["SUMMARY"] == REQUEST.summary
    assert event["DESCRIPTION"] == REQUEST.description
    assert event["LOCATION"] == REQUEST.location
    assert event["URL"] == REQUEST.location
    assert event["STATUS"] == "CONFIRMED"
    assert event["TRANSP"] == "OPAQUE"
    assert event["ORGANIZER"] == "mailto:ada@example.com"
    assert event["ORGANIZER"].params["CN"] == "Ada Lovelace"

    attendees = {str(a): a.params for a in event["ATTENDEE"]}
    assert attendees["mailto:zoe@example.com"] == {
        "CN": "Zoë Ångström", "ROLE": "REQ-PARTICIPANT", "PARTSTAT": "NEEDS-ACTION", "RSVP": "TRUE"
    }
    assert attendees["mailto:ada@example.com"]["PARTSTAT"] == "ACCEPTED"
    assert attendees["mailto:ada@example.com"]["ROLE"] == "CHAIR"
    assert attendees["mailto:bo@example.com"]["PARTSTAT"] == "TENTATIVE"

    raw = render_ics(REQUEST)
    assert b"DTSTART:20300305T090000Z\r\n" in raw
    assert b"DTEND:20300305T094500Z\r\n" in raw


def test_cancel_keeps_the_uid_and_is_cancelled() -> None:
    calendar, event = parse(CANCEL)

    assert calendar["METHOD"] == "CANCEL"
    assert event["STATUS"] == "CANCELLED"
    assert event["UID"] == REQUEST.uid
    assert event["SEQUENCE"] == 1
    assert all("RSVP" not in attendee.params for attendee in event["ATTENDEE"])


def test_text_is_escaped_and_folded() -> None:
    invite = replace(
        REQUEST,
        summary="Checkout, payments; and you\nSession 2",
        description="Hi Zoë,\nWe'll talk about: cards, wallets; 支払い方法 and Ελληνικά. " * 6,
        location="Room 4, Floor 2; Berlin",
        organizer_name='Lovelace, Ada "the host"',
        attendees=(InviteAttendee("zoe@example.com", "Ångström, Zoë: 東京"),),
    )
    raw = render_ics(invite)

    assert b"SUMMARY:Checkout\\, payments\\; and you\\nSession 2\r\n" in raw
    assert b"LOCATION:Room 4\\, Floor 2\\; Berlin\r\n" in raw
    assert b"URL" not in raw  # a room is not a link
    lines = raw.split(b"\r\n")
    assert all(len(line) <= 75 for line in lines)
    assert b"\n" not in raw.replace(b"\r\n", b"")
    raw.decode("utf-8")  # folding never splits a character

    _, event = parse(invite)
    assert event["SUMMARY"] == invite.summary
    assert event["DESCRIPTION"] == invite.description
    assert event["LOCATION"] == invite.location
    assert event["ORGANIZER"].params["CN"] == 'Lovelace, Ada "the host"'
    assert event["ATTENDEE"].params["CN"] == "Ångström, Zoë: 東京"


def test_times_are_written_in_utc_whatever_zone_they_come_in() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    invite = replace(
        REQUEST,
        start=datetime(2030, 3, 5, 10, 0, tzinfo=berlin),
        end=datetime(2030, 3, 5, 10, 45, tzinfo=berlin),
    )
    assert render_ics(invite) == render_ics(REQUEST)


def test_output_is_deterministic() -> None:
    assert render_ics(REQUEST) == render_ics(replace(REQUEST))


def test_without_location_there_is_no_location_or_url() -> None:
    raw = render_ics(replace(REQUEST, location=None))
    assert b"LOCATION" not in raw and b"URL" not in raw


@pytest.mark.parametrize(
    "change, message",
    [
        ({"start": datetime(2030, 3, 5, 9, 0)}, "timezone-aware"),
        ({"end": START}, "end after it starts"),
        ({"method": "PUBLISH"}, "REQUEST or CANCEL"),
        ({"sequence": -1}, "negative"),
        ({"uid": " "}, "UID"),
        ({"attendees": (InviteAttendee("z@example.com", "Z", partstat="MAYBE"),)}, "PARTSTAT"),
    ],
)
def test_invalid_invites_are_refused(change: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        render_ics(replace(REQUEST, **change))  # type: ignore[arg-type]


def test_an_attendee_without_a_name_is_just_an_address() -> None:
    _, event = parse(replace(REQUEST, attendees=(InviteAttendee("zoe@example.com", ""),)))
    assert event["ATTENDEE"] == "mailto:zoe@example.com"
    assert "CN" not in event["ATTENDEE"].params
