"""The buttons on what the bot posts in a card's thread, clicked in Slack: Send reminder and Release
slot on the unconfirmed-attendance warning, the rating and Attended on the post-interview prompt.
Signed requests into the real app; what reached the fake Slack API and the real SMTP server.
Also the setup modal's reminder settings."""

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.composition import build_lifecycle_runner, build_outbox_worker
from bot.domain import Actor
from bot.jobs.lifecycle import LifecycleRunner
from bot.jobs.outbox_worker import OutboxWorker
from bot.services import Services
from bot.services.study_settings import SettingsForm, StudySettingsService
from bot.settings import Settings
from commands.lifecycle import RELEASE_MESSAGE
from storage.db import Database
from storage.enums import ActivityKind, ActorKind, InterviewStatus
from storage.models import ActivityEvent, Interview, Participant, Study
from tests.commands.test_setup import _inputs, _open, _state, _submit
from tests.conftest import (
    ADA,
    BO,
    CLI,
    OUTSIDER,
    TEST_MAILER,
    WORKSPACE,
    MovableClock,
    Seed,
    SlackClient,
    berlin,
)
from tests.support.mail import invite_in, messages, text_of, with_smtp
from tests.support.smtp_servers import SmtpServer

START = berlin(8, 10)
END = START + timedelta(minutes=45)


@pytest.fixture
def settings(settings: Settings, smtp_server: SmtpServer) -> Settings:
    return with_smtp(settings, smtp_server)


@pytest.fixture
def worker(settings: Settings, services: Services) -> OutboxWorker:
    return build_outbox_worker(settings, services)


@pytest.fixture
def runner(services: Services) -> LifecycleRunner:
    return build_lifecycle_runner(services)


@pytest.fixture
def interview_id(slack: SlackClient, services: Services, seeded: Seed, worker: OutboxWorker, smtp_server: SmtpServer, db: Database) -> int:
    """Nora's interview in a study that warns 24 hours before; its card posted, then forgotten."""
    StudySettingsService(db).update(seeded.study_id, SettingsForm(unconfirmed_warning_hours="24", incentive="25 EUR"), CLI)
    booked = services.booking.book(study_ref=seeded.study_id, participant_email="nora@example.com", starts_at=START, host_id=ADA, actor=CLI)
    worker.drain()
    slack.fake.reset()
    smtp_server.received.clear()
    return booked.interview_id


def _tick(clock: MovableClock, moment: Any, runner: LifecycleRunner, worker: OutboxWorker) -> None:
    clock.now = moment
    runner.tick()
    worker.drain()


def _buttons(slack: SlackClient, note_text: str) -> dict[str, dict[str, Any]]:
    """The buttons of the latest thread note with ``note_text``, by label."""
    [*_, post] = [c.params for c in slack.fake.calls_to("chat.postMessage") if note_text in c.params.get("text", "")]
    return {e["text"]["text"]: e for b in post["blocks"] if b["type"] == "actions" for e in b["elements"]}


def _click(slack: SlackClient, button: dict[str, Any], *, user: str = ADA, value: str | None = None) -> None:
    response = slack.action(button["action_id"], value=value or button["value"], user=user)
    assert response.status_code == 200


def _replies(slack: SlackClient, count: int) -> list[str]:
    replies = [c.params for c in slack.fake.wait_for("response_url", count)]
    assert all(r["response_type"] == "ephemeral" for r in replies)
    return [r["text"] for r in replies]


def _thread_texts(slack: SlackClient, count: int) -> list[str]:
    return [c.params["text"] for c in slack.fake.wait_for("chat.postMessage", count) if c.params.get("thread_ts")]


def _warned(slack: SlackClient, clock: MovableClock, runner: LifecycleRunner, worker: OutboxWorker) -> dict[str, dict[str, Any]]:
    _tick(clock, START - timedelta(hours=24), runner, worker)
    buttons = _buttons(slack, "has not confirmed attendance")
    slack.fake.reset()
    return buttons


def _prompted(slack: SlackClient, clock: MovableClock, runner: LifecycleRunner, worker: OutboxWorker) -> dict[str, dict[str, Any]]:
    _tick(clock, END + timedelta(minutes=30), runner, worker)
    buttons = _buttons(slack, "How did it go?")
    slack.fake.reset()
    return buttons


def _status(db: Database, interview_id: int) -> InterviewStatus:
    with db.transaction() as session:
        return session.get(Interview, interview_id).status


# ---------------------------------------------------------------- Send reminder


