"""The one-click answers on what the bot posts in a card's thread: "Send reminder" and "Release
slot" on the unconfirmed-attendance warning; the 1–5 rating and "Attended" on the post-interview
prompt (its "No-show" and "Send incentive" are the actions of ``commands/outcomes.py`` and
``commands/emails.py``).

Each acts at once (Release slot was confirmed in Slack's own dialog), answers only the clicker,
then delivers the card update and thread note it caused. A repeat (double click, Slack's retry,
a teammate a moment earlier) changes nothing and says so; a button from before the interview
changed is told what changed (``load_for_action``, through the central error reply).
"""

from slack_bolt import App

from blocks import text
from blocks.outcome_modals import already_text
from bot.actions import InterviewAction
from bot.domain import InterviewSummary
from bot.services.lifecycle import LifecycleResult
from commands.interview_actions import ActionRequest, Handler

A = InterviewAction

# What the participant reads in the cancellation email (and the team in the card's thread).
RELEASE_MESSAGE = (
    "We hadn't heard back from you to confirm your attendance, so we've released this time for "
    "someone else."
)


def _names(names: tuple[str, ...]) -> str:
    escaped = [text.escape(n) for n in names]
    return escaped[0] if len(escaped) == 1 else f"{', '.join(escaped[:-1])} and {escaped[-1]}"


def _already_by(result: LifecycleResult, me: str | None) -> str:
    by = result.already_by
    if by is None or not by.slack_user_id:
        return ""
    return " by you" if by.slack_user_id == me else f" by <@{by.slack_user_id}>"


def send_reminder(request: ActionRequest) -> None:
    result = request.services.reminders.send_now(request.interview_id, request.actor, request.seen)
    if not result.changed:
        if result.just_sent:
            request.reply(f"A reminder went to {_names(result.just_sent)} a moment ago, so no second one was sent.")
        else:
            request.reply(f"{_names(result.confirmed)} already confirmed attendance, so no reminder was sent.")
        return
    message = f"Reminder sent to {_names(result.sent_to)}, with the link to confirm attendance."
    if result.confirmed:
        message += f" {_names(result.confirmed)} had confirmed already."
    request.reply_delivered(message, result.outbox_ids)


def release_slot(request: ActionRequest) -> None:
    """Cancel the interview (the cancellation emails say why), freeing the time for others."""
    outcomes = request.services.outcomes
    me = request.actor.slack_user_id
    form = outcomes.cancel_form(request.interview_id, request.actor, request.seen)
    if form.already:
        by = form.already_by
        request.reply(already_text(form.interview, (by.slack_user_id, by.name, by.kind) if by else None, me=me))
        return
    if form.interview.has_started:
        request.reply("It has already started, so the slot can't be released. Mark it a no-show if they didn't come.")
        return
    result = outcomes.cancel(request.interview_id, request.actor, request.seen, message=RELEASE_MESSAGE)
    if not result.changed:
        by = result.already_by
        request.reply(already_text(result.interview, (by.slack_user_id, by.name, by.kind) if by else None, me=me))
        return
    request.reply(_released_text(result.interview))
    request.deliver(result.outbox_ids)


def _released_text(summary: InterviewSummary) -> str:
    names = tuple(p.name for p in summary.participants if p.email)
    when = f"*{text.time_range(summary.starts_at, summary.ends_at)}*"
    told = (f" {_names(names)} {'get' if len(names) > 1 else 'gets'} an email saying the slot was released because"
            " attendance wasn't confirmed, with a link to book again.") if names else ""
    return f"✓ Released the slot: the interview on {when} is canceled.{told} The time is open for others to book."


def rate(request: ActionRequest) -> None:
    result = request.services.lifecycle.rate(request.interview_id, request.actor, request.seen, request.choice.value)
    rating = request.choice.value
    if not result.changed:
        request.reply(f"Already rated {rating}/5{_already_by(result, request.actor.slack_user_id)}, so nothing changed.")
        return
    was = f" (was {result.previous_rating}/5)" if result.previous_rating is not None else ""
    request.reply(f"✓ Rated the session {rating}/5{was}. Thank you!{_next_step(result.interview)}")
    request.deliver(result.outbox_ids)


def confirm_attended(request: ActionRequest) -> None:
    result = request.services.lifecycle.confirm_attended(request.interview_id, request.actor, request.seen)
    people = result.interview.participants
    came = tuple(p.name for p in people if p.attended)
    if not result.changed:
        request.reply(f"Attendance was already confirmed{_already_by(result, request.actor.slack_user_id)}, so nothing changed.")
        return
    message = f"✓ Confirmed that {_names(came)} attended."
    missed = tuple(p.name for p in people if p.attended is False)
    if missed:
        message += f" {_names(missed)} stay{'s' if len(missed) == 1 else ''} marked as a no-show."
    request.reply(message + _next_step(result.interview))
    request.deliver(result.outbox_ids)


def _next_step(summary: InterviewSummary) -> str:
    if summary.incentive_due:
        return " Next: *Send incentive* on the prompt or the card."
    return ""


ACTION_HANDLERS: dict[InterviewAction, Handler] = {
    A.SEND_REMINDER_NOW: send_reminder,
    A.RELEASE_SLOT: release_slot,
    A.RATE: rate,
    A.CONFIRM_ATTENDED: confirm_attended,
}


def register(app: App) -> None:
    """No listeners of its own: the buttons reach their handlers through the dispatcher."""
