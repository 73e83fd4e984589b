"""How each kind of outbox item is delivered."""

from collections.abc import Mapping
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from blocks.interview_card import card_fallback, interview_card, thread_note, thread_note_blocks
from bot.clock import Clock
from bot.integrations.email import (
    EmailDeliveryError,
    Mailbox,
    OutgoingEmail,
    Transport,
    build_message,
)
from bot.jobs.outbox_worker import DeliveryError
from bot.services.interviews import summary
from bot.services.notifications import invite_from_payload
from storage import queries
from storage.db import Database


class EmailDeliverer:
    """Sends an email queued by ``bot.services.notifications`` through SMTP or the .eml folder."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport

    def deliver(self, payload: Mapping[str, Any]) -> None:
        try:
            self.transport.send(build_message(_email(payload)))
        except EmailDeliveryError as error:
            raise DeliveryError(str(error), temporary=error.temporary) from error


def _email(payload: Mapping[str, Any]) -> OutgoingEmail:
    invite, reply_to = payload.get("invite"), payload.get("reply_to")
    return OutgoingEmail(
        to=tuple(Mailbox.from_json(to) for to in payload["to"]), subject=payload["subject"],
        text=payload["text"], html=payload["html"], sender=Mailbox.from_json(payload["sender"]),
        message_id=payload["message_id"], invite=invite_from_payload(invite) if invite else None,
        reply_to=Mailbox.from_json(reply_to) if reply_to else None,
    )


# Slack answers these when a retry cannot help: the post is kept as failed, with the reason.
_PERMANENT_SLACK_ERRORS = {
    "channel_not_found", "not_in_channel", "is_archived", "invalid_blocks", "invalid_blocks_format",
    "invalid_arguments", "msg_too_long", "no_text", "message_not_found", "cant_update_message",
    "invalid_auth", "account_inactive", "token_revoked", "missing_scope", "not_authed",
}


def _slack_failure(error: SlackApiError) -> DeliveryError:
    """What Slack's answer means for the outbox: 429 waits ``Retry-After``, 5xx and unknown
    errors are retried, errors a retry cannot fix are kept as failed."""
    status = error.response.status_code
    code = error.response.get("error") if isinstance(error.response.data, dict) else None
    if status == 429:
        return DeliveryError("Slack: ratelimited", temporary=True, retry_after=_retry_after(error.response.headers))
    if status >= 500:
        # A proxy's 502 page is not JSON: slack_sdk then puts a long parse message in "error".
        return DeliveryError(f"Slack: HTTP {status}", temporary=True)
    code = str(code or f"HTTP {status}")
    return DeliveryError(f"Slack: {code}", temporary=code not in _PERMANENT_SLACK_ERRORS)


def _retry_after(headers: Mapping[str, Any]) -> float | None:
    """Seconds from a ``Retry-After`` header (any letter case); None when absent or not a number."""
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    if isinstance(value, list):  # some clients keep every value of a header
        value = value[0] if value else None
    try:
        seconds = float(value) if value is not None else None
    except ValueError:  # an HTTP date: rare from Slack; the backoff applies instead
        return None
    return seconds if seconds is not None and seconds >= 0 else None


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
            raise _slack_failure(error) from error
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
            interview = queries.interview_with_attendees(session, interview_id)
            if interview is None:
                return
            channel = interview.slack_card_channel_id or interview.study.slack_channel_id
            thread = interview.slack_card_ts
            # Rendered now, like the card: its buttons carry the interview as it is now.
            blocks = thread_note_blocks(dict(note), summary(interview, self.clock()))
        self.client.chat_postMessage(
            channel=channel, thread_ts=thread, text=thread_note(dict(note)),
            blocks=[b.to_dict() for b in blocks] if blocks else None,
        )
