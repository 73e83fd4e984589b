"""Posts to a study's Slack channel, durably: queued in the outbox, delivered in order per channel."""

from typing import Any

from bot.clock import Clock
from storage import outbox
from storage.db import Database
from storage.enums import OutboxKind


class AnnouncementService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def post(self, *, key: str, channel_id: str, text: str, blocks: list[dict[str, Any]] | None = None) -> bool:
        """Queue a channel message; ``key`` makes a repeated request (a Slack retry) post once."""
        payload: dict[str, Any] = {"channel": channel_id, "text": text}
        if blocks is not None:
            payload["blocks"] = blocks
        with self.db.transaction() as session:
            return outbox.enqueue(
                session, key=f"slack_post:{key}", kind=OutboxKind.SLACK_POST, payload=payload,
                now=self.clock(), ordering_key=f"slack:{channel_id}",
            )
