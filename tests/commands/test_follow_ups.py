"""Sending after an ack happens on the follow-up threads, never on Bolt's listener threads: while
the mail server is still reading a submission's email, no listener is busy and a new command
is answered at once; the modal tells the outcome once the mail server answers."""

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from slack_bolt import App

from blocks.email_modals import BODY, INPUT, SUBJECT
from blocks.ids import CallbackId
from blocks.interview_actions import choice
from bot.actions import InterviewAction
from bot.domain import MemberProfile
from bot.follow_ups import FollowUps
from bot.server import create_web_app
from bot.services import Services
from bot.settings import Settings
from bot.slack_app import build_bolt_app
from tests.conftest import ADA, CLI, WORKSPACE, Seed, SlackClient, berlin
from tests.support import slack_requests
from tests.support.fake_slack import FakeSlackAPI
from tests.support.live_server import serve_in_thread
from tests.support.mail import with_smtp
from tests.support.smtp_gate import GateHandler
from tests.support.smtp_servers import SmtpServer


@pytest.fixture
def gate() -> GateHandler:
    return GateHandler(hold_at=1)


@pytest.fixture
def settings(settings: Settings, start_smtp: Callable[..., SmtpServer], gate: GateHandler) -> Settings:
    return with_smtp(settings, start_smtp(gate))


@pytest.fixture
def follow_ups() -> FollowUps:
    return FollowUps()


@pytest.fixture
def bolt(settings: Settings, services: Services, follow_ups: FollowUps) -> App:
    return build_bolt_app(settings, services, follow_ups=follow_ups)


@pytest.fixture
def slack(settings: Settings, services: Services, bolt: App, fake_slack: FakeSlackAPI) -> Iterator[SlackClient]:
    with serve_in_thread(create_web_app(settings, services, bolt)) as url, httpx.Client(base_url=url, timeout=10) as http:
        yield SlackClient(http, fake_slack)


def _compose(services: Services, slack: SlackClient, interview_id: int) -> dict[str, Any]:
    summary = services.interviews.details(interview_id, CLI).summary
    value = choice(summary, InterviewAction.CUSTOM_EMAIL).encode()
    assert slack.action("interview.more", action_type="static_select", selected_option_value=value).status_code == 200
    return slack.fake.wait_for("views.open")[-1].params["view"]


def _submit(slack: SlackClient, view: dict[str, Any]) -> dict[str, Any]:
    state = {SUBJECT: {INPUT: {"type": "plain_text_input", "value": "Hello"}},
             BODY: {INPUT: {"type": "plain_text_input", "value": "Hi {name}, see you soon."}}}
    body = slack_requests.view_submission(
        CallbackId.COMPOSE_EMAIL, state_values=state, private_metadata=view["private_metadata"],
        user_id=ADA, team_id=WORKSPACE, view_id="V0F1", blocks=view["blocks"],
    )
    response = slack.post(body)
    assert response.status_code == 200
    return response.json()


def test_a_held_email_keeps_no_listener_busy_and_its_outcome_follows(
    slack: SlackClient, services: Services, seeded: Seed, bolt: App, follow_ups: FollowUps, gate: GateHandler,
) -> None:
    services.profiles.remember(WORKSPACE, {ADA: MemberProfile("Ada Lovelace", "ada@example.com")})
    interview_id = services.booking.book(
        study_ref=seeded.study_id, participant_email="nora@example.com", starts_at=berlin(6, 10), host_id=ADA, actor=CLI,
    ).interview_id
    answer = _submit(slack, _compose(services, slack, interview_id))
    assert "⏳ Sending 1 update…" in json.dumps(answer["view"], ensure_ascii=False)
    assert gate.held.wait(10), "the email never reached the mail server"

    # The mail server is still reading the email: every listener has finished all the same...
    started = time.monotonic()
    bolt.listener_runner.listener_executor.shutdown(wait=True)
    assert time.monotonic() - started < 2
    assert slack.fake.calls_to("views.update") == []  # ...and the outcome waits for the mail server

    gate.released.set()  # it gives up (421): not sent, to be retried by the tick
    follow_ups.shutdown(wait=True)
    [update] = slack.fake.calls_to("views.update")
    assert update.params["view_id"] == "V0F1"
    assert "not sent yet" in json.dumps(update.params["view"], ensure_ascii=False)
