"""Ask to reschedule, the button on a decline in the card's thread, through signed requests:
the reschedule request reaches the real SMTP server once (double clicks too), the clicker gets
an ephemeral answer, and outsiders and stale buttons change nothing. On both databases."""

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import select

from blocks.ids import ActionChoice, action_button_id
from bot.actions import InterviewAction
from bot.composition import build_outbox_worker
from bot.domain import Actor
from bot.jobs.outbox_worker import OutboxWorker
from bot.services import Services
from bot.services.attendance import Answer, AttendanceService
from bot.services.notifications import Notifier
from bot.settings import Settings
from storage.db import Database
from storage.enums import ActivityKind, InterviewStatus
from storage.models import ActivityEvent, Interview, Study, TeamMember
from tests.conftest import (
    ADA,
    BO,
    CHANNEL,
    CLI,
    OUTSIDER,
    WORKSPACE,
    Seed,
    SlackClient,
    berlin,
)
from tests.support.mail import messages, text_of, with_smtp
from tests.support.smtp_servers import SmtpServer
from tests.web import link_for

A = InterviewAction
START = berlin(8, 10)
ASK = action_button_id(A.ASK_TO_RESCHEDULE)
REQUEST_SUBJECT = "Could we find a new time for your Checkout redesign interview?"


@pytest.fixture
def settings(settings: Settings, smtp_server: SmtpServer) -> Settings:
    return with_smtp(settings, smtp_server)


@pytest.fixture
def worker(settings: Settings, services: Services) -> OutboxWorker:
    return build_outbox_worker(settings, services)


@pytest.fixture
def attendance(services: Services) -> AttendanceService:
    return AttendanceService(services.db, services.clock, Notifier(services.mailer), services.mailer)


def _token(services: Services, seed: Seed, email: str) -> str:
    [participant] = [p for p in services.participants.list(seed.study_id) if p.email == email]
    return link_for(services, participant.id).token


def _book(services: Services, seed: Seed, email: str = "nora@example.com") -> int:
    return services.booking.book(study_ref=seed.study_id, participant_email=email, starts_at=START, host_id=ADA, actor=CLI).interview_id


