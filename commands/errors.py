"""One place that turns failures into a friendly reply to the person who clicked."""

import inspect
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


def answering_errors(listener: Callable[..., None]) -> Callable[..., None]:
    """Wrap a listener so that a failure after its ``ack()`` is answered here.

    Bolt runs listeners in a thread and polls for the ack; when a listener raises, Bolt resets
    the ack, and if that happens before the poll saw it, Slack gets a 404 on top of our
    friendly reply (or an error dialog for a modal). Answering the error inside the listener's
    own thread keeps the ack. Register every listener through this.
    """
    wanted = inspect.getfullargspec(listener).args

    # Bolt passes arguments by these names (its kwargs injection reads this signature).
    def run(
        ack: Ack, body: dict[str, Any], action: dict[str, Any] | None, view: dict[str, Any] | None,
        command: dict[str, Any] | None, event: dict[str, Any] | None, client: WebClient,
        respond: Respond, context: BoltContext, logger: logging.Logger,
    ) -> None:
        given = {"ack": ack, "body": body, "action": action, "view": view, "command": command, "event": event,
                 "client": client, "respond": respond, "context": context, "logger": logger}
        try:
            listener(**{name: given[name] for name in wanted})
        except Exception as error:
            if ack.response is None and body.get("type") == "view_submission":
                # Failed before answering a submitted modal: the modal itself says so.
                if not isinstance(error, DomainError | BadValue):
                    logger.exception("listener failed", exc_info=error)
                ack(response_action="update", view=_error_modal(user_blocks(error)))
                return
            if ack.response is None:  # failed before answering: close the request first
                ack()
            handle_error(error, body, respond, client, logger)

    run.__name__ = run.__qualname__ = listener.__name__  # Bolt logs listeners by name
    return run


class Listeners:
    """The Bolt app as listener modules see it: each listener is registered through
    ``answering_errors``, so none can forget to be."""

    def __init__(self, app: App) -> None:
        self.app = app

    def _wrapping(self, register: Callable[[Callable[..., None]], Any]) -> Callable[[Callable[..., None]], None]:
        def add(listener: Callable[..., None]) -> None:
            register(answering_errors(listener))

        return add

    def action(self, constraints: Any) -> Callable[[Callable[..., None]], None]:
        return self._wrapping(self.app.action(constraints))

    def view(self, constraints: Any) -> Callable[[Callable[..., None]], None]:
        return self._wrapping(self.app.view(constraints))

    def command(self, name: str) -> Callable[[Callable[..., None]], None]:
        return self._wrapping(self.app.command(name))

    def event(self, event: str) -> Callable[[Callable[..., None]], None]:
        return self._wrapping(self.app.event(event))


def register(app: Listeners) -> None:
    app.app.error(handle_error)


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
