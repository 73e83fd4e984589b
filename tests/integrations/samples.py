"""Sample invites, template contexts and emails shared by the integration tests."""

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from bot.integrations.email import Mailbox, OutgoingEmail
from bot.integrations.ical import CalendarInvite, InviteAttendee
from bot.integrations.templates import render_email

START = datetime(2030, 3, 5, 9, 0, tzinfo=UTC)  # 10:00 in Europe/Berlin
END = datetime(2030, 3, 5, 9, 45, tzinfo=UTC)
STAMP = datetime(2030, 3, 1, 8, 30, tzinfo=UTC)
WHEN = "Tue 5 March 2030, 10:00–10:45 (Europe/Berlin)"
MEETING_URL = "https://meet.example.com/abc-defg-hij"
SENDER = Mailbox("Checkout redesign team", "interviews@example.com")
PARTICIPANT = Mailbox("Zoë Ångström", "zoe@example.com")

REQUEST = CalendarInvite(
    uid="interview-42@interview-desk",
    sequence=0,
    method="REQUEST",
    start=START,
    end=END,
    summary="Checkout redesign — 1:1 interview",
    description="A 45-minute conversation about how you pay online.",
    location=MEETING_URL,
    organizer_email="ada@example.com",
    organizer_name="Ada Lovelace",
    attendees=(
        InviteAttendee("zoe@example.com", "Zoë Ångström"),
        InviteAttendee("ada@example.com", "Ada Lovelace", partstat="ACCEPTED", role="CHAIR"),
        InviteAttendee("bo@example.com", "Bo", partstat="TENTATIVE", role="OPT-PARTICIPANT"),
    ),
    stamp=STAMP,
)
CANCEL = replace(REQUEST, method="CANCEL", sequence=1)

CONTEXTS: dict[str, dict[str, Any]] = {
    "scheduler": {
        "study_name": "Checkout redesign",
        "participant_name": "Zoë Ångström",
        "team_name": "Checkout redesign team",
        "scheduling_url": "https://desk.example.com/s/tok-1",
        "duration_minutes": 45,
    },
    "booking_confirmation": {
        "participant_name": "Zoë Ångström",
        "study_name": "Checkout redesign",
        "when": WHEN,
        "duration_minutes": 45,
        "meeting_url": MEETING_URL,
        "meeting_password": "482913",
        "manage_url": "https://desk.example.com/m/tok-2",
        "confirm_url": "https://desk.example.com/c/tok-3",
        "rsvp_yes_url": "https://desk.example.com/r/tok-4/yes",
        "rsvp_maybe_url": "https://desk.example.com/r/tok-4/maybe",
        "rsvp_no_url": "https://desk.example.com/r/tok-4/no",
    },
    "host_booking_notice": {
        "host_name": "Ada",
        "participant_name": "Zoë Ångström",
        "study_name": "Checkout redesign",
        "when": WHEN,
        "meeting_url": MEETING_URL,
    },
    "reschedule_confirmation": {
        "participant_name": "Zoë Ångström",
        "study_name": "Checkout redesign",
        "when": WHEN,
        "previous_when": "Mon 4 March 2030, 15:00–15:45 (Europe/Berlin)",
        "duration_minutes": 45,
        "meeting_url": MEETING_URL,
        "meeting_password": "482913",
        "manage_url": "https://desk.example.com/m/tok-2",
        "confirm_url": "https://desk.example.com/c/tok-3",
        "rsvp_yes_url": "https://desk.example.com/r/tok-4/yes",
        "rsvp_maybe_url": "https://desk.example.com/r/tok-4/maybe",
        "rsvp_no_url": "https://desk.example.com/r/tok-4/no",
    },
    "cancellation": {
        "participant_name": "Zoë Ångström",
        "study_name": "Checkout redesign",
        "when": WHEN,
        "reason": "Our host is ill; sorry!",
        "scheduling_url": "https://desk.example.com/s/tok-1",
    },
    "invite_update": {
        "name": "Zoë Ångström",
        "study_name": "Checkout redesign",
        "title": "Rescheduled",
        "change": "Ada moved your interview.",
        "when": WHEN,
        "previous_when": "Mon 4 March 2030, 15:00–15:45 (Europe/Berlin)",
        "duration_minutes": 45,
        "meeting_url": MEETING_URL,
        "meeting_password": "482913",
        "description": "We walk through the new checkout.",
        "reason": "Our host is ill",
        "manage_url": "https://desk.example.com/m/tok-2",
        "confirm_url": "https://desk.example.com/c/tok-3",
        "rsvp_yes_url": "https://desk.example.com/r/tok-4/yes",
        "rsvp_maybe_url": "https://desk.example.com/r/tok-4/maybe",
        "rsvp_no_url": "https://desk.example.com/r/tok-4/no",
    },
    "invite_guest": {
        "name": "Bo",
        "study_name": "Checkout redesign",
        "when": WHEN,
        "duration_minutes": 45,
        "meeting_url": MEETING_URL,
        "meeting_password": "482913",
        "description": "We walk through the new checkout.",
        "participant_names": "Zoë Ångström",
    },
    "host_change_new_host": {
        "name": "Bo",
        "study_name": "Checkout redesign",
        "when": WHEN,
        "duration_minutes": 45,
        "meeting_url": MEETING_URL,
        "meeting_password": "482913",
        "participant_names": "Zoë Ångström",
        "previous_host": "Ada Lovelace",
    },
    "team_cancellation": {
        "participant_name": "Zoë Ångström",
        "study_name": "Checkout redesign",
        "when": WHEN,
        "message": "Our host is ill; sorry!",
        "sender_name": "Ada Lovelace",
        "scheduling_url": "https://desk.example.com/s/tok-1",
    },
    "reminder_participant": {
        "participant_name": "Zoë Ångström",
        "study_name": "Checkout redesign",
        "when": WHEN,
        "duration_minutes": 45,
        "meeting_url": MEETING_URL,
        "meeting_password": "482913",
        "confirm_url": "https://desk.example.com/c/tok-3",
        "manage_url": "https://desk.example.com/m/tok-2",
    },
    "reminder_host": {
        "host_name": "Ada",
        "study_name": "Checkout redesign",
        "participants": "Zoë Ångström",
        "when": WHEN,
        "meeting_url": MEETING_URL,
        "meeting_password": "482913",
        "unconfirmed": "Otto Berg",
    },
    "slot_opened": {
        "participant_name": "Zoë Ångström",
        "study_name": "Checkout redesign",
        "when": WHEN,
        "opening_url": "https://desk.example.com/s/tok-1/opening?start=1899104400",
        "waitlist_url": "https://desk.example.com/s/tok-1/waitlist",
    },
    "team_cancellation_notice": {
        "recipient_name": "Bo",
        "study_name": "Checkout redesign",
        "when": WHEN,
        "participants": "Zoë Ångström",
        "canceled_by": "Ada Lovelace",
        "message": "Our host is ill; sorry!",
    },
}


def confirmation_email(
    invite: CalendarInvite | None = REQUEST, message_id: str = "<outbox-42@interview-desk>"
) -> OutgoingEmail:
    """A booking confirmation as the outbox would build it."""
    rendered = render_email("booking_confirmation", **CONTEXTS["booking_confirmation"])
    return OutgoingEmail(
        to=(PARTICIPANT,),
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        sender=SENDER,
        message_id=message_id,
        invite=invite,
        reply_to=Mailbox("Ada Lovelace", "ada@example.com"),
    )
