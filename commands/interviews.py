"""`/interviews`: the study's Upcoming and Past interviews, with paging and tabs."""

import logging
from concurrent.futures import Future
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_bolt.context.respond import Respond
from slack_sdk import WebClient

from blocks.ids import LIST_NAVIGATION, ListPosition
from blocks.interview_list import fallback_text, interview_list
from blocks.notices import help_blocks, message_blocks
from bot.domain import ListTab
from bot.services.errors import DomainError
from commands.book import book_command
from commands.calendar import connect_command, disconnect_command
from commands.errors import user_message
from commands.invite import invite_command
from commands.services_context import (
    acknowledge_then_answer,
    actor,
    answer_in_ack_or_later,
    failures_told,
    services,
    waiting_for_slack,
    workspace_id,
)
from commands.setup import setup_command

SUBCOMMANDS = {"": ListTab.UPCOMING, "upcoming": ListTab.UPCOMING, "past": ListTab.PAST}
# Subcommands that open a modal (each acks, then opens it with the command's trigger_id).
MODAL_SUBCOMMANDS = {"setup": setup_command, "invite": invite_command, "book": book_command}
# Subcommands that answer for themselves, called the same way.
OWN_SUBCOMMANDS = {**MODAL_SUBCOMMANDS, "connect": connect_command, "disconnect": disconnect_command}


def interviews_command(
    ack: Ack, command: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext,
    logger: logging.Logger,
) -> None:
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
    def reply_later(listing: "Future[dict[str, Any]]") -> None:
        with failures_told(command, respond, client, logger):
            reply = listing.result()
            with waiting_for_slack(context):
                respond(response_type="ephemeral", **reply)

    # The list is built on the answering lane; the acknowledgement waits a moment for it
    # (SLACK_INLINE_ANSWER_SECONDS) to carry it, saving a round trip through response_url.
    # Busier than that, the ack goes at once and the list follows through response_url.
    listing = answer_in_ack_or_later(
        context, lambda: _list_reply(context, SUBCOMMANDS[sub], command.get("channel_id", "")),
        meanwhile=ack, later=reply_later,
    )
    if listing is not None:
        ack(response_type="ephemeral", **listing.result())


def _list_reply(context: BoltContext, tab: ListTab, channel_id: str) -> dict[str, Any]:
    """The list's ephemeral message (or what stops it, told in its place): text and blocks."""
    try:
        page = services(context).interviews.list_page(
            actor=actor(context), tab=tab, workspace_id=workspace_id(context), channel_id=channel_id,
        )
    except DomainError as error:
        message = user_message(error)
        return {"text": message, "blocks": message_blocks(message)}
    return {"text": fallback_text(page), "blocks": interview_list(page)}


def navigate(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext,
    logger: logging.Logger,
) -> None:
    """A tab or Previous / Next: re-render the same ephemeral message in place."""
    position = ListPosition.decode(action.get("value"))
    channel_id = (body.get("channel") or {}).get("id", "")

    def show_page() -> None:
        page = services(context).interviews.list_page(
            actor=actor(context),
            tab=ListTab(position.tab),
            workspace_id=workspace_id(context),
            channel_id=channel_id,
            key=position.key,
            direction=position.direction,
            offset=position.offset,
        )
        blocks = interview_list(page)
        with waiting_for_slack(context):
            respond(text=fallback_text(page), blocks=blocks, replace_original=True)

    acknowledge_then_answer(ack, context, body, respond, client, logger, show_page)


def register(app: App) -> None:
    app.command("/interviews")(interviews_command)
    app.action(LIST_NAVIGATION)(navigate)
