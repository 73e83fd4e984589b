"""The email actions: compose a custom, reminder or reschedule-request email (with a preview),
and send the incentive after a completed interview, asking first before a second one.

Opening a modal checks who asks and whether the interview still is as shown; the Preview
button re-renders the modal in place with the email as its first recipient will get it; the
submission goes through ``finish_submission`` ("⏳ sending…", then how the delivery went).
"""

from collections.abc import Callable
from typing import Any, cast

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.models.views import View

from blocks.email_modals import (
    AMOUNT,
    BODY,
    CLAIM_URL,
    CODE,
    CONFIRM,
    CURRENCY,
    FIELD_BLOCKS,
    INPUT,
    MESSAGE,
    PARTICIPANT,
    PREVIEW_ACTION,
    RECIPIENTS,
    SUBJECT,
    TITLES,
    compose_modal,
    confirmed_value,
    incentive_modal,
    incentive_sent_message,
    sent_message,
)
from blocks.ids import ActionModalState, BadValue, CallbackId
from blocks.progress import notice_view
from bot.actions import InterviewAction
from bot.domain import InterviewSummary
from bot.services.composed_emails import PLACEHOLDERS, ComposedEmailService, EmailDraft
from bot.services.errors import DomainError, InvalidField, InvalidInput
from bot.services.incentive_emails import (
    Confirmation,
    IncentiveAlreadySent,
    IncentiveDraft,
    IncentiveEmailService,
)
from bot.services.interview_actions import ActionResult, Seen
from commands.errors import STALE
from commands.interview_actions import ActionRequest, Handler
from commands.services_context import actor, services
from commands.submissions import finish_submission

A = InterviewAction


def composed_emails(context: BoltContext) -> ComposedEmailService:
    return services(context).composed_emails


def incentive_emails(context: BoltContext) -> IncentiveEmailService:
    return services(context).incentive_emails


# ------------------------------------------------------------------ reading a modal


def _values(view: dict[str, Any]) -> dict[str, Any]:
    return (view.get("state") or {}).get("values") or {}


def _input(values: dict[str, Any], block: str) -> dict[str, Any]:
    return (values.get(block) or {}).get(INPUT) or {}


def _typed(values: dict[str, Any], block: str) -> str:
    return str(_input(values, block).get("value") or "")


def _chosen_ids(values: dict[str, Any], block: str) -> tuple[int, ...]:
    options = _input(values, block).get("selected_options") or []
    return tuple(int(v) for o in options if (v := str(o.get("value") or "")).isdigit())


def _chosen_id(values: dict[str, Any], block: str) -> int | None:
    value = str((_input(values, block).get("selected_option") or {}).get("value") or "")
    return int(value) if value.isdigit() else None


def _modal_state(ack: Ack, view: dict[str, Any], title: str) -> ActionModalState | None:
    """The modal's routing state; a hand-made or unreadable one is answered, not acted on."""
    try:
        return cast(ActionModalState, ActionModalState.decode(view.get("private_metadata")))
    except BadValue:
        ack(response_action="update", view=notice_view(title, STALE))
        return None


def _seen(state: ActionModalState) -> Seen:
    return Seen.of(state.choice.seen_start, state.choice.seen_status)


def _error_block(view: dict[str, Any]) -> Callable[[DomainError], str | None]:
    """Shows a field's error next to its input when the modal has one, else as a message."""
    inputs = set(_values(view))

    def block_for(error: DomainError) -> str | None:
        block = FIELD_BLOCKS.get(error.field) if isinstance(error, InvalidField) else None
        return block if block in inputs else None

    return block_for


def _names(summary: InterviewSummary, ids: tuple[int, ...] | None) -> list[str]:
    return [p.name for p in summary.participants if ids is None or p.participant_id in ids]


# ------------------------------------------------------------------ custom, reminder, reschedule request


def open_compose(request: ActionRequest) -> None:
    form = composed_emails(request.context).compose_form(request.interview_id, request.actor, request.choice.action, request.seen)
    request.open_modal(compose_modal(form, private_metadata=request.modal_state(), placeholders=PLACEHOLDERS))


def _email_draft(kind: InterviewAction, view: dict[str, Any]) -> EmailDraft:
    values = _values(view)
    # A group slot's modal asks who gets it; a one-on-one's names its one participant.
    recipients = _chosen_ids(values, RECIPIENTS) if RECIPIENTS in values else None
    return EmailDraft(kind=kind, subject=_typed(values, SUBJECT), body=_typed(values, BODY), recipients=recipients)