def _decline(
    slack: SlackClient, services: Services, seed: Seed, worker: OutboxWorker, attendance: AttendanceService,
    interview_id: int, email: str = "nora@example.com",
) -> tuple[str, str]:
    """The participant says No; the thread note is posted. Returns the note's ts and its button's value."""
    before = len(slack.fake.calls_to("chat.postMessage"))
    assert attendance.respond(_token(services, seed, email), interview_id, Answer.NO).changed
    assert worker.drain().failed == 0
    [note] = [c for c in slack.fake.calls_to("chat.postMessage")[before:] if c.params.get("thread_ts")]
    [button] = [e for b in note.params["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert (button["action_id"], button["text"]["text"]) == (ASK, "Ask to reschedule")
    assert note.ts is not None
    return note.ts, button["value"]


@pytest.fixture
def declined(
    slack: SlackClient, services: Services, seeded: Seed, worker: OutboxWorker, attendance: AttendanceService, db: Database,
) -> tuple[int, str, str]:
    """Nora's interview, booked and declined, with Ada's email known (replies go to her)."""
    with db.transaction() as session:
        ada = session.scalars(select(TeamMember).where(TeamMember.slack_user_id == ADA)).one()
        ada.email, ada.display_name = "ada@example.com", "Ada"
    interview_id = _book(services, seeded)
    worker.drain()
    note_ts, value = _decline(slack, services, seeded, worker, attendance, interview_id)
    return interview_id, note_ts, value


def _click(slack: SlackClient, value: str, note_ts: str, *, user: str = ADA) -> None:
    response = slack.action(ASK, value=value, user=user, message_ts=note_ts)
    assert response.status_code == 200


def _replies(slack: SlackClient, count: int) -> list[str]:
    replies = [c.params for c in slack.fake.wait_for("response_url", count)]
    assert all(r["response_type"] == "ephemeral" for r in replies)
    return [r["text"] for r in replies]


def _requests(smtp: SmtpServer, to: str = "nora@example.com") -> list[Any]:
    return [m for m in messages(smtp, to=to) if str(m["Subject"]) == REQUEST_SUBJECT]


def _timeline(db: Database, interview_id: int) -> list[dict[str, Any]]:
    with db.transaction() as session:
        return [e.details for e in session.scalars(select(ActivityEvent).where(
            ActivityEvent.interview_id == interview_id, ActivityEvent.kind == ActivityKind.EMAIL_SENT,
        )) if e.details.get("template") == "reschedule_request"]


def _requested(db: Database, interview_id: int) -> bool:
    with db.transaction() as session:
        interview = session.get(Interview, interview_id)
        assert interview is not None
        return interview.reschedule_requested_at is not None


def test_one_click_sends_the_reschedule_request_as_the_compose_modal_would(
    slack: SlackClient, services: Services, seeded: Seed, smtp_server: SmtpServer, db: Database,
    declined: tuple[int, str, str],
) -> None:
    interview_id, note_ts, value = declined
    prefill = services.composed_emails.compose_form(interview_id, Actor.slack_user(WORKSPACE, ADA), A.RESCHEDULE_EMAIL)

    _click(slack, value, note_ts)

    [reply] = _replies(slack, 1)
    assert reply == "Asked Nora Quist to pick a new time.\n✓ Email to Nora Quist sent"  # delivered at once
    [email] = _requests(smtp_server)
    body = text_of(email)
    token = _token(services, seeded, "nora@example.com")
    expected = prefill.body.replace("{name}", "Nora Quist").replace("{study}", "Checkout redesign")
    expected = expected.replace("{time}", "Fri 8 March 2030, 10:00–10:45 (Europe/Berlin)")
    expected = expected.replace("{scheduling_link}", f"http://participants.test/s/{token}")
    assert body.replace("\r\n", "\n").strip() == expected.strip()
    assert "Ada, for the Checkout redesign team" in body
    assert str(email["Reply-To"]) == "Ada <ada@example.com>"
    assert _timeline(db, interview_id) == [{"template": "reschedule_request", "subject": REQUEST_SUBJECT, "to": "Nora Quist"}]
    assert _requested(db, interview_id)  # their link now lets them move it


def test_a_double_click_sends_once_and_says_so(
    slack: SlackClient, smtp_server: SmtpServer, db: Database, declined: tuple[int, str, str],
) -> None:
    interview_id, note_ts, value = declined
    _click(slack, value, note_ts)
    _replies(slack, 1)
    _click(slack, value, note_ts)

    assert _replies(slack, 2)[1] == "Already asked Nora Quist to pick a new time."
    assert len(_requests(smtp_server)) == 1 and len(_timeline(db, interview_id)) == 1


def test_two_clicks_at_the_same_moment_send_once(
    slack: SlackClient, smtp_server: SmtpServer, db: Database, declined: tuple[int, str, str],
) -> None:
    interview_id, note_ts, value = declined
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(lambda _: _click(slack, value, note_ts), range(2)))

    replies = _replies(slack, 2)
    assert sorted(r.split(" ")[0] for r in replies) == ["Already", "Asked"]
    assert len(_requests(smtp_server)) == 1


def test_in_a_group_slot_only_those_who_declined_are_asked(
    slack: SlackClient, services: Services, seeded: Seed, worker: OutboxWorker, attendance: AttendanceService,
    smtp_server: SmtpServer, db: Database,
) -> None:
    with db.transaction() as session:
        session.get(Study, seeded.study_id).participant_limit = 3
    interview_id = _book(services, seeded)
    assert _book(services, seeded, "otto@example.com") == interview_id
    worker.drain()
    note_ts, value = _decline(slack, services, seeded, worker, attendance, interview_id, "otto@example.com")

    _click(slack, value, note_ts, user=BO)

    assert _replies(slack, 1)[0].startswith("Asked Otto Berg to pick a new time.")
    assert len(_requests(smtp_server, "otto@example.com")) == 1
    assert _requests(smtp_server, "nora@example.com") == []


def test_someone_outside_the_team_is_refused_and_nothing_is_sent(
    slack: SlackClient, smtp_server: SmtpServer, db: Database, declined: tuple[int, str, str],
) -> None:
    interview_id, note_ts, value = declined
    _click(slack, value, note_ts, user=OUTSIDER)

    [reply] = _replies(slack, 1)
    assert reply.startswith("Only the research team of *Checkout redesign*")
    assert _requests(smtp_server) == [] and not _requested(db, interview_id)


def test_a_button_from_before_the_interview_moved_says_what_changed(
    slack: SlackClient, services: Services, smtp_server: SmtpServer, db: Database, declined: tuple[int, str, str],
) -> None:
    interview_id, note_ts, value = declined
    services.changes.reschedule(interview_id, Actor.slack_user(WORKSPACE, BO), None, starts_at=berlin(7, 14))

    _click(slack, value, note_ts)

    [reply] = _replies(slack, 1)
    assert "moved" in reply.lower() and f"<@{BO}>" in reply
    assert _requests(smtp_server) == [] and not _requested(db, interview_id)


def test_a_button_after_the_interview_was_canceled_sends_nothing(
    slack: SlackClient, services: Services, smtp_server: SmtpServer, declined: tuple[int, str, str],
) -> None:
    interview_id, note_ts, value = declined
    services.outcomes.cancel(interview_id, Actor.slack_user(WORKSPACE, BO))

    _click(slack, value, note_ts)

    [reply] = _replies(slack, 1)
    assert "cancel" in reply.lower()
    assert _requests(smtp_server) == []


def test_after_the_participant_answered_yes_again_nothing_is_sent(
    slack: SlackClient, services: Services, seeded: Seed, attendance: AttendanceService, smtp_server: SmtpServer,
    db: Database, declined: tuple[int, str, str],
) -> None:
    interview_id, note_ts, value = declined
    attendance.respond(_token(services, seeded, "nora@example.com"), interview_id, Answer.YES)

    _click(slack, value, note_ts)

    [reply] = _replies(slack, 1)
    assert reply.startswith("Nobody has declined this interview any more")
    assert _requests(smtp_server) == [] and not _requested(db, interview_id)


def test_the_note_is_in_the_cards_thread_and_its_button_names_the_interview_as_shown(
    slack: SlackClient, db: Database, declined: tuple[int, str, str],
) -> None:
    interview_id, note_ts, value = declined
    with db.transaction() as session:
        card_ts = session.get(Interview, interview_id).slack_card_ts
    [note] = [c for c in slack.fake.calls_to("chat.postMessage") if c.ts == note_ts]
    assert (note.params["channel"], note.params["thread_ts"]) == (CHANNEL, card_ts)
    assert note.params["text"] == "Nora Quist declined the invite ✗."
    choice = ActionChoice.decode(value)
    assert (choice.action, choice.interview_id) == (A.ASK_TO_RESCHEDULE, interview_id)
    assert (choice.seen_start, choice.seen_status) == (int(START.timestamp()), InterviewStatus.UPCOMING)
