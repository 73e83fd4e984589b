"""Observing an interview: View observer room, Send observer bot, View screener responses."""

import logging

from slack_bolt import BoltContext
from slack_sdk.errors import SlackApiError

from blocks.observer import (
    BOT_TITLE,
    ROOM_TITLE,
    bot_already_sent_text,
    bot_asked_text,
    bot_on_its_way_text,
    bot_outcome_view,
    bot_working_view,
    no_observer_room_text,
    observer_room_blocks,
    observer_room_fallback,
    observer_room_view,
)
from blocks.screener_responses import screener_view
from bot.actions import InterviewAction
from bot.domain import SideEffectState
from bot.services.observers import BotRequestState, ObserverService
from commands.errors import Listeners
from commands.interview_actions import ActionRequest, Handler
from commands.services_context import WORKER_KEY
from storage.enums import OutboxKind

log = logging.getLogger(__name__)


def observers(request: ActionRequest) -> ObserverService:
    return request.services.observers


def notetaker_ready(context: BoltContext) -> bool:
    """This server can sign notetaker requests: its outbox worker has their deliverer
    (built only with NOTETAKER_SECRET set)."""
    worker = context.get(WORKER_KEY)
    return worker is not None and OutboxKind.NOTETAKER in worker.deliverers


def observer_room(request: ActionRequest) -> None:
    room = observers(request).observer_room(request.interview_id, request.actor)
    if room.url is None:
        request.reply(no_observer_room_text(room.study_name, room.study_id), title=ROOM_TITLE)
    elif request.view or not request.respond.response_url:
        request.open_modal(observer_room_view(request.interview_id, room.study_name, room.url))
    else:
        request.respond_ephemeral(observer_room_fallback(room.study_name, room.url),
                                  observer_room_blocks(request.interview_id, room.study_name, room.url))


def send_observer_bot(request: ActionRequest) -> None:
    """Queue the request (fast, one transaction), show "working…", send it, show the outcome."""
    sent = observers(request).send_bot(
        request.interview_id, request.actor, seen=request.seen, notetaker_ready=notetaker_ready(request.context)
    )
    if sent.outbox_id is None:
        if sent.state is BotRequestState.ALREADY_SENT:
            request.reply(bot_already_sent_text(sent.at), title=BOT_TITLE)
        else:
            request.reply(bot_on_its_way_text(sent.at, sent.last_error), title=BOT_TITLE)
        return
    asked = bot_asked_text(sent.session_name, sent.starts_at, sent.meeting_url)
    opened = request.open_modal(bot_working_view(asked))

    def show_outcome(states: list[SideEffectState]) -> None:
        try:
            request.client.views_update(view_id=opened["id"], view=bot_outcome_view(asked, states[0] if states else None))
        except SlackApiError:  # closed meanwhile: the card's thread tells the outcome
            log.info("could not show the observer bot outcome in view %s", opened.get("id"), exc_info=True)

    request.deliver((sent.outbox_id,), show_outcome)


def screener_responses(request: ActionRequest) -> None:
    answers = observers(request).screener_responses(request.interview_id, request.actor)
    request.open_modal(screener_view(answers))


ACTION_HANDLERS: dict[InterviewAction, Handler] = {
    InterviewAction.OBSERVER_ROOM: observer_room,
    InterviewAction.SEND_OBSERVER_BOT: send_observer_bot,
    InterviewAction.SCREENER_RESPONSES: screener_responses,
}


def register(app: Listeners) -> None:
    """Everything here is an interview action (``ACTION_HANDLERS``); the observer room's link
    button is acknowledged by ``commands/details.py``."""