def preview(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    """Re-render the compose modal with the email as its first recipient will get it."""
    ack()
    view = body.get("view") or {}
    state = cast(ActionModalState, ActionModalState.decode(view.get("private_metadata")))
    draft = _email_draft(state.choice.action, view)
    service = composed_emails(context)
    form = service.compose_form(state.choice.interview_id, actor(context), draft.kind, _seen(state))
    shown, problem = None, None
    try:
        shown = service.preview(state.choice.interview_id, actor(context), draft, _seen(state))
    except InvalidInput as error:
        problem = error.message
    client.views_update(view_id=view.get("id"), view=compose_modal(
        form, private_metadata=view.get("private_metadata") or "", placeholders=PLACEHOLDERS,
        subject=draft.subject, body=draft.body, selected=draft.recipients, preview=shown, preview_error=problem,
    ))


def compose_submitted(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    view = body.get("view") or {}
    state = _modal_state(ack, view, "Email")
    if state is None:
        return
    kind = state.choice.action
    draft = _email_draft(kind, view)
    service = composed_emails(context)

    def done(result: ActionResult) -> str:
        return sent_message(kind, _names(result.interview, draft.recipients), changed=result.changed)

    finish_submission(
        ack, body, context, title=TITLES.get(kind, "Email"),
        run=lambda: service.send(state.choice.interview_id, actor(context), draft, request_id=str(view.get("id") or ""), seen=_seen(state)),
        done=done, error_block=_error_block(view),
    )


# ------------------------------------------------------------------ incentive


def open_incentive(request: ActionRequest) -> None:
    form = incentive_emails(request.context).incentive_form(request.interview_id, request.actor, request.seen)
    request.open_modal(incentive_modal(form, private_metadata=request.modal_state(), placeholders=PLACEHOLDERS))


def _incentive_draft(view: dict[str, Any]) -> IncentiveDraft:
    values = _values(view)
    return IncentiveDraft(
        participant_id=_chosen_id(values, PARTICIPANT) if PARTICIPANT in values else None,
        amount=_typed(values, AMOUNT), currency=_typed(values, CURRENCY), code=_typed(values, CODE) or None,
        claim_url=_typed(values, CLAIM_URL) or None, message=_typed(values, MESSAGE),
    )


def incentive_submitted(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    """The incentive modal, and its confirmation before a second incentive (same fields)."""
    view = body.get("view") or {}
    title = TITLES[A.INCENTIVE_EMAIL]
    state = _modal_state(ack, view, title)
    if state is None:
        return
    draft = _incentive_draft(view)
    confirmed: Confirmation | None = None
    if view.get("callback_id") == CallbackId.CONFIRM_INCENTIVE:
        ticked = confirmed_value(next(iter(_input(_values(view), CONFIRM).get("selected_options") or []), {}).get("value"))
        if ticked is None:
            ack(response_action="errors", errors={CONFIRM: "Tick this to send another incentive, or cancel."})
            return
        confirmed = Confirmation(participant_id=ticked[0], sent_at=ticked[1])
    service = incentive_emails(context)

    def done(result: ActionResult) -> str:
        ids = (draft.participant_id,) if draft.participant_id is not None else None
        return incentive_sent_message(draft.amount, draft.currency, _names(result.interview, ids), changed=result.changed)

    def ask_first(error: Exception) -> View | None:
        """A second incentive: nothing was sent; ask first, keeping what was typed."""
        if not isinstance(error, IncentiveAlreadySent):
            return None
        form = service.incentive_form(state.choice.interview_id, actor(context), _seen(state))
        return incentive_modal(form, private_metadata=view.get("private_metadata") or "", placeholders=PLACEHOLDERS,
                               draft=draft, confirm=error.previous)

    finish_submission(
        ack, body, context, title=title,
        run=lambda: service.send_incentive(
            state.choice.interview_id, actor(context), draft, request_id=str(view.get("id") or ""),
            seen=_seen(state), confirmed=confirmed,
        ),
        done=done, error_block=_error_block(view), question=ask_first,
    )


ACTION_HANDLERS: dict[InterviewAction, Handler] = {
    A.CUSTOM_EMAIL: open_compose,
    A.REMINDER_EMAIL: open_compose,
    A.RESCHEDULE_EMAIL: open_compose,
    A.INCENTIVE_EMAIL: open_incentive,
}


def register(app: App) -> None:
    app.view(CallbackId.COMPOSE_EMAIL)(compose_submitted)
    app.view(CallbackId.INCENTIVE_EMAIL)(incentive_submitted)
    app.view(CallbackId.CONFIRM_INCENTIVE)(incentive_submitted)
    app.action(PREVIEW_ACTION)(preview)
