"""Socket Mode: with SLACK_APP_TOKEN the server also takes requests over Slack's websocket."""

import asyncio
import json
import queue
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

import pytest
from pydantic import SecretStr
from websockets.asyncio.server import ServerConnection, serve

from bot.server import create_web_app
from bot.services import Services
from bot.settings import Settings
from bot.slack_app import build_bolt_app
from tests.conftest import ADA, CHANNEL, CLI, WORKSPACE, Seed, berlin
from tests.support import slack_requests
from tests.support.blockkit import assert_valid_message
from tests.support.fake_slack import FakeSlackAPI
from tests.support.live_server import serve_in_thread


class FakeSocketModeEndpoint:
    """Plays Slack's side of a Socket Mode connection: says hello, sends envelopes, reads acks."""

    def __init__(self) -> None:
        self.outgoing: queue.Queue[dict[str, Any] | None] = queue.Queue()  # None: stop
        self.acks: queue.Queue[dict[str, Any]] = queue.Queue()
        self.connected = threading.Event()
        self.url = ""
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    async def _handle(self, connection: ServerConnection) -> None:
        await connection.send(json.dumps({"type": "hello", "num_connections": 1}))
        self.connected.set()

        async def pump() -> None:
            # The blocking get runs in the loop's executor, which Python joins at exit: the
            # None sentinel from __exit__ is what lets that thread finish.
            while (envelope := await asyncio.to_thread(self.outgoing.get)) is not None:
                await connection.send(json.dumps(envelope))

        pumping = asyncio.ensure_future(pump())
        try:
            async for message in connection:
                self.acks.put(json.loads(message))
        finally:
            pumping.cancel()

    async def _start(self) -> None:
        server = await serve(self._handle, "127.0.0.1", 0)
        port = next(iter(server.sockets)).getsockname()[1]
        self.url = f"ws://127.0.0.1:{port}/link"

    def __enter__(self) -> "FakeSocketModeEndpoint":
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=5)
        return self

    def __exit__(self, *exc: object) -> None:
        self.outgoing.put(None)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)


@pytest.fixture
def socket_endpoint() -> Iterator[FakeSocketModeEndpoint]:
    with FakeSocketModeEndpoint() as endpoint:
        yield endpoint


def test_slash_command_over_socket_mode_is_acknowledged_with_the_list(
    settings: Settings, services: Services, seeded: Seed, fake_slack: FakeSlackAPI, socket_endpoint: FakeSocketModeEndpoint
) -> None:
    services.booking.book(study_ref=seeded.study_id, participant_email="nora@example.com", starts_at=berlin(6, 10), host_id=ADA, actor=CLI)
    fake_slack.socket_mode_url = socket_endpoint.url
    socket_settings = settings.model_copy(update={"slack_app_token": SecretStr("xapp-test-token")})
    app = create_web_app(socket_settings, services, build_bolt_app(socket_settings, services))

    with serve_in_thread(app):
        assert socket_endpoint.connected.wait(timeout=10), "the app never connected"
        opened = fake_slack.wait_for("apps.connections.open")[0]
        assert opened.headers.get("Authorization") == "Bearer xapp-test-token"
        body = slack_requests.slash_command("/interviews", "", user_id=ADA, team_id=WORKSPACE, channel_id=CHANNEL, response_url=fake_slack.response_url("socket"))
        payload = dict(parse_qsl(body))
        socket_endpoint.outgoing.put({"envelope_id": "env-1", "type": "slash_commands", "accepts_response_payload": True, "payload": payload})
        ack = socket_endpoint.acks.get(timeout=10)

    assert ack["envelope_id"] == "env-1"
    reply = ack["payload"]
    assert reply["response_type"] == "ephemeral"
    assert_valid_message(reply["blocks"])
    assert "Nora Quist" in json.dumps(reply["blocks"])
