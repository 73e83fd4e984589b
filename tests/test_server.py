"""The HTTP surface: Slack signature checks, malformed payloads, the health check."""

import hashlib
import hmac
import json
import time
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from bot.server import create_web_app
from bot.services import Services
from bot.settings import Settings
from storage.db import Database
from storage.models import Base
from tests.conftest import ADA, CHANNEL, SIGNING_SECRET, TEST_MAILER, WORKSPACE, Seed, SlackClient
from tests.support import slack_requests
from tests.support.live_server import serve_in_thread


def _row_counts(db: Database) -> dict[str, int]:
    with db.transaction() as session:
        return {t.name: session.scalar(select(func.count()).select_from(t)) or 0 for t in Base.metadata.sorted_tables}


def _command_body(slack: SlackClient) -> str:
    return slack_requests.slash_command("/interviews", "", user_id=ADA, team_id=WORKSPACE, channel_id=CHANNEL, response_url=slack.new_response_url())


def test_unsigned_forged_and_stale_requests_get_401_and_change_nothing(slack: SlackClient, seeded: Seed, db: Database) -> None:
    before = _row_counts(db)
    body = _command_body(slack)
    ten_minutes_ago = int(time.time()) - 600
    signed = slack_requests.sign(body, SIGNING_SECRET)

    attempts = [
        slack.http.post("/slack/events", content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}),
        slack.post(body, secret="not-the-secret"),
        slack.post(body, timestamp=ten_minutes_ago),
        # A genuine signature replayed on a different body.
        slack.http.post("/slack/events", content=body.replace("text=", "text=past"), headers=signed),
        slack.http.post("/slack/events", content=body, headers={**signed, "X-Slack-Request-Timestamp": "yesterday"}),
    ]

    assert [r.status_code for r in attempts] == [401] * len(attempts)
    assert _row_counts(db) == before
    assert slack.fake.calls == []


def test_the_same_request_signed_correctly_is_answered(slack: SlackClient, seeded: Seed) -> None:
    assert slack.post(_command_body(slack)).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        "payload=not-json",
        "payload=%7B%7D",  # {}
        "payload=%5B%5D",  # []
        'payload={"type":"block_actions"}',
        'payload={"type":"block_actions","actions":[{}]}',
        'payload={"type":"block_actions","user":{"id":"U0ADA"},"team":{"id":"T0TEST"},"actions":[{"action_id":"interview.view_details"}]}',
        'payload={"type":"block_actions","user":{"id":"U0ADA"},"team":{"id":"T0TEST"},"actions":[{"action_id":"interview_list.next","value":"{\\"tab\\":\\"nope\\"}"}],"channel":{"id":"C0STUDY"}}',
        'payload={"type":"view_submission","view":{}}',
        "command=%2Finterviews",
        "command=%2Funknown&text=x",
        "",
        "a=b&a=c",
    ],
)
def test_signed_but_malformed_payloads_get_4xx_never_500(slack: SlackClient, seeded: Seed, db: Database, body: str) -> None:
    before = _row_counts(db)
    response = slack.post(body)
    assert 200 <= response.status_code < 500, response.text
    assert _row_counts(db) == before


def test_malformed_json_event_and_bad_utf8_get_400(slack: SlackClient) -> None:
    body = "{not json"
    assert slack.http.post("/slack/events", content=body, headers=slack_requests.sign_json(body, SIGNING_SECRET)).status_code == 400
    raw = b"payload=\xff\xfe"
    timestamp = str(int(time.time()))
    # Signed over the exact bytes (slack_sdk only signs text), so only the decoding can fail.
    digest = hmac.new(SIGNING_SECRET.encode(), b"v0:" + timestamp.encode() + b":" + raw, hashlib.sha256).hexdigest()
    headers = {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": f"v0={digest}", "Content-Type": "application/x-www-form-urlencoded"}
    assert slack.http.post("/slack/events", content=raw, headers=headers).status_code == 400


def test_oversized_body_is_refused(slack: SlackClient) -> None:
    body = "text=" + "x" * (1 << 20)
    assert slack.post(body).status_code == 413


def test_events_url_verification_is_answered_on_the_same_url(slack: SlackClient) -> None:
    body = json.dumps({"token": "t", "challenge": "c-123", "type": "url_verification"})
    response = slack.http.post("/slack/events", content=body, headers=slack_requests.sign_json(body, SIGNING_SECRET))
    assert response.status_code == 200 and "c-123" in response.text


def test_healthz_reports_database_and_version(slack: SlackClient) -> None:
    from bot import __version__

    response = slack.http.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "version": __version__}


def test_healthz_is_503_when_the_database_is_unreachable(settings: Settings) -> None:
    unreachable = Database("postgresql://postgres@127.0.0.1:9/nowhere")
    app = create_web_app(settings, Services.build(unreachable, TEST_MAILER), None)
    with serve_in_thread(app) as url:
        started = time.monotonic()
        response = httpx.get(f"{url}/healthz", timeout=20)
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"
    assert time.monotonic() - started < 10


def test_without_slack_credentials_the_endpoint_says_so(settings: Settings, services: Services) -> None:
    app = create_web_app(settings, services, None)
    with serve_in_thread(app) as url:
        response = httpx.post(f"{url}/slack/events", content="x=1")
        health = httpx.get(f"{url}/healthz")
    assert response.status_code == 503
    assert "SLACK_BOT_TOKEN" in response.json()["error"]
    assert health.status_code == 200


def test_slack_requests_do_not_block_the_event_loop(slack: SlackClient, seeded: Seed) -> None:
    """Bolt runs in the thread pool: a health check answers while commands are in flight."""
    import concurrent.futures

    bodies: list[Any] = [_command_body(slack) for _ in range(8)]
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        futures = [pool.submit(slack.post, b) for b in bodies]
        health = slack.http.get("/healthz")
        statuses = [f.result().status_code for f in futures]
    assert health.status_code == 200 and statuses == [200] * 8
