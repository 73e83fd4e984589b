"""One sentence per activity event, for the details view's timeline."""

from blocks import text
from bot.domain import ActivityView
from storage.enums import ActivityKind, ActorKind

_INVITE_WORDS = {
    "accepted": "accepted the invite ✓",
    "tentative": "answered Maybe (attendance unknown)",
    "declined": "declined the invite ✗",
    "awaiting": "has not answered yet",
}


def actor(event: ActivityView) -> str:
    if event.actor_kind is ActorKind.MEMBER and event.actor_slack_user_id:
        return f"<@{event.actor_slack_user_id}>"
    if event.actor_kind is ActorKind.PARTICIPANT:
        return text.escape(event.actor_name or "The participant")
    if event.actor_name == "cli":
        return "An admin (command line)"
    return "Interview Desk"


def _detail(event: ActivityView, key: str, default: str = "") -> str:
    value = event.details.get(key)
    return text.escape(str(value)) if value not in (None, "") else default


def sentence(event: ActivityView) -> str:
    who = actor(event)
    kind = event.kind
    if kind is ActivityKind.BOOKED:
        return f"{who} booked {_detail(event, 'participant', 'the participant')}"
    if kind is ActivityKind.RSVP_CHANGED:
        status = str(event.details.get("status", ""))
        return f"{_detail(event, 'attendee', who)} {_INVITE_WORDS.get(status, 'changed their RSVP')}"
    if kind is ActivityKind.ATTENDANCE_CONFIRMED:
        return f"{_detail(event, 'attendee', who)} confirmed attendance ✓✓"
    if kind is ActivityKind.RESCHEDULED:
        return f"{who} rescheduled the interview" + (
            f" (was {_detail(event, 'previous')})" if event.details.get("previous") else ""
        )
    if kind is ActivityKind.CANCELED:
        reason = _detail(event, "reason")
        return f"{who} canceled the interview" + (f": “{reason}”" if reason else "")
    if kind is ActivityKind.EMAIL_SENT or kind is ActivityKind.REMINDER_SENT:
        what = _detail(event, "template", "an email").replace("_", " ")
        return f"{who} sent {what} to {_detail(event, 'to', 'the participant')}"
    simple = {
        ActivityKind.DETAILS_UPDATED: "updated the event details",
        ActivityKind.CONFERENCING_UPDATED: "updated the conferencing link",
        ActivityKind.HOST_CHANGED: f"changed the host to {_detail(event, 'host', 'someone else')}",
        ActivityKind.GUEST_ADDED: f"added {_detail(event, 'guest', 'a guest')} as a guest",
        ActivityKind.LIMIT_CHANGED: f"changed the participant limit to {_detail(event, 'limit', '?')}",
        ActivityKind.NO_SHOW: "marked the interview as a no-show",
        ActivityKind.COMPLETED: "marked the interview as completed",
        ActivityKind.RATED: f"rated the session {_detail(event, 'rating', '?')}/5",
        ActivityKind.INCENTIVE_SENT: "sent the incentive",
        ActivityKind.OBSERVER_BOT_SENT: "sent the observer bot to the meeting",
    }
    return f"{who} {simple.get(kind, kind.value.replace('_', ' '))}"
