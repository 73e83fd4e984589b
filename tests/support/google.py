"""Helpers for tests against the fake Google: the app's settings pointing at it, connecting a host,
passing the consent screen, putting an interview's event in a calendar, and the calendar tick.

The fixtures (``fake_google``, and ``settings``/``services`` under ``pytest.mark.google_calendar``)
are in ``tests/conftest.py``.
"""

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from time import monotonic, sleep
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

import httpx
from pydantic import AnyHttpUrl, SecretStr
from sqlalchemy import select

from bot.integrations.google_values import GOOGLE_SCOPES, Attendee, EventBody, Grant
from bot.jobs.calendar_tick import CalendarTick, build_calendar_tick
from bot.services import Services
from bot.services.calendar_access import CalendarAccess
from bot.services.calendar_busy import BusyTimes
from bot.services.calendar_changes import CalendarChanges
from bot.services.calendar_sync import CalendarSync
from bot.settings import Settings
from bot.web.google_oauth import CALLBACK_PATH
from storage.db import Database
from storage.enums import CalendarProvider
from storage.models import CalendarConnection, Interview, TeamMember
from tests.support.fake_google import FakeGoogle

CLIENT_ID, CLIENT_SECRET = "interview-desk-test.apps.googleusercontent.com", "test-google-secret"
# The test deployment's SECRET_KEY and PUBLIC_BASE_URL; tests/conftest.py:TEST_MAILER signs with them.
SECRET_KEY = b"test-secret-key"
BASE_URL = "http://participants.test"
CALLBACK = f"{BASE_URL}{CALLBACK_PATH}"
EVENTS, FREEBUSY = GOOGLE_SCOPES
ADA_EMAIL = "ada@example.com"
BERLIN = ZoneInfo("Europe/Berlin")


def google_settings(settings: Settings, fake: FakeGoogle | None) -> Settings:
    """``settings`` with SECRET_KEY and PUBLIC_BASE_URL set, and the OAuth client configured with
    every Google URL at ``fake`` (no OAuth client without one)."""
    update: dict[str, object] = {"secret_key": SecretStr(SECRET_KEY.decode()),
                                 "public_base_url": AnyHttpUrl(BASE_URL)}
    if fake is not None:
        update |= {
            "google_client_id": fake.oauth.client_id,
            "google_client_secret": SecretStr(fake.oauth.client_secret),
            "google_api_url": AnyHttpUrl(fake.api_url), "google_auth_url": AnyHttpUrl(fake.auth_url),
            "google_token_url": AnyHttpUrl(fake.token_url),
            "google_revoke_url": AnyHttpUrl(fake.revoke_url),
        }
    return settings.model_copy(update=update)


# ---------------------------------------------------------------- connecting


def connect(services: Services, fake: FakeGoogle, slack_user_id: str, email: str) -> int:
    """The team member connects their calendar as ``email`` (the consent screen passed); returns
    the connection's id."""
    answer = fake.issue_tokens(email, GOOGLE_SCOPES)
    grant = Grant(
        access_token=answer["access_token"], refresh_token=answer["refresh_token"],
        expires_at=datetime.now(UTC) + timedelta(seconds=int(answer["expires_in"])),
        scopes=tuple(answer["scope"].split()),
    )
    with services.db.transaction() as session:
        member = session.scalars(select(TeamMember).where(TeamMember.slack_user_id == slack_user_id)).one()
        member.email = email
        return services.calendars.store_grant(session, member, grant, services.clock()).id


def consent(fake: FakeGoogle, consent_url: str, email: str = ADA_EMAIL, *,
            scopes: tuple[str, ...] | None = None, deny: bool = False) -> str:
    """Someone passes Google's consent screen; returns where Google sends their browser back."""
    if deny:
        fake.deny_next_consent()
    else:
        fake.next_consent(email, scopes=scopes)
    response = httpx.get(consent_url)
    assert response.status_code == 302, response.text
    return response.headers["Location"]


def back_from_google(server_url: str, location: str) -> httpx.Response:
    """Follow Google's redirect to our callback, served at ``server_url`` rather than BASE_URL."""
    assert location.startswith(CALLBACK + "?")
    parts = urlsplit(location)
    return httpx.get(f"{server_url}{parts.path}?{parts.query}")


def query_of(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query))


def token_calls(fake: FakeGoogle) -> int:
    return len(fake.calls_to("POST /token"))


# ---------------------------------------------------------------- calendars


def thursday(clock: Callable[[], datetime], hour: int, minute: int = 0) -> datetime:
    """The first Thursday at least two days after the clock's day, at a Berlin wall-clock time."""
    day = clock().date() + timedelta(days=2)
    day += timedelta(days=(3 - day.weekday()) % 7)
    return datetime.combine(day, time(hour, minute), BERLIN).astimezone(UTC)


def google_event_for(services: Services, connection_id: int, interview_id: int) -> str:
    """Put the interview's event on its organizer's calendar, as the calendar writes do."""
    with services.db.transaction() as session:
        interview = session.get(Interview, interview_id)
        assert interview is not None
        body = EventBody(
            summary=interview.session_name, start=interview.starts_at, end=interview.ends_at,
            attendees=tuple(Attendee(a.email, a.display_name) for a in interview.attendees if a.email),
            i_cal_uid=interview.ical_uid, interview_id=interview.id,
        )
        connection = session.get(CalendarConnection, connection_id)
        assert connection is not None
        calendar = services.calendars.client(connection)
    event = calendar.insert_event(body, request_id=f"test-insert-{interview_id}", meet=False, send_updates="none")
    with services.db.transaction() as session:
        interview = session.get(Interview, interview_id)
        assert interview is not None
        interview.google_event_id = event.id
        interview.calendar_provider = CalendarProvider.GOOGLE
    return event.id


def connection_row(db: Database, connection_id: int) -> CalendarConnection:
    with db.transaction() as session:
        connection = session.get(CalendarConnection, connection_id)
        assert connection is not None
        return connection


def calendar_tick(services: Services, *, base_url: str | None = None, push: bool = True) -> CalendarTick:
    """A server's calendar tick; ``base_url``: where Google's fake sends notifications."""
    if base_url is None:
        return build_calendar_tick(services, push=push)
    assert services.calendars.google is not None
    calendars = CalendarAccess(services.db, services.clock, replace(services.calendars.google, base_url=base_url))
    applier = CalendarChanges(services.db, services.attendance, services.changes, services.outcomes)
    sync = CalendarSync(services.db, services.clock, calendars, applier, push=push)
    return CalendarTick(sync, BusyTimes(services.db, services.clock, calendars))


def notified(fake: FakeGoogle, count: int) -> None:
    """Wait until Google's fake has sent ``count`` change notifications, and check the app took
    each one (a new channel's first ``sync`` message may arrive before the channel is stored)."""
    deadline = monotonic() + 5
    while len(changes := [n for n in fake.notifications if n.state == "exists"]) < count:
        assert monotonic() < deadline, f"{len(changes)} of {count} notifications sent"
        sleep(0.01)
    assert [n.status for n in changes] == [200] * len(changes)
