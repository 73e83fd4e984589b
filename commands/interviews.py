"""`/interviews`: the study's Upcoming and Past interviews, with paging and tabs."""

from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_bolt.context.respond import Respond

from blocks.ids import LIST_NAVIGATION, ListPosition
from blocks.interview_list import fallback_text, interview_list
from blocks.notices import help_blocks, message_blocks
from bot.domain import ListTab
from bot.services.errors import DomainError
from commands.book import book_command
from commands.calendar import connect_command, disconnect_command
from commands.errors import user_message
from commands.invite import invite_command
from commands.services_context import actor, services, workspace_id
from commands.setup import setup_command

SUBCOMMANDS = {"": ListTab.UPCOMING, "upcoming": ListTab.UPCOMING, "past": ListTab.PAST}
# Subcommands that open a modal (each acks, then opens it with the command's trigger_id).
MODAL_SUBCOMMANDS = {"setup": setup_command, "invite": invite_command, "book": book_command}
# Subcommands that answer for themselves, called the same way.
OWN_SUBCOMMANDS = {**MODAL_SUBCOMMANDS, "connect": connect_command, "disconnect": disconnect_command}


def interviews_command(ack: Ack, command: dict[str, Any], context: BoltContext) -> None:
    words = (command.get("text") or "").split()
    sub = words[0].lower() if words else ""
    if sub in ("help", "?"):
        ack(response_type="ephemeral", text="Interview Desk help", blocks=help_blocks())
        return
    if sub in OWN_SUBCOMMANDS:
        OWN_SUBCOMMANDS[sub](ack, command, context)
        return
    if sub not in SUBCOMMANDS:
        ack(response_type="ephemeral", text="Interview Desk help", blocks=help_blocks(unknown=sub))
        return
    # The list is built before the ack: it is a few indexed queries, and answering in the ack
    # saves a second round trip through response_url.
    try:
        page = services(context).interviews.list_page(
            actor=actor(context),
            tab=SUBCOMMANDS[sub],
            workspace_id=workspace_id(context),
            channel_id=command.get("channel_id", ""),
        )
    except DomainError as error:
        message = user_message(error)
        ack(response_type="ephemeral", text=message, blocks=message_blocks(message))
        return
    ack(response_type="ephemeral", text=fallback_text(page), blocks=interview_list(page))


def navigate(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, context: BoltContext) -> None:
    """A tab or Previous / Next: re-render the same ephemeral message in place."""
    ack()
    position = ListPosition.decode(action.get("value"))
    channel_id = (body.get("channel") or {}).get("id", "")
    page = services(context).interviews.list_page(
        actor=actor(context),
        tab=ListTab(position.tab),
        workspace_id=workspace_id(context),
        channel_id=channel_id,
        key=position.key,
        direction=position.direction,
        offset=position.offset,
    )
    respond(text=fallback_text(page), blocks=interview_list(page), replace_original=True)


def register(app: App) -> None:
    app.command("/interviews")(interviews_command)
    app.action(LIST_NAVIGATION)(navigate)
