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


def _person(event: ActivityView, key: str, default: str) -> str:
    """A detail naming a person: a Slack user id becomes a mention, a name is escaped."""
    value = str(event.details.get(key) or "")
    if value.startswith(("U", "W")) and value.isalnum() and value.isupper():
        return f"<@{value}>"
    return text.escape(value) if value else default


def _names(event: ActivityView, key: str) -> str:
    return ", ".join(text.escape(str(n)) for n in event.details.get(key) or [])


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
        line = f"{who} rescheduled the interview" + (
            f" (was {_detail(event, 'previous')})" if event.details.get("previous") else ""
        )
        return line + (f": “{_detail(event, 'reason')}”" if event.details.get("reason") else "")
    if kind is ActivityKind.CANCELED:
        reason = _detail(event, "reason")
        return f"{who} canceled the interview" + (f": “{reason}”" if reason else "")
    if kind is ActivityKind.REMINDER_SENT and event.details.get("offset"):
        before = text.duration(int(event.details.get("offset") or 0))
        return f"{who} sent the {before} reminder to {_detail(event, 'to', 'the participant')}"
    if kind is ActivityKind.COMPLETED and event.details.get("attended"):
        names = _names(event, "attended")
        return f"{who} confirmed {names} attended"
    if kind is ActivityKind.EMAIL_SENT or kind is ActivityKind.REMINDER_SENT:
        what = _detail(event, "template", "an email").replace("_", " ")
        subject = f" (“{_detail(event, 'subject')}”)" if event.details.get("subject") else ""
        return f"{who} sent {what}{subject} to {_detail(event, 'to', 'the participant')}"
    if kind is ActivityKind.DETAILS_UPDATED:
        fields = _names(event, "fields")
        return f"{who} updated the event details" + (f" ({fields})" if fields else "")
    if kind is ActivityKind.HOST_CHANGED:
        previous = f" (was {_person(event, 'previous', 'someone else')})" if event.details.get("previous") else ""
        return f"{who} changed the host to {_person(event, 'host', 'someone else')}{previous}"
    if kind is ActivityKind.LIMIT_CHANGED:
        previous = f" (was {_detail(event, 'previous')})" if event.details.get("previous") else ""
        return f"{who} changed the participant limit to {_detail(event, 'limit', '?')}{previous}"
    if kind is ActivityKind.NO_SHOW:
        names = _names(event, "participants")
        return f"{who} marked {names or 'the interview'} as a no-show"
    if kind is ActivityKind.INCENTIVE_SENT:
        amount = " ".join(str(event.details.get(k) or "") for k in ("amount", "currency")).strip()
        return f"{who} sent the incentive{' of ' + text.escape(amount) if amount else ''} to {_detail(event, 'to', 'the participant')}"
    if kind is ActivityKind.OBSERVER_BOT_SENT:
        if event.details.get("ok") is False:
            return f"The observer bot could not join the meeting ({_detail(event, 'error', 'no answer')})"
        return f"{who} sent the observer bot to the meeting"
    simple = {
        ActivityKind.CONFERENCING_UPDATED: "updated the conferencing link",
        ActivityKind.GUEST_ADDED: f"added {_person(event, 'guest', 'a guest')} as a guest",
        ActivityKind.COMPLETED: "marked the interview as completed",
        ActivityKind.RATED: f"rated the session {_detail(event, 'rating', '?')}/5",
    }
    return f"{who} {simple.get(kind, kind.value.replace('_', ' '))}"
