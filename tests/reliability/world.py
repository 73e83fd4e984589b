"""What the reliability tests act on: participants in every state a page can meet, and the real
app serving Slack's requests (the fixtures that build them are in ``conftest.py``)."""

import hashlib
import hmac
import time
from dataclasses import dataclass
from datetime import datetime

import httpx
from slack_bolt import App

from bot.follow_ups import FollowUps
from storage.db import Database
from tests.conftest import SIGNING_SECRET, berlin
from tests.reliability import Snapshot
from tests.support import slack_requests
from tests.support.fake_slack import FakeSlackAPI
from tests.web import Link

NORA_STARTS = berlin(8, 10)  # Friday 8 March, three days after the clock's start
SCREENER = "Do you shop online? | Weekly* | Monthly* | Never\nOwn a car? | yes | no*"
SCREENER_CHOICES = {"q1": ("Weekly", "Monthly", "Never"), "q2": ("yes", "no")}


@dataclass(frozen=True)
class People:
    """The seeded study (Europe/Berlin, hosts Ada and Bo) with Nora booked and Otto not, and a
    second study of the same team that screens, with Pia who has not answered yet."""

    team_id: int
    study_id: int
    nora: Link  # booked
    otto: Link  # invited, not booked
    pia: Link  # in the screened study, has not answered
    interview_id: int  # Nora's
    starts_at: datetime  # of Nora's interview
    screened_study_id: int

    @property
    def seen(self) -> str:
        """What Nora's attendance pages post as ``at``: the start they showed, in Unix seconds."""
        return str(int(self.starts_at.timestamp()))


@dataclass
class RunningApp:
    """The real app on a loopback port, with its Bolt app (to wait for its listeners), the fake
    Slack API it talks to, its database as it was once ``people`` were set up, and a client."""

    http: httpx.Client
    bolt: App
    follow_ups: FollowUps
    fake: FakeSlackAPI
    db: Database
    people: People
    initial: Snapshot
    responses: int = 0

    @property
    def interview_id(self) -> int:
        return self.people.interview_id

    @property
    def seen_start(self) -> int:
        return int(self.people.starts_at.timestamp())

    def response_url(self) -> str:
        self.responses += 1
        return self.fake.response_url(f"reliability{self.responses}")

    def post(self, body: str | bytes, *, content_type: str = slack_requests.FORM_CONTENT_TYPE,
             headers: dict[str, str] | None = None) -> httpx.Response:
        """``body`` signed now, as Slack signs it (``headers`` added after the signature's)."""
        raw = body.encode() if isinstance(body, str) else body
        return self.http.post("/slack/events", content=raw, headers={**signed(raw, content_type), **(headers or {})})

    def settle(self) -> None:
        """Wait for every listener still running after its ack, and the work they handed on (they
        answer through Slack). The app takes no more requests afterwards."""
        self.bolt.listener_runner.listener_executor.shutdown(wait=True)
        self.follow_ups.shutdown(wait=True)


def signed(raw: bytes, content_type: str, *, timestamp: int | None = None, secret: str = SIGNING_SECRET) -> dict[str, str]:
    """Slack's signature headers over the exact bytes (which need not be UTF-8)."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), b"v0:" + stamp.encode() + b":" + raw, hashlib.sha256)
    headers = {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest.hexdigest()}"}
    if content_type:
        headers["Content-Type"] = content_type
    return headers
