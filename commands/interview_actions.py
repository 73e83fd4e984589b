"""Every interview action, from any button or "More…" option, reaches its handler through here.

A click carries an ``ActionChoice`` (which action, which interview, and the interview as it was
shown). ``dispatch`` acks at once, decodes it and calls the handler registered for the action,
with an ``ActionRequest`` that knows how to answer in the place the click came from: a modal
(pushed on top) or a message (an ephemeral reply). Handlers live in the modules of
``ACTION_MODULES`` (see ``commands/__init__.py``), each exposing ``ACTION_HANDLERS``.

Whatever follows the ack runs on the follow-up lanes (``bot.follow_ups``), never on the
listener's thread: answering the click takes turns there, and delivering waits on the network.
The end of every action modal's submission is in ``commands/submissions.py``.
"""

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, BoltContext
from slack_bolt.context.respond import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from blocks.ids import ActionChoice, ActionModalState, BadValue, CallbackId
from blocks.notices import message_blocks
from blocks.progress import delivery_lines, notice_view, outcome_view, working_view
from bot.actions import InterviewAction
from bot.domain import Actor, SideEffectState
from bot.services import Services
from bot.services.interview_actions import Seen
from commands.services_context import (
    acknowledge_then_answer,
    actor,
    deliver_after_ack,
    services,
    waiting_for_slack,
)

log = logging.getLogger(__name__)


@dataclass
class ActionRequest:
    """One click on an interview action, acknowledged, with ways to answer it."""

    choice: ActionChoice
    body: dict[str, Any]
    client: WebClient
    respond: Respond
    context: BoltContext
    from_menu: bool = False  # chosen in "More…" (no Slack confirm dialog there), not a button

    @property
    def services(self) -> Services:
        return services(self.context)

    @property
    def actor(self) -> Actor:
        return actor(self.context)

    @property
    def interview_id(self) -> int:
        return self.choice.interview_id

    @property
    def seen(self) -> Seen:
        return Seen.of(self.choice.seen_start, self.choice.seen_status)

    @property
    def view(self) -> dict[str, Any] | None:
        """The modal or Home tab the click came from, if any."""
        return self.body.get("view") or None

    @property
    def in_modal(self) -> bool:
        return (self.view or {}).get("type") == "modal"

    def modal_state(self) -> str:
        """private_metadata for the modal this action opens."""
        view = self.view or {}
        from_details = view.get("callback_id") == CallbackId.INTERVIEW_DETAILS
        return ActionModalState(choice=self.choice, details_view_id=view.get("id") if from_details else None).encode()

    def open_modal(self, view: View) -> dict[str, Any]:
        """Open ``view``, on top of the modal the click came from; returns Slack's view.

        (A Home tab is a view too, but nothing can be pushed onto it: a modal is opened.)
        """
        return open_or_push(self.client, self.body, view)

    def reply(self, message: str, *, title: str = "Interview Desk") -> None:
        """A short answer only the clicker sees: ephemeral in a channel, a small modal elsewhere."""
        if self.view or not self.respond.response_url:
            self.open_modal(notice_view(title, message))
        else:
            self.respond_ephemeral(message, message_blocks(message))

    def respond_ephemeral(self, text: str, blocks: list[Block]) -> None:
        """A message only the clicker sees, in the channel the click came from (its response_url)."""
        with waiting_for_slack(self.context):
            self.respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=False)

    def deliver(
        self, outbox_ids: tuple[int, ...], then: Callable[[list[SideEffectState]], None] | None = None,
    ) -> None:
        """After the ack: deliver what the action queued, then ``then(states)``."""
        deliver_after_ack(self.context, outbox_ids, then)

    def reply_delivered(self, message: str, outbox_ids: tuple[int, ...], *, title: str = "Interview Desk") -> None:
        """Answer with ``message`` and how its side effects went, once delivered.

        A modal opens now, saying they are on their way (its trigger lasts 3 seconds), and is
        updated; an ephemeral reply can wait for the outcome.
        """
        if self.view or not self.respond.response_url:
            opened = self.open_modal(working_view(title, message, pending=len(outbox_ids)))
            self.deliver(outbox_ids, lambda states: update_view(self.context, opened.get("id"), outcome_view(title, message, states)))
        else:
            self.deliver(outbox_ids, lambda states: self.reply("\n".join([message, *delivery_lines(states)])))


Handler = Callable[[ActionRequest], None]


def open_or_push(client: WebClient, body: dict[str, Any], view: View) -> dict[str, Any]:
    """Stack ``view`` on the modal the click came from, or open it (from a message or Home)."""
    in_modal = (body.get("view") or {}).get("type") == "modal"
    opener = client.views_push if in_modal else client.views_open
    return opener(trigger_id=body["trigger_id"], view=view)["view"]


def click_value(action: dict[str, Any]) -> str | None:
    """A button's value, or the chosen option's value for the "More…" select."""
    if action.get("type") == "static_select":
        return (action.get("selected_option") or {}).get("value")
    return action.get("value")


def dispatcher(handlers: Mapping[InterviewAction, Handler]) -> Callable[..., None]:
    def dispatch(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, respond: Respond,
        context: BoltContext, logger: logging.Logger,
    ) -> None:
        choice = ActionChoice.decode(click_value(action))
        handler = handlers.get(choice.action)
        if handler is None:  # every action has a handler (a test checks); a crafted value may not
            raise BadValue(f"no handler for {choice.action}")
        request = ActionRequest(choice, body, client, respond, context, from_menu=action.get("type") == "static_select")
        acknowledge_then_answer(ack, context, body, respond, client, logger, lambda: handler(request))

    return dispatch


def modal_state(view: dict[str, Any]) -> ActionModalState:
    return ActionModalState.decode(view.get("private_metadata"))  # type: ignore[return-value]


def update_view(context: BoltContext, view_id: str | None, view: View | dict[str, Any]) -> None:
    if not view_id:
        return
    try:
        context.client.views_update(view_id=view_id, view=view)
    except SlackApiError:  # closed meanwhile: the change stands, and the card shows it
        log.info("could not update view %s", view_id, exc_info=True)
