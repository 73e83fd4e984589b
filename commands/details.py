"""View details: the modal with attendees and the activity timeline, and the actions menu."""

from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_bolt.context.respond import Respond
from slack_sdk import WebClient

from blocks.ids import (
    TIMELINE_NAVIGATION,
    ActionId,
    InterviewRef,
    MenuChoice,
    TimelinePosition,
)
from blocks.interview_details import interview_details_view
from blocks.notices import scheduling_links_text
from commands.services_context import actor, services


def _open_details(interview_id: int, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    details = services(context).interviews.details(interview_id, actor(context))
    view = interview_details_view(details)
    if body.get("view"):  # clicked inside a modal: stack on top of it
        client.views_push(trigger_id=body["trigger_id"], view=view)
    else:
        client.views_open(trigger_id=body["trigger_id"], view=view)


def view_details(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    ack()
    ref = InterviewRef.decode(action.get("value"))
    _open_details(ref.interview_id, body, client, context)


def interview_menu(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
) -> None:
    ack()
    choice = MenuChoice.decode((action.get("selected_option") or {}).get("value"))
    if choice.action == "view_details":
        _open_details(choice.interview_id, body, client, context)
    elif choice.action == "copy_link":
        links = services(context).participants.links_for_interview(choice.interview_id, actor(context))
        respond(text=scheduling_links_text(links), response_type="ephemeral", replace_original=False)
    # "join_meeting" is a link: Slack opens it in the browser; there is nothing to do here.


def timeline_page(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    ack()
    position = TimelinePosition.decode(action.get("value"))
    details = services(context).interviews.details(
        position.interview_id, actor(context), activity_offset=position.offset
    )
    view = body.get("view") or {}
    client.views_update(view_id=view.get("id"), hash=view.get("hash"), view=interview_details_view(details))


def acknowledge_link(ack: Ack) -> None:
    """Link buttons still send an action; acknowledging it keeps Slack from showing an error."""
    ack()


def register(app: App) -> None:
    app.action(ActionId.VIEW_DETAILS)(view_details)
    app.action(ActionId.INTERVIEW_MENU)(interview_menu)
    app.action(TIMELINE_NAVIGATION)(timeline_page)
    app.action(ActionId.JOIN_MEETING)(acknowledge_link)
