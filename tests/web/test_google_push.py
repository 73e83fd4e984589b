"""``POST /google/notifications`` on the real app over HTTP: Google's fake pushing to a channel
the calendar sync opened, and requests that are not from one of our channels. Both databases."""

import hashlib
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import update

from bot.services import Services
from storage.db import Database
from storage.models import CalendarConnection
from tests.conftest import ADA, MovableClock, Seed
from tests.support.fake_google import FakeGoogle
from tests.support.google import (
    ADA_EMAIL,
    calendar_tick,
    connect,
    connection_row,
    notified,
    thursday,
)

pytestmark = [pytest.mark.google_calendar, pytest.mark.real_time]

CHANNEL, TOKEN, RESOURCE = "5b1c4d0e8f7a4e2b9c3d1a6f0e8b7c2d", "the-channel-token", "resource-of-ada"


@pytest.fixture
def connection_id(services: Services, fake_google: FakeGoogle, seeded: Seed) -> int:
    return connect(services, fake_google, ADA, ADA_EMAIL)


@pytest.fixture
def http(server_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server_url, timeout=10) as client:
        yield client


@pytest.fixture
def known_channel(db: Database, connection_id: int, clock: MovableClock) -> CalendarConnection:
    """A channel whose token the test knows, synced and refreshed a minute ago."""
    with db.transaction() as session:
        session.execute(update(CalendarConnection).values(
            channel_id=CHANNEL, channel_token_hash=hashlib.sha256(TOKEN.encode()).hexdigest(),
            channel_resource_id=RESOURCE, channel_expires_at=clock() + timedelta(days=6),
            sync_token="token-1", synced_at=clock() - timedelta(minutes=1),
            busy_checked_at=clock() - timedelta(minutes=1),
        ))
    return connection_row(db, connection_id)


def _push(http: httpx.Client, state: str = "exists", **headers: str) -> httpx.Response:
    sent = {"X-Goog-Channel-ID": CHANNEL, "X-Goog-Channel-Token": TOKEN, "X-Goog-Resource-ID": RESOURCE,
            "X-Goog-Resource-State": state, "X-Goog-Message-Number": "2"}
    sent.update(headers)
    return http.post("/google/notifications", headers={k: v for k, v in sent.items() if v})


def test_a_change_in_google_reaches_the_app_and_marks_the_calendar_for_sync_and_busy_refresh(
    services: Services, db: Database, fake_google: FakeGoogle, server_url: str, connection_id: int, clock: MovableClock,
) -> None:
    tick = calendar_tick(services, base_url=server_url)
    assert tick.tick().channels == 1
    opened = connection_row(db, connection_id)
    assert opened.synced_at is not None and opened.busy_checked_at is not None

    fake_google.add_event(ADA_EMAIL, thursday(clock, 10), thursday(clock, 11))
    notified(fake_google, 1)

    marked = connection_row(db, connection_id)
    assert (marked.synced_at, marked.busy_checked_at) == (None, None)
    assert marked.sync_token == opened.sync_token  # the tick syncs; the endpoint only marks


@pytest.mark.parametrize("state", ["exists", "not_exists"])
def test_our_channel_with_its_token_marks_the_calendar(
    http: httpx.Client, db: Database, known_channel: CalendarConnection, state: str,
) -> None:
    answer = _push(http, state)

    assert answer.status_code == 200 and answer.content == b""
    marked = connection_row(db, known_channel.id)
    assert (marked.synced_at, marked.busy_checked_at) == (None, None)


def test_a_new_channels_sync_message_is_taken_and_changes_nothing(
    http: httpx.Client, db: Database, known_channel: CalendarConnection,
) -> None:
    assert _push(http, "sync").status_code == 200
    after = connection_row(db, known_channel.id)
    assert (after.synced_at, after.busy_checked_at) == (known_channel.synced_at, known_channel.busy_checked_at)


@pytest.mark.parametrize("headers", [
    {"X-Goog-Channel-ID": "an-unknown-channel"},
    {"X-Goog-Channel-Token": "a-wrong-token"},
    {"X-Goog-Channel-Token": ""},
    {"X-Goog-Resource-ID": "another-calendar"},
    {"X-Goog-Channel-ID": "", "X-Goog-Channel-Token": "", "X-Goog-Resource-ID": ""},
], ids=["unknown channel", "wrong token", "no token", "other resource", "no headers"])
def test_anything_else_is_the_same_404_and_changes_nothing(
    http: httpx.Client, db: Database, known_channel: CalendarConnection, headers: dict[str, str],
) -> None:
    for state in ("exists", "sync"):
        answer = _push(http, state, **headers)
        assert (answer.status_code, answer.content) == (404, b"")
    after = connection_row(db, known_channel.id)
    assert (after.synced_at, after.busy_checked_at) == (known_channel.synced_at, known_channel.busy_checked_at)
