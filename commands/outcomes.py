"""Mark completed, Mark no-show and Cancel interview.

A button click on Mark completed / Mark no-show was already confirmed in Slack's own dialog, so
it acts at once and answers only the clicker. From "More…" (no such dialog) or for a group slot
(who didn't come?), a modal asks first. Cancel always asks, in a dialog that says who will be
told and takes an optional message to the participant.
"""

import logging
from collections.abc import Callable
from typing import Any, cast

from slack_bolt import Ack, App, BoltContext
from slack_sdk.errors import SlackApiError

from blocks.ids import ActionModalState, BadValue, CallbackId
from blocks.interview_details import interview_details_view
from blocks.outcome_modals import (
    COMPLETED_CALLBACK,
    INPUT,
    MESSAGE,
    WHO_PREFIX,
    already_text,
    cancel_modal,
    canceled_text,
    completed_modal,
    completed_text,
    no_show_modal,
    no_show_text,
)
from blocks.progress import notice_view
from bot.actions import InterviewAction
from bot.domain import InterviewSummary
from bot.services.errors import DomainError, InvalidInput
from bot.services.interview_actions import ActionResult, Seen
from bot.services.interview_outcomes import OutcomeForm, OutcomeResult
from commands.errors import STALE
from commands.interview_actions import ActionRequest, Handler, modal_state
from commands.services_context import actor, services
from commands.submissions import finish_submission

log = logging.getLogger(__name__)


def _already(outcome: OutcomeResult | OutcomeForm, me: str | None) -> str:
    by = outcome.already_by
    return already_text(outcome.interview, (by.slack_user_id, by.name, by.kind) if by else None, me=me)


def _tell(request: ActionRequest, outcome: OutcomeResult, done: Callable[[InterviewSummary], str]) -> None:
    """Answer the clicker, then deliver the card update and refresh a details modal beneath."""
    if not outcome.changed:
        request.reply(_already(outcome, request.actor.slack_user_id))
        return
    request.reply(done(outcome.interview))
    view = request.view or {}
    refresh = view.get("callback_id") == CallbackId.INTERVIEW_DETAILS and view.get("id")

    def refresh_details(_states: object) -> None:
        if not refresh:
            return
        details = request.services.interviews.details(request.interview_id, request.actor)
        try:
            request.client.views_update(view_id=view["id"], view=interview_details_view(details))
        except SlackApiError:  # closed meanwhile: the card shows the change
            log.info("could not refresh details view %s", view["id"], exc_info=True)

    request.deliver(outcome.outbox_ids, refresh_details)


# ---------------------------------------------------------------- clicks


def mark_completed(request: ActionRequest) -> None:
    outcomes = request.services.outcomes
    if request.from_menu:  # a menu option has no confirm dialog: ask first
        form = outcomes.completed_form(request.interview_id, request.actor, request.seen)
        if form.already:
            request.reply(_already(form, request.actor.slack_user_id))
        else:
            request.open_modal(completed_modal(form.interview, request.modal_state()))
        return
    _tell(request, outcomes.mark_completed(request.interview_id, request.actor, request.seen), completed_text)


def mark_no_show(request: ActionRequest) -> None:
    outcomes = request.services.outcomes
    form = outcomes.no_show_form(request.interview_id, request.actor, request.seen)
    if form.already:
        request.reply(_already(form, request.actor.slack_user_id))
    elif form.group or request.from_menu:  # who didn't come, or the confirmation a menu lacks
        request.open_modal(no_show_modal(form.interview, request.modal_state(), group=form.group))
    else:
        _tell(request, outcomes.mark_no_show(request.interview_id, request.actor, request.seen), no_show_text)


def cancel(request: ActionRequest) -> None:
    form = request.services.outcomes.cancel_form(request.interview_id, request.actor, request.seen)
    if form.already:
        request.reply(_already(form, request.actor.slack_user_id))
    else:
        request.open_modal(cancel_modal(form.interview, request.modal_state(), can_rebook=form.can_rebook))


