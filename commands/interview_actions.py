"""Every interview action, from any button or "More…" option, reaches its handler through here.

A click carries an ``ActionChoice`` (which action, which interview, and the interview as it was
shown). ``dispatch`` acks at once, decodes it and calls the handler registered for the action,
with an ``ActionRequest`` that knows how to answer in the place the click came from: a modal
(pushed on top) or a message (an ephemeral reply). Handlers live in the modules of
``ACTION_MODULES`` (see ``commands/__init__.py``), each exposing ``ACTION_HANDLERS``.

``finish_submission`` is the shared end of every action modal: run the change (fast: one
transaction), show the person what was done, then deliver the emails and posts it caused right
away and show how that went. Bad input and refusals go next to the field; nothing is saved.
Delivering happens after the ack on the follow-up threads (``bot.follow_ups``), never on the
listener's: a slow mail server must not delay anyone's acknowledgement.
"""

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, BoltContext
from slack_bolt.context.respond import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.views import View

from blocks.ids import ActionChoice, ActionModalState, BadValue, CallbackId
from blocks.interview_details import interview_details_view
from blocks.notices import message_blocks
from blocks.progress import delivery_lines, notice_view, outcome_view, working_view
from bot.actions import InterviewAction
from bot.domain import Actor, SideEffectState
from bot.services import Services
from bot.services.errors import DomainError
from bot.services.interview_actions import ActionResult, Seen, StaleView
from commands.errors import user_blocks, user_message
from commands.services_context import actor, deliver_after_ack, services

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
            self.respond(text=message, blocks=message_blocks(message), response_type="ephemeral", replace_original=False)

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
            self.deliver(outbox_ids, lambda states: _update(self.context, opened.get("id"), outcome_view(title, message, states)))
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
        ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
    ) -> None:
        ack()
        choice = ActionChoice.decode(click_value(action))
        handler = handlers.get(choice.action)
        if handler is None:  # every action has a handler (a test checks); a crafted value may not
            raise BadValue(f"no handler for {choice.action}")
        from_menu = action.get("type") == "static_select"
        handler(ActionRequest(choice, body, client, respond, context, from_menu=from_menu))

    return dispatch


def modal_state(view: dict[str, Any]) -> ActionModalState:
    return ActionModalState.decode(view.get("private_metadata"))  # type: ignore[return-value]


def finish_submission(
    ack: Ack,
    body: dict[str, Any],
    context: BoltContext,
    *,
    title: str,
    run: Callable[[], ActionResult],
    done: Callable[[ActionResult], str],
    error_block: str | Callable[[DomainError], str | None],
) -> ActionResult | None:
    """Run an action modal's change, then show what happened and deliver its side effects.

    ``error_block``: the input a refusal is shown next to (a function may return None to show
    it as a message instead). A stale view is never an input error: the modal turns into the
    explanation, with the interview as it is now.
    """
    view = body.get("view") or {}
    try:
        result = run()
    except StaleView as error:
        ack(response_action="update", view=View(type="modal", title=title[:24], close="Close", blocks=user_blocks(error)))
        return None
    except DomainError as error:
        block = error_block(error) if callable(error_block) else error_block
        if block is None:
            ack(response_action="update", view=notice_view(title, user_message(error)))
        else:
            ack(response_action="errors", errors={block: error.message[:2000]})
        return None
    message = done(result)
    details_view_id = modal_state(view).details_view_id

    def show_outcome(states: list[SideEffectState]) -> None:
        if result.outbox_ids:
            _update(context, view.get("id"), outcome_view(title, message, states))
        if details_view_id:  # the details modal underneath still shows the old state
            details = services(context).interviews.details(result.interview.id, actor(context))
            _update(context, details_view_id, interview_details_view(details))

    if not result.outbox_ids:
        ack(response_action="update", view=outcome_view(title, message))
    else:
        ack(response_action="update", view=working_view(title, message, pending=len(result.outbox_ids)))
    if result.outbox_ids or details_view_id:
        deliver_after_ack(context, result.outbox_ids, show_outcome)
    return result


def _update(context: BoltContext, view_id: str | None, view: View) -> None:
    if not view_id:
        return
    try:
        context.client.views_update(view_id=view_id, view=view)
    except SlackApiError:  # closed meanwhile: the change stands, and the card shows it
        log.info("could not update view %s", view_id, exc_info=True)
