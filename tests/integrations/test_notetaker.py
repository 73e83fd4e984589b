"""The notetaker webhook client against a real local HTTP server: signing, and what each answer means."""

import hashlib
import hmac
import socket
import time
from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from bot.composition import build_outbox_worker
from bot.integrations.notetaker import (
    DELIVERY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    NotetakerClient,
    NotetakerError,
    verify,
)
from bot.services import Services
from bot.settings import ConfigError, Settings, load_settings
from storage.enums import OutboxKind
from tests.support.fake_notetaker import FakeNotetaker

SECRET = "shared-notetaker-secret"
BODY = {"meeting_url": "https://meet.example.com/ada", "interview": {"id": 7, "participants": ["Nora Qüist"]}}


@pytest.fixture
def notetaker() -> Iterator[FakeNotetaker]:
    with FakeNotetaker() as fake:
        yield fake


def _refusal(client: NotetakerClient, url: str) -> NotetakerError:
    with pytest.raises(NotetakerError) as caught:
        client.send(url, BODY, delivery_id="notetaker:7:abc")
    return caught.value


def test_request_is_json_signed_over_timestamp_and_exact_body(notetaker: FakeNotetaker) -> None:
    NotetakerClient(SECRET).send(notetaker.url, BODY, delivery_id="notetaker:7:abc")

    [request] = notetaker.received
    assert request.path == "/hooks/interview-desk"
    assert request.header("Content-Type") == "application/json"
    assert request.json == BODY
    timestamp = request.header(TIMESTAMP_HEADER)
    assert timestamp is not None and abs(int(timestamp) - time.time()) < 60
    expected = hmac.new(SECRET.encode(), f"v1:{timestamp}:".encode() + request.body, hashlib.sha256).hexdigest()
    assert request.header(SIGNATURE_HEADER) == f"v1={expected}"
    assert request.header(DELIVERY_HEADER) == "notetaker:7:abc"
    assert verify(SECRET, request.headers, request.body)


def test_verify_refuses_a_wrong_secret_a_changed_body_and_an_old_request(notetaker: FakeNotetaker) -> None:
    NotetakerClient(SECRET).send(notetaker.url, BODY, delivery_id="d1")
    NotetakerClient(SECRET, wall_clock=lambda: time.time() - 600).send(notetaker.url, BODY, delivery_id="d2")
    fresh, old = notetaker.received

    assert verify(SECRET, fresh.headers, fresh.body)
    assert not verify("another-secret", fresh.headers, fresh.body)
    assert not verify(SECRET, fresh.headers, fresh.body.replace(b"ada", b"eve"))
    assert not verify(SECRET, old.headers, old.body)  # ten minutes old: a replay
    assert not verify(SECRET, {**fresh.headers, TIMESTAMP_HEADER: "soon"}, fresh.body)


def test_server_errors_and_rate_limits_are_temporary(notetaker: FakeNotetaker) -> None:
    client = NotetakerClient(SECRET)
    notetaker.answer_next(503)
    notetaker.answer_next(429, headers={"Retry-After": "7"})

    failed = _refusal(client, notetaker.url)
    assert failed.temporary and "HTTP 503" in str(failed)
    limited = _refusal(client, notetaker.url)
    assert limited.temporary and limited.retry_after == 7.0


def test_a_refusal_is_permanent_and_says_what_the_notetaker_answered(notetaker: FakeNotetaker) -> None:
    notetaker.answer_next(400, body='{"error": "unknown meeting provider"}')

    refused = _refusal(NotetakerClient(SECRET), notetaker.url)

    assert not refused.temporary
    assert "HTTP 400" in str(refused) and "unknown meeting provider" in str(refused)


def test_a_redirect_is_not_followed(notetaker: FakeNotetaker) -> None:
    notetaker.answer_next(302, headers={"Location": "https://elsewhere.example.com/hook"})

    refused = _refusal(NotetakerClient(SECRET), notetaker.url)

    assert not refused.temporary and "https://elsewhere.example.com/hook" in str(refused)
    assert len(notetaker.received) == 1


def test_no_answer_within_the_timeout_is_temporary(notetaker: FakeNotetaker) -> None:
    notetaker.stall_next(2.0)
    started = time.monotonic()

    stalled = _refusal(NotetakerClient(SECRET, timeout=0.3), notetaker.url)

    assert stalled.temporary and "did not answer within 0.3 s" in str(stalled)
    assert time.monotonic() - started < 1.5


def test_an_unreachable_notetaker_is_temporary_and_a_bad_url_is_not() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}/hook"
    client = NotetakerClient(SECRET, timeout=2)

    assert _refusal(client, closed).temporary
    assert not _refusal(client, "notes.example.com/hook").temporary


def test_an_empty_secret_is_refused() -> None:
    with pytest.raises(ValueError):
        NotetakerClient("")


def test_the_secret_setting_wires_the_deliverer(settings: Settings, services: Services) -> None:
    assert load_settings(_env_file=None, notetaker_secret="  ").notetaker_secret is None  # blank is unset
    assert OutboxKind.NOTETAKER not in build_outbox_worker(settings, services).deliverers

    configured = settings.model_copy(update={"notetaker_secret": SecretStr(SECRET)})
    assert OutboxKind.NOTETAKER in build_outbox_worker(configured, services).deliverers


def test_a_bad_secret_setting_is_named_but_never_echoed() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(_env_file=None, notetaker_secret=424242)
    assert "NOTETAKER_SECRET" in str(caught.value) and "424242" not in str(caught.value)