ACTION_HANDLERS: dict[InterviewAction, Handler] = {
    InterviewAction.MARK_COMPLETED: mark_completed,
    InterviewAction.MARK_NO_SHOW: mark_no_show,
    InterviewAction.CANCEL: cancel,
}


# ---------------------------------------------------------------- submissions


def _state(ack: Ack, view: dict[str, Any], title: str) -> ActionModalState | None:
    try:
        return modal_state(view)
    except BadValue:  # not one of ours: say so rather than leave the modal spinning
        ack(response_action="update", view=notice_view(title, STALE))
        return None


def _seen(state: ActionModalState) -> Seen:
    return Seen.of(state.choice.seen_start, state.choice.seen_status)


def _values(view: dict[str, Any]) -> dict[str, Any]:
    return (view.get("state") or {}).get("values") or {}


def _reply_text(context: BoltContext, done: Callable[[InterviewSummary], str]) -> Callable[[ActionResult], str]:
    me = actor(context).slack_user_id

    def text(result: ActionResult) -> str:
        outcome = cast(OutcomeResult, result)
        return done(outcome.interview) if outcome.changed else _already(outcome, me)

    return text


def _inline(block: str) -> Callable[[DomainError], str | None]:
    """Input mistakes go next to ``block``; refusals replace the modal with the explanation."""
    return lambda error: block if isinstance(error, InvalidInput) else None


def cancel_submitted(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    title = "Cancel interview"
    view = body.get("view") or {}
    state = _state(ack, view, title)
    if state is None:
        return
    message = str((_values(view).get(MESSAGE) or {}).get(INPUT, {}).get("value") or "")
    outcomes = services(context).outcomes
    finish_submission(
        ack, body, context, title=title,
        run=lambda: outcomes.cancel(state.choice.interview_id, actor(context), _seen(state), message=message),
        done=_reply_text(context, lambda s: canceled_text(s, message_sent=bool(message.strip()))),
        error_block=_inline(MESSAGE),
    )


def _ticked(values: dict[str, Any]) -> tuple[list[int] | None, str | None]:
    """The participant ids ticked in the no-show checkboxes (None: a one-on-one, no checkboxes),
    and the first checkbox block, for an error next to it."""
    blocks = sorted(b for b in values if b.startswith(WHO_PREFIX))
    if not blocks:
        return None, None
    ids = []
    for block in blocks:
        for option in (values[block].get(INPUT) or {}).get("selected_options") or []:
            value = str(option.get("value", ""))
            if not value.isdigit():
                raise BadValue(f"not a participant id: {value!r}")
            ids.append(int(value))
    return ids, blocks[0]


def no_show_submitted(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    title = "Mark no-show"
    view = body.get("view") or {}
    state = _state(ack, view, title)
    if state is None:
        return
    try:
        no_shows, first_block = _ticked(_values(view))
    except BadValue:
        ack(response_action="update", view=notice_view(title, STALE))
        return
    outcomes = services(context).outcomes
    finish_submission(
        ack, body, context, title=title,
        run=lambda: outcomes.mark_no_show(state.choice.interview_id, actor(context), _seen(state), no_shows=no_shows),
        done=_reply_text(context, no_show_text),
        error_block=_inline(first_block) if first_block else (lambda _error: None),
    )


def completed_submitted(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    title = "Mark completed"
    state = _state(ack, body.get("view") or {}, title)
    if state is None:
        return
    outcomes = services(context).outcomes
    finish_submission(
        ack, body, context, title=title,
        run=lambda: outcomes.mark_completed(state.choice.interview_id, actor(context), _seen(state)),
        done=_reply_text(context, completed_text),
        error_block=lambda _error: None,
    )


def register(app: App) -> None:
    app.view(CallbackId.CANCEL)(cancel_submitted)
    app.view(CallbackId.NO_SHOW)(no_show_submitted)
    app.view(COMPLETED_CALLBACK)(completed_submitted)

