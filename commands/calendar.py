"""`/interviews connect` and `/interviews disconnect`: a host's Google Calendar connection.

Connect answers in the acknowledgement (a few indexed reads and a signed link). Disconnect talks
to Google, which may take seconds, so it acknowledges first and answers through response_url.
"""

from collections.abc import Collection, Mapping
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_bolt.context.respond import Respond

from blocks.calendar import connect_blocks, connect_text, disconnected_blocks, disconnected_text
from blocks.ids import ActionId, CalendarRef
from blocks.notices import message_blocks
from bot.services.calendar_connect import CalendarConnectService, Disconnection
from bot.services.errors import DomainError
from commands.details import acknowledge_link
from commands.errors import user_message
from commands.services_context import actor, services
from storage.enums import ConnectionStatus


def _service(context: BoltContext) -> CalendarConnectService:
    return services(context).calendar_connect


def connect_command(ack: Ack, command: dict[str, Any], context: BoltContext) -> None:
    try:
        offer = _service(context).offer(actor(context), channel_id=command.get("channel_id"))
    except DomainError as error:
        message = user_message(error)
        ack(response_type="ephemeral", text=message, blocks=message_blocks(message))
        return
    blocks = connect_blocks(
        team_id=offer.team_id, team_name=offer.team_name, status=offer.status, problem=offer.problem,
        consent_url=offer.consent_url,
    )
    ack(response_type="ephemeral", text=connect_text(offer.status), blocks=blocks)


def disconnect_command(ack: Ack, command: dict[str, Any], context: BoltContext) -> None:
    ack()  # revoking at Google may take a few seconds: the answer follows through response_url
    result = _service(context).disconnect(actor(context), channel_id=command.get("channel_id"))
    _answer(context.respond, result, replace_original=False)


def disconnect_clicked(ack: Ack, action: dict[str, Any], respond: Respond, context: BoltContext) -> None:
    """Disconnect under the connect reply: the reply becomes the outcome."""
    ack()
    ref = CalendarRef.decode(action.get("value"))
    result = _service(context).disconnect(actor(context), channel_id=None, team_id=ref.team_id)
    _answer(respond, result, replace_original=True)


def _answer(respond: Respond | None, result: Disconnection, *, replace_original: bool) -> None:
    assert respond is not None  # slash commands and message buttons always carry a response_url
    respond(
        response_type="ephemeral", replace_original=replace_original,
        text=disconnected_text(was_connected=result.was_connected, revoked=result.revoked),
        blocks=disconnected_blocks(team_name=result.team_name, was_connected=result.was_connected, revoked=result.revoked),
    )


def host_calendars(context: BoltContext, *, team_id: int | None, host_ids: Collection[str]) -> Mapping[str, ConnectionStatus | None] | None:
    """Each host's connection on a team, for the setup modal; None when Google is not configured."""
    if not services(context).calendars.configured:
        return None
    return _service(context).calendar_states(actor(context), team_id=team_id, slack_user_ids=host_ids)


def study_host_calendars(context: BoltContext, *, study_id: int, host_ids: Collection[str]) -> Mapping[str, ConnectionStatus | None] | None:
    """The same on a study's team, for the book modal's host picker."""
    if not services(context).calendars.configured:
        return None
    return _service(context).study_calendar_states(actor(context), study_id=study_id, slack_user_ids=host_ids)


def register(app: App) -> None:
    app.action(ActionId.CALENDAR_DISCONNECT)(disconnect_clicked)
    app.action(ActionId.CALENDAR_CONSENT)(acknowledge_link)
