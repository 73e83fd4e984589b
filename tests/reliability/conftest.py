"""Fixtures of the reliability suite: ``people`` (see ``world.People``), ``app`` (the real app
serving Slack's requests for them) and ``http`` (a client for the participant pages)."""

from collections.abc import Iterator

import httpx
import pytest

from bot.follow_ups import FollowUps
from bot.server import create_web_app
from bot.services import Services
from bot.services.study_settings import SettingsForm, StudySettingsService
from bot.settings import Settings
from bot.slack_app import build_bolt_app
from storage.db import Database
from tests.conftest import ADA, CLI, Seed
from tests.reliability import snapshot
from tests.reliability.world import NORA_STARTS, SCREENER, People, RunningApp
from tests.support.fake_slack import FakeSlackAPI
from tests.support.live_server import serve_in_thread
from tests.web import link_for, participant_link


@pytest.fixture
def people(services: Services, seeded: Seed) -> People:
    nora, otto = (link_for(services, p.id) for p in services.participants.list(seeded.study_id))
    interview_id = services.booking.book(
        study_ref=seeded.study_id, participant_email="nora@example.com", starts_at=NORA_STARTS, host_id=ADA,
        actor=CLI,
    ).interview_id
    screened = services.studies.create(
        team_ref=seeded.team_id, name="Screened study", channel_id="C0SCREEN", timezone="Europe/Berlin",
        duration_minutes=30, host_ids=[ADA],
    )
    StudySettingsService(services.db).update(
        screened.id, SettingsForm(immediate_scheduling=True, screener=SCREENER), CLI,
    )
    pia = participant_link(services, screened.id, "pia@example.com", "Pia Lind")
    return People(seeded.team_id, seeded.study_id, nora, otto, pia, interview_id, NORA_STARTS, screened.id)


@pytest.fixture
def app(settings: Settings, services: Services, people: People, fake_slack: FakeSlackAPI, db: Database) -> Iterator[RunningApp]:
    follow_ups = FollowUps()
    bolt = build_bolt_app(settings, services, follow_ups=follow_ups)
    with serve_in_thread(create_web_app(settings, services, bolt)) as url, httpx.Client(base_url=url, timeout=30) as http:
        yield RunningApp(http, bolt, follow_ups, fake_slack, db, people, snapshot(db))


@pytest.fixture
def http(server_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server_url, timeout=30, follow_redirects=False) as client:
        yield client
