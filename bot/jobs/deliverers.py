"""How each kind of outbox item is delivered."""

from collections.abc import Mapping
from typing import Any

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
