"""Ask to reschedule: the button on a decline in the card's thread.

One click sends the reschedule-request email exactly as the compose modal would prefill it, to
the participants who declined, and answers only the clicker. Its idempotency key names the
thread note the button is on, so a double click (or Slack's retry) sends it once: the second
click is told it was already asked. A button from before the interview moved or was canceled
is told what changed instead (``load_for_action``, through the central error reply).
"""

from slack_bolt import App

from blocks import text
from bot.actions import InterviewAction
from bot.domain import AttendeeView
from bot.services.composed_emails import EmailDraft
from commands.interview_actions import ActionRequest, Handler
from storage.enums import InviteStatus

A = InterviewAction


def ask_to_reschedule(request: ActionRequest) -> None:
    emails = request.services.composed_emails
    form = emails.compose_form(request.interview_id, request.actor, A.RESCHEDULE_EMAIL, request.seen)
    declined = _declined(form.interview.participants)
    if not declined:  # they answered again since the decline this button is on
        request.reply("Nobody has declined this interview any more (they answered again since), so nothing was sent.")
        return
    draft = EmailDraft(
        kind=A.RESCHEDULE_EMAIL, subject=form.subject, body=form.body,
        recipients=tuple(p.participant_id for p in declined if p.participant_id is not None),
    )
    result = emails.send(request.interview_id, request.actor, draft, request_id=_request_id(request), seen=request.seen)
    names = _names(declined)
    if not result.changed:
        request.reply(f"Already asked {names} to pick a new time.")
        return
    request.reply_delivered(f"Asked {names} to pick a new time.", result.outbox_ids)


def _declined(participants: tuple[AttendeeView, ...]) -> list[AttendeeView]:
    return [p for p in participants if p.invite_status is InviteStatus.DECLINED and p.participant_id is not None]


def _names(people: list[AttendeeView]) -> str:
    """ "Nora", "Nora and Otto", "Nora, Otto and Pia"."""
    names = [text.escape(p.name) for p in people]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _request_id(request: ActionRequest) -> str:
    """One request per thread note: the message the button is on (a decline's note), else the
    interview's time as shown, so every click on the same button is the same request."""
    message_ts = (request.body.get("container") or {}).get("message_ts") or (request.body.get("message") or {}).get("ts")
    which = message_ts or request.choice.seen_start or "now"
    return f"ask:{request.interview_id}:{which}"


ACTION_HANDLERS: dict[InterviewAction, Handler] = {
    InterviewAction.ASK_TO_RESCHEDULE: ask_to_reschedule,
}


def register(app: App) -> None:
    """No listeners of its own: the button reaches ``ask_to_reschedule`` through the dispatcher."""
