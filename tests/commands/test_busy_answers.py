"""Answers that have to wait are not waited for by the acknowledgement.

A submitted action modal whose change has to wait (here: another change holds the study's
hosts) is acknowledged at once as "Saving…", with the form and what was typed kept, and then
updated with the outcome: done, or the form again with the problem named above it. A list
that has to wait for its turn on the answering lane follows through response_url."""

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from blocks.ids import ActionChoice, action_button_id
from blocks.progress import BANNER_BLOCK
from bot.actions import InterviewAction
from bot.follow_ups import FollowUps
from bot.server import create_web_app
from bot.services import Services
from bot.services.change_rules import lock_hosts
from bot.settings import Settings
from bot.slack_app import build_bolt_app
from storage.db import Database
from storage.models import Interview
from tests.conftest import ADA, CLI, WORKSPACE, Seed, SlackClient, berlin
from tests.support import slack_requests
from tests.support.blockkit import assert_valid_view
from tests.support.fake_slack import RESPONSE_URL_METHOD, FakeSlackAPI
from tests.support.live_server import serve_in_thread

VIEW_ID = "V0SAVING"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"slack_inline_answer_seconds": 0.05})


@contextmanager
def hosts_held(db: Database, interview_id: int) -> Iterator[None]:
    """Another change holding the study's hosts (as a reschedule or a booking would) until the
    block ends."""
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with db.transaction(write_lock=True) as session:
            lock_hosts(session, interview_id)
            held.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert held.wait(10)
        yield
    finally:
        release.set()
        holder.join(10)


def _reschedule_modal(slack: SlackClient, services: Services, interview_id: int) -> dict[str, Any]:
    summary = services.interviews.details(interview_id, CLI).summary
    choice = ActionChoice(action=InterviewAction.RESCHEDULE, interview_id=interview_id,
                          seen_start=int(summary.starts_at.timestamp()), seen_status=summary.status)
    assert slack.action(action_button_id(InterviewAction.RESCHEDULE), value=choice.encode()).status_code == 200
    return slack.fake.wait_for("views.open")[-1].params["view"]


def _submit(slack: SlackClient, modal: dict[str, Any], when: int, *, override: bool = False) -> dict[str, Any]:
    ticked = [{"value": "override_availability"}] if override else []
    values = {
        "reschedule.when": {"value": {"type": "datetimepicker", "selected_date_time": when}},
        "reschedule.override": {"value": {"type": "checkboxes", "selected_options": ticked}},
        "reschedule.reason": {"value": {"type": "plain_text_input", "value": "Travelling"}},
    }
    body = slack_requests.view_submission(
        modal["callback_id"], user_id=ADA, team_id=WORKSPACE, view_id=VIEW_ID, state_values=values,
        private_metadata=modal["private_metadata"], blocks=modal["blocks"],
    )
    response = slack.post(body)
    assert response.status_code == 200
    return response.json()


def _updated(slack: SlackClient) -> dict[str, Any]:
    [update] = [call for call in slack.fake.wait_for("views.update") if call.params["view_id"] == VIEW_ID][:1]
    assert_valid_view(update.params["view"])
    return update.params["view"]


def _inputs(view: dict[str, Any]) -> list[str]:
    return [block["block_id"] for block in view["blocks"] if block["type"] == "input"]


def _starts(db: Database, interview_id: int) -> Any:
    with db.transaction() as session:
        return session.get(Interview, interview_id).starts_at


def _book_nora(services: Services, seeded: Seed) -> int:
    return services.booking.book(study_ref=seeded.study_id, participant_email="nora@example.com",
                                 starts_at=berlin(8, 10), host_id=ADA, actor=CLI).interview_id


@pytest.fixture
def interview_id(services: Services, seeded: Seed) -> int:
    return _book_nora(services, seeded)


@pytest.fixture
def modal(slack: SlackClient, services: Services, interview_id: int) -> dict[str, Any]:
    """The reschedule modal, as opened from the interview's button."""
    return _reschedule_modal(slack, services, interview_id)