def test_send_reminder_emails_the_participant_now_and_a_double_click_sends_once(
    slack: SlackClient, interview_id: int, clock: MovableClock, runner: LifecycleRunner, worker: OutboxWorker,
    smtp_server: SmtpServer, db: Database,
) -> None:
    button = _warned(slack, clock, runner, worker)["Send reminder"]
    smtp_server.received.clear()  # the 24-hour reminder went out with the warning
    clock.now = START - timedelta(hours=20)

    _click(slack, button)

    [reply] = _replies(slack, 1)
    assert reply.startswith("Reminder sent to Nora Quist, with the link to confirm attendance.") and "✓ Email to Nora Quist sent" in reply
    [email] = messages(smtp_server, to="nora@example.com")
    with db.transaction() as session:
        participant = session.scalars(select(Participant).where(Participant.email == "nora@example.com")).one()
        token = TEST_MAILER.links.token(participant.id, participant.token_nonce or "")
    assert f"Confirm attendance: http://participants.test/s/{token}/attend/{interview_id}?at={int(START.timestamp())}" in text_of(email)
    assert _thread_texts(slack, 1) == ["Reminder sent to Nora Quist (20 h before)."]

    _click(slack, button)  # the same button again, a moment later
    assert _replies(slack, 2)[1] == "A reminder went to Nora Quist a moment ago, so no second one was sent."
    assert len(messages(smtp_server, to="nora@example.com")) == 1
    with db.transaction() as session:
        sent = session.scalars(select(ActivityEvent).where(ActivityEvent.kind == ActivityKind.REMINDER_SENT,
                                                           ActivityEvent.actor_kind == ActorKind.MEMBER)).all()
        assert [(e.actor_slack_user_id, e.details["to"]) for e in sent] == [(ADA, "Nora Quist")]


def test_send_reminder_is_refused_to_outsiders_and_explains_a_moved_interview(
    slack: SlackClient, interview_id: int, clock: MovableClock, runner: LifecycleRunner, worker: OutboxWorker,
    services: Services, smtp_server: SmtpServer,
) -> None:
    button = _warned(slack, clock, runner, worker)["Send reminder"]
    smtp_server.received.clear()
    _click(slack, button, user=OUTSIDER)
    assert "Only the research team" in _replies(slack, 1)[0]

    services.changes.reschedule(interview_id, CLI, None, starts_at=START + timedelta(days=3))
    smtp_server.received.clear()
    _click(slack, button)
    assert "This interview was moved to" in _replies(slack, 2)[1]
    assert [m for m in messages(smtp_server) if str(m["Subject"]).startswith("Reminder")] == []


# ---------------------------------------------------------------- Release slot


def test_release_slot_cancels_with_the_reason_and_a_double_click_changes_nothing(
    slack: SlackClient, interview_id: int, clock: MovableClock, runner: LifecycleRunner, worker: OutboxWorker,
    smtp_server: SmtpServer, db: Database,
) -> None:
    button = _warned(slack, clock, runner, worker)["Release slot"]
    assert button["confirm"]["title"]["text"] == "Release this slot?"  # Slack asks before the click arrives
    smtp_server.received.clear()

    _click(slack, button)

    [reply] = _replies(slack, 1)
    assert reply.startswith("✓ Released the slot: the interview on") and "Nora Quist gets an email" in reply
    assert _status(db, interview_id) is InterviewStatus.CANCELED
    card = json.dumps(slack.fake.wait_for("chat.update")[0].params["blocks"], ensure_ascii=False)  # after the emails
    assert "Canceled" in card and "confirm your attendance" in card
    [email] = messages(smtp_server, to="nora@example.com")
    assert RELEASE_MESSAGE in text_of(email) and "Choose a new time" in text_of(email)
    calendar, event = invite_in(email)
    assert str(calendar["METHOD"]) == "CANCEL" and str(event["STATUS"]) == "CANCELLED"
    assert any("canceled" in t for t in _thread_texts(slack, 1))

    _click(slack, button)
    assert _replies(slack, 2)[1] == "Already canceled by you, so nothing changed."
    assert len(messages(smtp_server, to="nora@example.com")) == 1


def test_release_slot_is_refused_to_outsiders_and_explains_a_moved_interview(
    slack: SlackClient, interview_id: int, clock: MovableClock, runner: LifecycleRunner, worker: OutboxWorker,
    services: Services, db: Database,
) -> None:
    button = _warned(slack, clock, runner, worker)["Release slot"]
    _click(slack, button, user=OUTSIDER)
    assert "Only the research team" in _replies(slack, 1)[0]
    services.changes.reschedule(interview_id, Actor.slack_user(WORKSPACE, BO), None, starts_at=START + timedelta(days=3))
    _click(slack, button)
    assert f"This interview was moved by <@{BO}> to" in _replies(slack, 2)[1]
    assert _status(db, interview_id) is InterviewStatus.UPCOMING


# ---------------------------------------------------------------- the prompt: rating and Attended


