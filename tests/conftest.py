"""Shared fixtures: databases (SQLite always, PostgreSQL when TEST_DATABASE_URL is set), a clock
the tests move, the local fake Slack Web API, the fake Google, and the real app behind signed HTTP
requests.

Markers read here: ``google_calendar`` (the app's ``settings`` and ``services`` have Google Calendar
configured against ``fake_google``) and ``real_time`` (``clock`` starts now rather than at T0).
"""

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot.composition import google_setup
from bot.domain import Actor
from bot.server import create_web_app
from bot.services import Services
from bot.services.links import LinkSigner
from bot.services.notifications import Mailer
from bot.settings import Settings
from bot.slack_app import build_bolt_app
from storage.db import Database
from storage.migrate import upgrade
from storage.models import Base
from tests.support import google, slack_requests
from tests.support.fake_google import FakeGoogle
from tests.support.fake_slack import FakeSlackAPI
from tests.support.google import BASE_URL, SECRET_KEY
from tests.support.live_server import serve_in_thread
from tests.support.smtp_servers import HOST as SMTP_HOST
from tests.support.smtp_servers import RecordingHandler, SmtpServer
from tests.support.smtp_servers import free_port as free_smtp_port

SIGNING_SECRET = "test-signing-secret"
BOT_TOKEN = "xoxb-test-token"
WORKSPACE = "T0TEST"
CHANNEL = "C0STUDY"
ADA, BO, OUTSIDER = "U0ADA", "U0BO", "U0EVE"
# A Tuesday at noon UTC: far from DST changes unless a test moves it there.
T0 = datetime(2030, 3, 5, 12, 0, tzinfo=UTC)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "google_calendar(configured=True): the app's settings have SECRET_KEY and PUBLIC_BASE_URL set "
        "and Google Calendar configured against the fake_google fixture, and so do its services "
        "(configured=False: no OAuth client)",
    )
    config.addinivalue_line(
        "markers", "real_time: the clock fixture starts at the real time (to the minute) instead of T0",
    )


# ---------------------------------------------------------------- databases


def _postgres_url() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    if os.environ.get("REQUIRE_POSTGRES") == "1":
        pytest.fail("REQUIRE_POSTGRES=1 but TEST_DATABASE_URL is not set", pytrace=False)
    return None


def _backends() -> list[Any]:
    marks = [pytest.mark.postgres]
    if not (os.environ.get("TEST_DATABASE_URL") or os.environ.get("REQUIRE_POSTGRES") == "1"):
        marks.append(pytest.mark.skip(reason="set TEST_DATABASE_URL to run on PostgreSQL"))
    return ["sqlite", pytest.param("postgresql", marks=marks)]


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file; each test gets a copy, which is much faster than migrating."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    db = Database(f"sqlite:///{path}")
    upgrade(db.engine)
    with db.engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A fresh database for this test session on the TEST_DATABASE_URL server, migrated once."""
    base = _postgres_url()
    assert base is not None
    name = f"interview_desk_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(Database(base).url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # the server is down or refuses us
        pytest.fail(f"PostgreSQL at TEST_DATABASE_URL is not usable: {exc}", pytrace=False)
    url = make_url(Database(base).url).set(database=name).render_as_string(hide_password=False)
    db = Database(url)
    upgrade(db.engine)
    db.dispose()
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=_backends())
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "test.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    return emptied(request.getfixturevalue("postgres_database"))


def emptied(url: str) -> str:
    """The session's PostgreSQL database with every table emptied, for a test of its own."""
    db = Database(url)
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with db.engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    db.dispose()
    return url


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    yield database
    database.dispose()


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """An empty working directory for the CLI, so no ``.env`` file is read."""
    path = tmp_path / "cwd"
    path.mkdir()
    return path


# ---------------------------------------------------------------- time and services


class MovableClock:
    """``now`` is whatever the test says; ``advance`` moves it on."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock(request: pytest.FixtureRequest) -> MovableClock:
    if request.node.get_closest_marker("real_time"):
        # Google's fake stamps push channels' expiry with the real clock: the two start together.
        return MovableClock(datetime.now(UTC).replace(second=0, microsecond=0))
    return MovableClock(T0)


@pytest.fixture
def services(request: pytest.FixtureRequest, db: Database, clock: MovableClock) -> Services:
    """The domain services; under ``google_calendar``, with Google set up from ``settings``."""
    calendar = None
    if request.node.get_closest_marker("google_calendar"):
        calendar = google_setup(request.getfixturevalue("settings"))
    return Services.build(db, TEST_MAILER, clock, google=calendar)


CLI = Actor.system("cli")
TEST_MAILER = Mailer("Interview Desk <interviews@example.com>", LinkSigner(SECRET_KEY, BASE_URL))


@dataclass(frozen=True)
class Seed:
    team_id: int
    study_id: int


@pytest.fixture
def seeded(services: Services) -> Seed:
    """A team (Ada, Bo) and a study in CHANNEL hosted by Ada, with meeting link and participants."""
    team = services.teams.create("UX Research", WORKSPACE, [ADA, BO])
    study = services.studies.create(
        team_ref=team.id, name="Checkout redesign", channel_id=CHANNEL, timezone="Europe/Berlin",
        duration_minutes=45, host_ids=[ADA, BO],
    )
    services.studies.set_host_conferencing(study.id, ADA, "https://meet.example.com/ada", "s3cret")
    for name, email in [("Nora Quist", "nora@example.com"), ("Otto Berg", "otto@example.com")]:
        services.participants.add(study.id, email, name)
    return Seed(team.id, study.id)


def berlin(day: int, hour: int, minute: int = 0, month: int = 3, year: int = 2030) -> datetime:
    """A wall-clock time in the demo study's zone, as an aware datetime."""
    from zoneinfo import ZoneInfo

    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo("Europe/Berlin"))