def test_a_change_that_waits_says_saving_at_once_then_shows_it_done(
    slack: SlackClient, db: Database, interview_id: int, modal: dict[str, Any],
) -> None:
    with hosts_held(db, interview_id):
        ack = _submit(slack, modal, int(berlin(9, 11).timestamp()), override=True)
        assert ack["response_action"] == "update"
        saving = ack["view"]
        assert saving["blocks"][0]["block_id"] == BANNER_BLOCK and "Saving" in json.dumps(saving["blocks"][0])
        assert _inputs(saving) == _inputs(modal)  # the same fields: Slack keeps what was typed
        assert (saving["callback_id"], saving["private_metadata"]) == (modal["callback_id"], modal["private_metadata"])
        assert _starts(db, interview_id) == berlin(8, 10)

    done = _updated(slack)
    assert "Rescheduled to" in json.dumps(done)
    assert _inputs(done) == []
    assert _starts(db, interview_id) == berlin(9, 11)


def test_a_problem_found_after_saving_shows_the_form_again_and_changes_nothing(
    slack: SlackClient, db: Database, interview_id: int, modal: dict[str, Any],
) -> None:
    with hosts_held(db, interview_id):
        ack = _submit(slack, modal, int(berlin(7, 20).timestamp()))  # outside the study's hours
        assert "Saving" in json.dumps(ack["view"]["blocks"][0])

    again = _updated(slack)
    banner = json.dumps(again["blocks"][0], ensure_ascii=False)
    assert again["blocks"][0]["block_id"] == BANNER_BLOCK
    assert "⚠️" in banner and "outside the study's availability" in banner
    assert _inputs(again) == _inputs(modal)
    assert again["callback_id"] == modal["callback_id"]  # submitting it again is a new try
    assert _starts(db, interview_id) == berlin(8, 10)


@contextmanager
def serving(settings: Settings, services: Services, fake_slack: FakeSlackAPI, follow_ups: FollowUps) -> Iterator[SlackClient]:
    """The real app with these follow-up lanes, over HTTP."""
    bolt = build_bolt_app(settings, services, follow_ups=follow_ups)
    with serve_in_thread(create_web_app(settings, services, bolt)) as url, httpx.Client(base_url=url, timeout=10) as http:
        yield SlackClient(http, fake_slack)


def test_the_outcome_after_saving_does_not_wait_behind_deliveries(
    settings: Settings, services: Services, seeded: Seed, fake_slack: FakeSlackAPI, db: Database,
) -> None:
    interview_id = _book_nora(services, seeded)
    follow_ups = FollowUps(deliveries=1)
    stuck = threading.Event()
    with serving(settings, services, fake_slack, follow_ups) as slack:
        modal = _reschedule_modal(slack, services, interview_id)
        follow_ups.run(lambda: stuck.wait(10))  # the only delivery thread: a mail server that hangs
        try:
            with hosts_held(db, interview_id):
                assert "Saving" in json.dumps(_submit(slack, modal, int(berlin(9, 11).timestamp()), override=True))
            assert "Rescheduled to" in json.dumps(_updated(slack))
            assert not stuck.is_set()
        finally:
            stuck.set()


def test_a_list_that_waits_for_its_turn_follows_through_response_url(
    settings: Settings, services: Services, seeded: Seed, fake_slack: FakeSlackAPI,
) -> None:
    _book_nora(services, seeded)
    follow_ups = FollowUps(answering=1)
    with serving(settings, services, fake_slack, follow_ups) as slack:
        with follow_ups.turns.turn():  # another answer has the lane's only turn
            response = slack.command("")
            assert (response.status_code, response.content) == (200, b"")
            assert fake_slack.calls_to(RESPONSE_URL_METHOD) == []
        [reply] = fake_slack.wait_for(RESPONSE_URL_METHOD)
    assert reply.params["response_type"] == "ephemeral"
    assert "Nora" in json.dumps(reply.params["blocks"], ensure_ascii=False)
