"""One place that turns failures into a friendly reply to the person who clicked."""

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_bolt.context.respond import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from blocks import text
from blocks.ids import BadValue
from blocks.notices import message_blocks
from blocks.stale import stale_blocks, stale_message
from bot.services.errors import DomainError
from bot.services.interview_actions import StaleView

log = logging.getLogger(__name__)

STALE = "That button is out of date. Run `/interviews` again for the current list."
OOPS = "Something went wrong on our side, and nothing was changed. Please try again in a moment."


def user_message(error: Exception) -> str:
    """What to tell the user about an error, as Slack mrkdwn (domain text is escaped)."""
    if isinstance(error, StaleView):
        return stale_text(error)
    if isinstance(error, DomainError):
        return text.escape(error.message)
    if isinstance(error, BadValue):
        return STALE
    return OOPS


def stale_text(error: StaleView) -> str:
    changed_by = error.changed_by
    return stale_message(
        error.current,
        seen_start_changed=error.previous.starts_at not in (None, error.current.starts_at),
        seen_status_changed=error.previous.status not in (None, error.current.status),
        changed_by=(changed_by.slack_user_id, changed_by.name, changed_by.kind) if changed_by else None,
    )


def user_blocks(error: Exception) -> list[Block]:
    """The reply's blocks: the message, and for a stale view the interview as it is now."""
    message = user_message(error)
    if isinstance(error, StaleView):
        return stale_blocks(error.current, message)
    return message_blocks(message)


def _error_modal(blocks: list[Block]) -> View:
    return View(type="modal", title="Interview Desk", close="OK", blocks=blocks)


def handle_error(
    error: Exception, body: dict[str, Any], respond: Respond | None, client: WebClient, logger: logging.Logger
) -> None:
    if not isinstance(error, DomainError | BadValue):
        logger.exception("listener failed", exc_info=error)
    message, blocks = user_message(error), user_blocks(error)
    try:
        # Bolt always passes a Respond, even for payloads without a response_url (modals).
        if respond is not None and respond.response_url:
            respond(text=message, blocks=blocks, response_type="ephemeral", replace_original=False)
        elif body.get("view") and body.get("trigger_id"):
            # An action inside a modal or the Home tab has no response_url: show a small modal.
            in_modal = body["view"].get("type") == "modal"
            opener = client.views_push if in_modal else client.views_open
            opener(trigger_id=body["trigger_id"], view=_error_modal(blocks))
    except SlackApiError:
        log.warning("could not tell the user about an error", exc_info=True)


def register(app: App) -> None:
    app.error(handle_error)


def open_modal_or_explain(ack: Ack, command: dict[str, Any], context: BoltContext, build: Callable[[], View]) -> None:
    """For a slash subcommand that opens a modal: build it (checks included), or say why not.

    The view is built before the ack, so a refusal can be the ack's ephemeral reply; the modal
    opens right after the ack, well inside the trigger_id's three seconds.
    """
    try:
        view = build()
    except DomainError as error:
        message = user_message(error)
        ack(response_type="ephemeral", text=message, blocks=message_blocks(message))
        return
    ack()
    context.client.views_open(trigger_id=command["trigger_id"], view=view)
