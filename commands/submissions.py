"""The end of every action modal's submission: run the change, show the person what was done,
then deliver what it caused and show how that went.

The change (one short transaction) runs on the answering lane (``bot.follow_ups``), and the
acknowledgement waits a moment for it (``SLACK_INLINE_ANSWER_SECONDS``, 50 ms). A change alone
takes a few milliseconds; only a queue of changes (a study's hosts are locked one change at a
time) makes it wait longer, and then the person is better told "saving" at once:

- Done in time, as it is unless many changes arrive at once: a mistake is shown next to its
  field, a refusal replaces the modal, or the modal turns into "done · ⏳ sending…", all in the
  acknowledgement itself.
- Not done in time: the modal is acknowledged at once as "⏳ Saving…", with what was typed still
  in it, and the outcome follows as an update of the modal: the outcome, a refusal, or the
  form again with the problem named above it. Nothing is saved when it is refused.

Either way the emails and posts the change queued are delivered at once on the delivering lane,
and the modal shows how that went; the details modal underneath is refreshed.
"""

import logging
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk.models.views import View

from blocks.interview_details import interview_details_view
from blocks.progress import SAVING, form_again, notice_view, outcome_view, working_view
from bot.domain import SideEffectState
from bot.services.errors import DomainError
from bot.services.interview_actions import ActionResult, StaleView
from commands.errors import OOPS, user_blocks, user_message
from commands.interview_actions import modal_state, update_view
from commands.services_context import actor, answer_in_ack_or_later, deliver_after_ack, services

log = logging.getLogger(__name__)

ErrorBlock = str | Callable[[DomainError], str | None]
Question = Callable[[Exception], View | None]


def finish_submission(
    ack: Ack,
    body: dict[str, Any],
    context: BoltContext,
    *,
    title: str,
    run: Callable[[], ActionResult],
    done: Callable[[ActionResult], str],
    error_block: ErrorBlock,
    question: Question | None = None,
) -> None:
    """Run an action modal's change, then show what happened and deliver its side effects.

    ``error_block``: the input a refusal is shown next to (a function may return None to show
    it as a message instead). A stale view is never an input error: the modal turns into the
    explanation, with the interview as it is now. ``question``: for an exception that asks the
    person something rather than refuses (nothing changed), the view that asks it.
    """
    view = body.get("view") or {}
    change = answer_in_ack_or_later(
        context, run, meanwhile=lambda: ack(response_action="update", view=form_again(view, SAVING)),
        later=lambda change: _answer_later(change, context, view, title, done, error_block, question),
    )
    if change is None:
        return
    try:
        result = change.result()
    except Exception as error:
        answer = _unchanged(error, title, error_block, question)
        if answer is None:
            raise  # unexpected: the listener's wrapper answers it
        ack(**answer)
        return
    message = done(result)
    ack(response_action="update", view=_saved(title, message, result))
    _deliver(context, view, title, message, result)


def _unchanged(error: Exception, title: str, error_block: ErrorBlock, question: Question | None) -> dict[str, Any] | None:
    """How a submission that changed nothing is answered (Slack's ``response_action`` and its
    payload), or None for a failure nobody meant."""
    if question is not None and (asked := question(error)) is not None:
        return {"response_action": "update", "view": asked}
    if isinstance(error, StaleView):
        return {"response_action": "update",
                "view": View(type="modal", title=title[:24], close="Close", blocks=user_blocks(error))}
    if isinstance(error, DomainError):
        block = error_block(error) if callable(error_block) else error_block
        if block is None:
            return {"response_action": "update", "view": notice_view(title, user_message(error))}
        return {"response_action": "errors", "errors": {block: error.message[:2000]}}
    return None


def _answer_later(
    change: "Future[ActionResult]", context: BoltContext, view: dict[str, Any], title: str,
    done: Callable[[ActionResult], str], error_block: ErrorBlock, question: Question | None,
) -> None:
    """The modal was acknowledged as "saving": update it with what came of the change."""
    view_id = view.get("id")
    try:
        result = change.result()
    except Exception as error:
        answer = _unchanged(error, title, error_block, question)
        if answer is None:
            log.error("a submitted change failed", exc_info=error)
            update_view(context, view_id, notice_view(title, OOPS))
        elif answer["response_action"] == "errors":  # the form again, what was typed kept
            update_view(context, view_id, form_again(view, f"⚠️ {user_message(error)}"))
        else:
            update_view(context, view_id, answer["view"])
        return
    message = done(result)
    update_view(context, view_id, _saved(title, message, result))
    _deliver(context, view, title, message, result)


def _saved(title: str, message: str, result: ActionResult) -> View:
    if not result.outbox_ids:
        return outcome_view(title, message)
    return working_view(title, message, pending=len(result.outbox_ids))


def _deliver(context: BoltContext, view: dict[str, Any], title: str, message: str, result: ActionResult) -> None:
    details_view_id = modal_state(view).details_view_id

    def show_outcome(states: list[SideEffectState]) -> None:
        if result.outbox_ids:
            update_view(context, view.get("id"), outcome_view(title, message, states))
        if details_view_id:  # the details modal underneath still shows the old state
            details = services(context).interviews.details(result.interview.id, actor(context))
            update_view(context, details_view_id, interview_details_view(details))

    if result.outbox_ids or details_view_id:
        deliver_after_ack(context, result.outbox_ids, show_outcome)