# ---------------------------------------------------------------- email


@pytest.fixture
def start_smtp() -> Iterator[Callable[..., SmtpServer]]:
    """Start an SMTP server with a handler and ``aiosmtpd.smtp.SMTP`` options; stopped after."""
    controllers: list[Controller] = []

    def start(handler: RecordingHandler | None = None, *, port: int | None = None, **options: Any) -> SmtpServer:
        handler = handler or RecordingHandler()
        port = port or free_smtp_port()
        controller = Controller(handler, hostname=SMTP_HOST, port=port, **options)
        controller.start()
        controllers.append(controller)
        return SmtpServer(SMTP_HOST, port, handler)

    yield start
    for controller in controllers:
        controller.stop()


@pytest.fixture
def smtp_server(start_smtp: Callable[..., SmtpServer]) -> SmtpServer:
    return start_smtp()


# ---------------------------------------------------------------- Google


@pytest.fixture
def fake_google() -> Iterator[FakeGoogle]:
    with FakeGoogle(client_id=google.CLIENT_ID, client_secret=google.CLIENT_SECRET) as fake:
        yield fake


# ---------------------------------------------------------------- Slack


@pytest.fixture(scope="session")
def fake_slack_server() -> Iterator[FakeSlackAPI]:
    with FakeSlackAPI(bot_token=BOT_TOKEN, team_id=WORKSPACE) as fake:
        yield fake


@pytest.fixture
def fake_slack(fake_slack_server: FakeSlackAPI) -> Iterator[FakeSlackAPI]:
    fake_slack_server.reset()
    yield fake_slack_server
    assert fake_slack_server.block_errors == [], "the app sent invalid Block Kit"


@pytest.fixture
def settings(request: pytest.FixtureRequest, database_url: str, fake_slack: FakeSlackAPI, tmp_path: Path) -> Settings:
    """The app's settings; under ``google_calendar``, a deployment with Google Calendar."""
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=database_url,
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=fake_slack.api_url,
        outbox_dir=tmp_path / "outbox",
        slack_channel_pace_seconds=0,  # the clock stands still in tests: pacing has its own tests
        # Submissions are answered in their acknowledgement however busy the test machine is;
        # the "Saving…" path has its own tests.
        slack_inline_answer_seconds=2.5,
    )
    marker = request.node.get_closest_marker("google_calendar")
    if marker is None:
        return settings
    configured = marker.kwargs.get("configured", True)
    return google.google_settings(settings, request.getfixturevalue("fake_google") if configured else None)


class SlackClient:
    """Sends signed requests, as Slack would, to the real app served over HTTP."""

    def __init__(self, http: httpx.Client, fake: FakeSlackAPI) -> None:
        self.http = http
        self.fake = fake
        self._responses = 0

    def post(self, body: str, *, secret: str = SIGNING_SECRET, timestamp: int | None = None, headers: dict[str, str] | None = None) -> Any:
        signed = slack_requests.sign(body, secret, timestamp)
        return self.http.post("/slack/events", content=body.encode(), headers={**signed, **(headers or {})})

    def new_response_url(self) -> str:
        self._responses += 1
        return self.fake.response_url(f"r{self._responses}")

    def command(self, text: str = "", *, user: str = ADA, channel: str = CHANNEL, team: str = WORKSPACE) -> Any:
        body = slack_requests.slash_command(
            "/interviews", text, user_id=user, team_id=team, channel_id=channel,
            response_url=self.new_response_url(),
        )
        return self.post(body)

    def action(self, action_id: str, *, user: str = ADA, channel: str | None = CHANNEL, team: str = WORKSPACE, **kwargs: Any) -> Any:
        body = slack_requests.block_actions(
            action_id, user_id=user, team_id=team, channel_id=channel,
            response_url=kwargs.pop("response_url", self.new_response_url() if channel else None), **kwargs,
        )
        return self.post(body)


@pytest.fixture
def web_app(settings: Settings, services: Services) -> Any:
    return create_web_app(settings, services, build_bolt_app(settings, services))


@pytest.fixture
def server_url(web_app: Any) -> Iterator[str]:
    """The app on a real uvicorn server in a thread, on a free loopback port."""
    with serve_in_thread(web_app) as url:
        yield url


@pytest.fixture
def slack(server_url: str, fake_slack: FakeSlackAPI) -> Iterator[SlackClient]:
    with httpx.Client(base_url=server_url, timeout=10) as http:
        yield SlackClient(http, fake_slack)
