"""`/interviews invite`: a modal to add participants and email them their scheduling links."""

from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk.models.views import View

from blocks.ids import CallbackId, ChannelRef
from blocks.invite import (
    OPTIONS_BLOCK,
    OPTIONS_INPUT,
    PEOPLE_BLOCK,
    PEOPLE_INPUT,
    SEND_EMAIL,
    invitation_summary,
    invite_modal,
)
from bot.services.errors import DomainError
from bot.services.invitations import parse_lines
from commands.errors import open_modal_or_explain
from commands.services_context import actor, services, workspace_id


def invite_command(ack: Ack, command: dict[str, Any], context: BoltContext) -> None:
    """Open the modal; a channel without a study or a user outside its team is told why instead."""
    channel_id = command.get("channel_id", "")

    def build() -> View:
        study_name, preview = services(context).invitations.preview(
            workspace_id=workspace_id(context), channel_id=channel_id, actor=actor(context)
        )
        return invite_modal(study_name=study_name, channel_id=channel_id, preview_subject=preview.subject, preview_text=preview.text)

    open_modal_or_explain(ack, command, context, build)


def invite_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    values = (view.get("state") or {}).get("values") or {}
    raw = ((values.get(PEOPLE_BLOCK) or {}).get(PEOPLE_INPUT) or {}).get("value") or ""
    chosen = ((values.get(OPTIONS_BLOCK) or {}).get(OPTIONS_INPUT) or {}).get("selected_options") or []
    send_email = any(o.get("value") == SEND_EMAIL for o in chosen)
    metadata = ChannelRef.decode(view.get("private_metadata"))
    people, bad = parse_lines(raw)
    if not people:
        reason = bad[0].reason if bad else "Add at least one email address."
        ack(response_action="errors", errors={PEOPLE_BLOCK: reason[:150]})
        return
    try:
        result = services(context).invitations.invite(
            actor=actor(context), people=people, bad_lines=bad, send_email=send_email,
            workspace_id=workspace_id(context), channel_id=metadata.channel_id,
        )
    except DomainError as error:
        ack(response_action="errors", errors={PEOPLE_BLOCK: error.message[:150]})
        return
    summary = invitation_summary(
        user_id=context.user_id or "", study_name=result.study_name, added=len(result.added),
        already=len(result.already_in_study), emailed=result.emailed,
        bad_lines=[(b.line, b.text, b.reason) for b in result.bad_lines],
    )
    # Queued (one insert) before the ack, so the post is recorded when Slack hears "done";
    # keyed by the submitted view, so a retried submission posts once.
    services(context).announcements.post(key=f"invite:{view.get('id')}", channel_id=metadata.channel_id, text=summary)
    ack()


def register(app: App) -> None:
    app.view(CallbackId.INVITE)(invite_submitted)
