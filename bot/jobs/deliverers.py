"""How each kind of outbox item is delivered."""

from collections.abc import Mapping
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from blocks.interview_card import card_fallback, interview_card, thread_note
from bot.clock import Clock
from bot.integrations.email import EmailDeliveryError, OutgoingEmail, Transport, build_message
from bot.jobs.outbox_worker import DeliveryError
from bot.services.interviews import summary
from bot.services.notifications import invite_from_payload
from storage import queries
from storage.db import Database
from storage.models import Interview


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
    """Delivers channel messages: plain posts, interview cards, and notes in a card's thread.

    A card is rendered when it is delivered, from the interview as it is then, so it always shows
    the current state: the first delivery posts it and stores its ts, later ones edit it in place.
    """

    def __init__(self, client: WebClient, db: Database, clock: Clock) -> None:
        self.client = client
        self.db = db
        self.clock = clock

    def deliver(self, payload: Mapping[str, Any]) -> None:
        try:
            if "card" in payload:
                self._card(int(payload["card"]))
            elif "note" in payload:
                self._note(int(payload["interview_id"]), payload["note"])
            else:
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

    def _card(self, interview_id: int) -> None:
        with self.db.transaction() as session:
            interview = queries.interview_with_attendees(session, interview_id)
            if interview is None:
                return  # deleted meanwhile: nothing to show
            card = summary(interview, self.clock())
            blocks = [b.to_dict() for b in interview_card(card, study_name=interview.study.name, outcome_note=interview.outcome_note)]
            fallback = card_fallback(card, study_name=interview.study.name)
            channel, ts = interview.slack_card_channel_id, interview.slack_card_ts
            if ts is None:
                channel = interview.study.slack_channel_id
                posted = self.client.chat_postMessage(channel=channel, text=fallback, blocks=blocks)
                # Stored at once: if settling this item fails, its retry edits the card instead
                # of posting a second one.
                interview.slack_card_channel_id, interview.slack_card_ts = str(posted["channel"]), str(posted["ts"])
            else:
                self.client.chat_update(channel=channel, ts=ts, text=fallback, blocks=blocks)

    def _note(self, interview_id: int, note: Mapping[str, Any]) -> None:
        with self.db.transaction() as session:
            interview = session.get(Interview, interview_id)
            if interview is None:
                return
            channel = interview.slack_card_channel_id or interview.study.slack_channel_id
            thread = interview.slack_card_ts
        self.client.chat_postMessage(channel=channel, thread_ts=thread, text=thread_note(dict(note)))