def test_rating_from_the_prompt_and_changing_it(
    slack: SlackClient, interview_id: int, clock: MovableClock, runner: LifecycleRunner, worker: OutboxWorker, db: Database,
) -> None:
    buttons = _prompted(slack, clock, runner, worker)
    clock.now = END + timedelta(hours=1)

    _click(slack, buttons["★★★★"])
    assert _replies(slack, 1) == ["✓ Rated the session 4/5. Thank you! Next: *Send incentive* on the prompt or the card."]
    assert _thread_texts(slack, 1) == [f"<@{ADA}> rated the session 4/5."]
    assert len(slack.fake.wait_for("chat.update")) == 1

    _click(slack, buttons["★★★★"])  # a double click
    _replies(slack, 2)  # listeners run after the ack: let the repeat finish before Bo's change
    _click(slack, buttons["★★"], user=BO)
    replies = _replies(slack, 3)
    assert replies[1] == "Already rated 4/5 by you, so nothing changed."
    assert replies[2].startswith("✓ Rated the session 2/5 (was 4/5).")
    with db.transaction() as session:
        assert session.get(Interview, interview_id).rating == 2


def test_a_crafted_rating_is_refused_and_an_outsider_cannot_rate(
    slack: SlackClient, interview_id: int, clock: MovableClock, runner: LifecycleRunner, worker: OutboxWorker, db: Database,
) -> None:
    buttons = _prompted(slack, clock, runner, worker)
    crafted = buttons["★★★★★"]["value"].replace('"value":5', '"value":9')
    assert crafted != buttons["★★★★★"]["value"]
    _click(slack, buttons["★★★★★"], value=crafted)
    _click(slack, buttons["★★★★★"], user=OUTSIDER)
    replies = _replies(slack, 2)
    assert replies[0] == "A rating is 1 to 5 stars." and "Only the research team" in replies[1]
    with db.transaction() as session:
        assert session.get(Interview, interview_id).rating is None


def test_attended_confirms_once_and_a_stale_prompt_says_what_changed(
    slack: SlackClient, interview_id: int, clock: MovableClock, runner: LifecycleRunner, worker: OutboxWorker,
    services: Services, db: Database,
) -> None:
    buttons = _prompted(slack, clock, runner, worker)

    _click(slack, buttons["Attended"])
    assert _replies(slack, 1) == ["✓ Confirmed that Nora Quist attended. Next: *Send incentive* on the prompt or the card."]
    assert _thread_texts(slack, 1) == [f"<@{ADA}> confirmed the participant attended."]
    _click(slack, buttons["Attended"], user=BO)
    assert _replies(slack, 2)[1] == f"Attendance was already confirmed by <@{ADA}>, so nothing changed."

    _click(slack, buttons["Attended"], user=OUTSIDER)
    assert "Only the research team" in _replies(slack, 3)[2]

    services.outcomes.mark_no_show(interview_id, Actor.slack_user(WORKSPACE, BO))
    _click(slack, buttons["★★★"])
    _click(slack, buttons["Attended"])
    for stale in _replies(slack, 5)[3:]:
        assert f"was marked as a no-show by <@{BO}> since this was shown" in stale
    assert _status(db, interview_id) is InterviewStatus.NO_SHOW


# ---------------------------------------------------------------- the settings in the setup modal


def test_the_setup_modal_edits_the_reminders_the_grace_and_the_warning(slack: SlackClient, seeded: Seed, db: Database) -> None:
    view = _open(slack)
    inputs = _inputs(view)
    assert inputs["setup.reminders"]["initial_value"] == "24h, 1h"
    assert inputs["setup.completion_grace"]["initial_value"] == "30"
    assert "initial_value" not in inputs["setup.unconfirmed_warning"]  # off

    bad = _submit(slack, view, _state(view, reminders="20 days", completion_grace="-3")).json()
    assert bad["response_action"] == "errors"
    assert "5 minutes to 14 days" in bad["errors"]["setup.reminders"] and "negative" in bad["errors"]["setup.completion_grace"]

    assert _submit(slack, view, _state(view, reminders="48h, 2h, 15m", completion_grace="60", unconfirmed_warning="12")).text == ""
    with db.transaction() as session:
        study = session.get(Study, seeded.study_id)
        assert (study.reminder_offsets_minutes, study.completion_grace_minutes, study.unconfirmed_warning_hours) == ([2880, 120, 15], 60, 12)
    confirmation = json.dumps(slack.fake.wait_for("chat.postEphemeral")[0].params["blocks"], ensure_ascii=False)
    assert "*Reminders:* 48 h and 2 h and 15 min before · unconfirmed attendance flagged 12 h before" in confirmation
    slack.command("setup")
    reopened = _inputs(slack.fake.wait_for("views.open", 2)[1].params["view"])
    assert (reopened["setup.reminders"]["initial_value"], reopened["setup.unconfirmed_warning"]["initial_value"]) == ("48h, 2h, 15m", "12")
