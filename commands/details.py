"""View details: the modal with attendees and the activity timeline; copying scheduling links."""

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_bolt.context.respond import Respond
from slack_sdk import WebClient

from blocks.ids import TIMELINE_NAVIGATION, ActionId, InterviewRef, TimelinePosition
from blocks.interview_details import interview_details_view
from blocks.notices import scheduling_links_text
from bot.actions import InterviewAction
from commands.interview_actions import ActionRequest, Handler, open_or_push
from commands.services_context import acknowledge_then_answer, actor, services


def _open_details(interview_id: int, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    details = services(context).interviews.details(interview_id, actor(context))
    open_or_push(client, body, interview_details_view(details))


def view_details(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext,
    logger: logging.Logger,
) -> None:
    ref = InterviewRef.decode(action.get("value"))
    acknowledge_then_answer(ack, context, body, respond, client, logger,
                            lambda: _open_details(ref.interview_id, body, client, context))


def details_from_menu(request: ActionRequest) -> None:
    _open_details(request.interview_id, request.body, request.client, request.context)


def copy_link(request: ActionRequest) -> None:
    """Each participant's personal link, shown only to the teammate who asked."""
    links = request.services.participants.links_for_interview(request.interview_id, request.actor)
    request.reply(scheduling_links_text(links), title="Scheduling link")


def timeline_page(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext,
    logger: logging.Logger,
) -> None:
    position = TimelinePosition.decode(action.get("value"))

    def show_page() -> None:
        details = services(context).interviews.details(
            position.interview_id, actor(context), activity_offset=position.offset
        )
        view = body.get("view") or {}
        client.views_update(view_id=view.get("id"), hash=view.get("hash"), view=interview_details_view(details))

    acknowledge_then_answer(ack, context, body, respond, client, logger, show_page)


def acknowledge_link(ack: Ack) -> None:
    """Link buttons still send an action; acknowledging it keeps Slack from showing an error."""
    ack()


ACTION_HANDLERS: dict[InterviewAction, Handler] = {
    InterviewAction.VIEW_DETAILS: details_from_menu,
    InterviewAction.COPY_LINK: copy_link,
}


def register(app: App) -> None:
    app.action(ActionId.VIEW_DETAILS)(view_details)
    app.action(TIMELINE_NAVIGATION)(timeline_page)
    app.action(ActionId.JOIN_MEETING)(acknowledge_link)
    app.action(ActionId.OBSERVER_ROOM_LINK)(acknowledge_link)
