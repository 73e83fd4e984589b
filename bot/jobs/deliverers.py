"""How each kind of outbox item is delivered."""

from collections.abc import Mapping
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.integrations.email import EmailDeliveryError, OutgoingEmail, Transport, build_message
from bot.jobs.outbox_worker import DeliveryError
from bot.services.notifications import invite_from_payload


class EmailDeliverer:
    """Sends an email queued by ``bot.services.notifications`` through SMTP or the .eml folder."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport

    def deliver(self, payload: Mapping[str, Any]) -> None:
        invite = payload.get("invite")
        email = OutgoingEmail(
            to=tuple(payload["to"]), subject=payload["subject"], text=payload["text"], html=payload["html"],
            sender=payload["sender"], message_id=payload["message_id"],
            invite=invite_from_payload(invite) if invite else None, reply_to=payload.get("reply_to"),
        )
        try:
            self.transport.send(build_message(email))
        except EmailDeliveryError as error:
            raise DeliveryError(str(error), temporary=error.temporary) from error


# Slack answers these when a retry cannot help: the post is kept as failed, with the reason.
_PERMANENT_SLACK_ERRORS = {
    "channel_not_found", "not_in_channel", "is_archived", "invalid_blocks", "msg_too_long",
    "no_text", "invalid_auth", "account_inactive", "token_revoked", "missing_scope", "not_authed",
}


class SlackPostDeliverer:
    """Posts a queued message with ``chat.postMessage``."""

    def __init__(self, client: WebClient) -> None:
        self.client = client

    def deliver(self, payload: Mapping[str, Any]) -> None:
        try:
            self.client.chat_postMessage(channel=payload["channel"], text=payload["text"], blocks=payload.get("blocks"))
        except SlackApiError as error:
            status = error.response.status_code
            code = str(error.response.get("error", ""))
            retry_after = error.response.headers.get("Retry-After") if status == 429 else None
            temporary = status == 429 or status >= 500 or code not in _PERMANENT_SLACK_ERRORS
            raise DeliveryError(f"Slack: {code or status}", temporary=temporary,
                                retry_after=float(retry_after) if retry_after else None) from error
        except (OSError, SlackClientError) as error:  # unreachable, timed out
            raise DeliveryError(f"Slack unreachable: {error}", temporary=True) from error
