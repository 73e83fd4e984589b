"""`/interviews book`: book a participant on their behalf, through the same checks as every booking."""

from datetime import UTC, datetime
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk.models.views import View

from blocks.book_modal import (
    HOST,
    INPUT,
    OVERRIDE,
    OVERRIDE_AVAILABILITY,
    PARTICIPANT,
    WHEN,
    book_modal,
)
from blocks.ids import CallbackId, ChannelRef
from bot.services.errors import Conflict, DomainError, InvalidInput, NotAllowed, NotFound
from commands.calendar import study_host_calendars
from commands.errors import open_modal_or_explain
from commands.services_context import actor, services, workspace_id


def book_command(ack: Ack, command: dict[str, Any], context: BoltContext) -> None:
    channel_id = command.get("channel_id", "")

    def build() -> View:
        form = services(context).booking.form(workspace_id=workspace_id(context), channel_id=channel_id, actor=actor(context))
        if not form.participants:
            raise Conflict("Everyone in this study already has an upcoming interview. Add people with `/interviews invite`.")
        calendars = study_host_calendars(context, study_id=form.study_id, host_ids=[u for u, _ in form.hosts])
        return book_modal(form, channel_id=channel_id, calendars=calendars)

    open_modal_or_explain(ack, command, context, build)


def _value(values: dict[str, Any], block: str) -> dict[str, Any]:
    return (values.get(block) or {}).get(INPUT) or {}


# Which input a refusal belongs next to, by its kind.
_FIELD_FOR = {NotFound: PARTICIPANT, NotAllowed: HOST, InvalidInput: WHEN, Conflict: WHEN}


def book_submitted(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
    values = (view.get("state") or {}).get("values") or {}
    ref = ChannelRef.decode(view.get("private_metadata"))
    participant = (_value(values, PARTICIPANT).get("selected_option") or {}).get("value")
    host = (_value(values, HOST).get("selected_option") or {}).get("value")
    moment = _value(values, WHEN).get("selected_date_time")
    override = any(o.get("value") == OVERRIDE_AVAILABILITY for o in _value(values, OVERRIDE).get("selected_options") or [])
    missing = {b: "Required." for b, v in ((PARTICIPANT, participant), (WHEN, moment), (HOST, host)) if not v}
    if missing or ref.study_id is None:
        ack(response_action="errors", errors=missing or {WHEN: "Please open the form again."})
        return
    try:
        services(context).booking.book(
            study_ref=ref.study_id, participant_email=str(participant), host_id=str(host),
            starts_at=datetime.fromtimestamp(int(moment), UTC), actor=actor(context), override_availability=override,
        )
    except DomainError as error:
        field = next((f for kind, f in _FIELD_FOR.items() if isinstance(error, kind)), WHEN)
        ack(response_action="errors", errors={field: error.message[:150]})
        return
    # The interview's card, posted to the channel through the outbox, confirms the booking.
    ack()


def register(app: App) -> None:
    app.view(CallbackId.BOOK)(book_submitted)
