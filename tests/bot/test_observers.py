"""Observer room, observer bot (the service that queues it and the deliverer that sends it, against a
real local notetaker server) and screener responses, on both databases."""

import json
import random
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.domain import Actor
from bot.integrations.notetaker import NotetakerClient, verify
from bot.jobs.notetaker_deliverer import NotetakerDeliverer
from bot.jobs.outbox_worker import OutboxWorker, RetryPolicy
from bot.services import Services
from bot.services.errors import Conflict, NotAllowed
from bot.services.interview_actions import Seen, StaleView
from bot.services.notifications import Notifier
from bot.services.observers import BotRequest, BotRequestState, NotConfigured, ObserverService
from storage.db import Database
from storage.enums import ActivityKind, InterviewStatus, OutboxKind, OutboxStatus
from storage.models import ActivityEvent, Interview, OutboxItem, Participant, Study
from tests.conftest import ADA, CLI, OUTSIDER, TEST_MAILER, WORKSPACE, MovableClock, Seed, berlin
from tests.support.fake_notetaker import FakeNotetaker

SECRET = "notetaker-test-secret"
AS_ADA = Actor.slack_user(WORKSPACE, ADA)
MEETING = "https://meet.example.com/ada"


@pytest.fixture
def notetaker() -> Iterator[FakeNotetaker]:
    with FakeNotetaker() as fake:
        yield fake


@pytest.fixture
def observers(services: Services) -> ObserverService:
    return ObserverService(services.db, services.clock)


def _book(services: Services, seed: Seed, email: str = "nora@example.com", hour: int = 10) -> int:
    return services.booking.book(study_ref=seed.study_id, participant_email=email, starts_at=berlin(6, hour), host_id=ADA, actor=CLI).interview_id


def _set_study(db: Database, seed: Seed, **values: Any) -> None:
    with db.transaction() as session:
        study = session.get(Study, seed.study_id)
        for name, value in values.items():
            setattr(study, name, value)


def _set_interview(db: Database, interview_id: int, **values: Any) -> None:
    with db.transaction() as session:
        interview = session.get(Interview, interview_id)
        for name, value in values.items():
            setattr(interview, name, value)


def _items(db: Database, kind: OutboxKind) -> list[OutboxItem]:
    with db.transaction() as session:
        return list(session.scalars(select(OutboxItem).where(OutboxItem.kind == kind).order_by(OutboxItem.id)))


def _notes(db: Database) -> list[dict[str, Any]]:
    return [i.payload["note"] for i in _items(db, OutboxKind.SLACK_POST) if "note" in i.payload]


def _bot_events(db: Database, interview_id: int) -> list[ActivityEvent]:
    with db.transaction() as session:
        return list(session.scalars(select(ActivityEvent).where(
            ActivityEvent.interview_id == interview_id, ActivityEvent.kind == ActivityKind.OBSERVER_BOT_SENT,
        ).order_by(ActivityEvent.id)))


def _worker(db: Database, clock: MovableClock, max_attempts: int = 3) -> OutboxWorker:
    deliverer = NotetakerDeliverer(NotetakerClient(SECRET, timeout=1), db, clock, Notifier(TEST_MAILER), max_attempts=max_attempts)
    return OutboxWorker(db, clock, {OutboxKind.NOTETAKER: deliverer}, policy=RetryPolicy(max_attempts=max_attempts), rng=random.Random(7))


@pytest.fixture
def with_notetaker(db: Database, seeded: Seed, notetaker: FakeNotetaker) -> Seed:
    _set_study(db, seeded, notetaker_url=notetaker.url)
    return seeded


def _send(observers: ObserverService, interview_id: int, actor: Actor = AS_ADA, **kw: Any) -> BotRequest:
    return observers.send_bot(interview_id, actor, seen=kw.pop("seen", None), notetaker_ready=kw.pop("ready", True))


# ---------------------------------------------------------------- observer room


def test_observer_room_is_the_studys_link_for_its_team_only(services: Services, seeded: Seed, observers: ObserverService, db: Database) -> None:
    interview_id = _book(services, seeded)
    assert observers.observer_room(interview_id, AS_ADA).url is None

    _set_study(db, seeded, observer_url="https://observe.example.com/checkout")
    room = observers.observer_room(interview_id, AS_ADA)
    assert (room.url, room.study_name, room.study_id) == ("https://observe.example.com/checkout", "Checkout redesign", seeded.study_id)
    with pytest.raises(NotAllowed):
        observers.observer_room(interview_id, Actor.slack_user(WORKSPACE, OUTSIDER))


# ---------------------------------------------------------------- observer bot: queuing


def test_send_bot_queues_one_request_with_the_meeting_and_names_only(services: Services, with_notetaker: Seed, observers: ObserverService, db: Database, notetaker: FakeNotetaker) -> None:
    interview_id = _book(services, with_notetaker)

    sent = _send(observers, interview_id, seen=Seen.of(int(berlin(6, 10).timestamp()), InterviewStatus.UPCOMING))

    assert sent.state is BotRequestState.QUEUED and sent.meeting_url == MEETING
    [item] = _items(db, OutboxKind.NOTETAKER)
    assert item.id == sent.outbox_id and item.interview_id == interview_id and item.status is OutboxStatus.PENDING
    payload = item.payload
    assert payload["url"] == notetaker.url and payload["meeting_url"] == MEETING
    body = payload["body"]
    assert body["meeting_url"] == MEETING and body["delivery_id"] == item.idempotency_key
    assert body["interview"] == {
        "id": interview_id, "study": "Checkout redesign", "session": "Checkout redesign interview",
        "starts_at": berlin(6, 10).astimezone(item.created_at.tzinfo).isoformat(),
        "ends_at": (berlin(6, 10) + timedelta(minutes=45)).astimezone(item.created_at.tzinfo).isoformat(),
        "participants": ["Nora Quist"],
    }
    assert body["requested_by"]["slack_user_id"] == ADA
    assert "nora@example.com" not in json.dumps(body)
    assert payload["timeline"]["kind"] == "observer_bot_sent" and payload["timeline"]["actor_slack_user_id"] == ADA


def test_a_second_click_for_the_same_meeting_queues_nothing(services: Services, with_notetaker: Seed, observers: ObserverService, db: Database, clock: MovableClock, notetaker: FakeNotetaker) -> None:
    interview_id = _book(services, with_notetaker)
    first = _send(observers, interview_id)

    again = _send(observers, interview_id)
    assert again.state is BotRequestState.ON_ITS_WAY and again.outbox_id is None

    _worker(db, clock).deliver_now([first.outbox_id])
    after = _send(observers, interview_id)
    assert after.state is BotRequestState.ALREADY_SENT and after.at == clock()
    assert len(_items(db, OutboxKind.NOTETAKER)) == 1 and len(notetaker.received) == 1

    # A new meeting link is a new meeting: it may get its own bot.
    _set_interview(db, interview_id, conferencing_url="https://meet.example.com/new-room")
    moved = _send(observers, interview_id)
    assert moved.state is BotRequestState.QUEUED and moved.meeting_url == "https://meet.example.com/new-room"
    assert len(_items(db, OutboxKind.NOTETAKER)) == 2


def test_without_a_notetaker_or_the_secret_nothing_is_queued(services: Services, seeded: Seed, observers: ObserverService, db: Database, notetaker: FakeNotetaker) -> None:
    interview_id = _book(services, seeded)

    with pytest.raises(NotConfigured, match="No notetaker is set up for \\*Checkout redesign\\*.*--notetaker-url"):
        _send(observers, interview_id)
    _set_study(db, seeded, notetaker_url=notetaker.url)
    with pytest.raises(NotConfigured, match="NOTETAKER_SECRET"):
        _send(observers, interview_id, ready=False)

    assert _items(db, OutboxKind.NOTETAKER) == []


def test_refused_for_outsiders_stale_views_past_interviews_and_missing_links(services: Services, with_notetaker: Seed, observers: ObserverService, db: Database, clock: MovableClock) -> None:
    interview_id = _book(services, with_notetaker)

    with pytest.raises(NotAllowed):
        _send(observers, interview_id, Actor.slack_user(WORKSPACE, OUTSIDER))
    with pytest.raises(StaleView):  # shown at 9:00, moved to 10:00 since
        _send(observers, interview_id, seen=Seen.of(int(berlin(6, 9).timestamp()), InterviewStatus.UPCOMING))
    _set_interview(db, interview_id, conferencing_url=None)
    with pytest.raises(Conflict, match="no meeting link yet"):
        _send(observers, interview_id)
    _set_interview(db, interview_id, conferencing_url=MEETING)
    clock.now = berlin(6, 11)
    with pytest.raises(Conflict, match="is over"):
        _send(observers, interview_id)

    assert _items(db, OutboxKind.NOTETAKER) == []


# ---------------------------------------------------------------- observer bot: delivering


def test_delivery_signs_the_request_and_tells_the_timeline_and_the_thread(services: Services, with_notetaker: Seed, observers: ObserverService, db: Database, clock: MovableClock, notetaker: FakeNotetaker) -> None:
    interview_id = _book(services, with_notetaker)
    sent = _send(observers, interview_id)

    [state] = _worker(db, clock).deliver_now([sent.outbox_id])

    assert state.status is OutboxStatus.SENT
    [request] = notetaker.received
    assert verify(SECRET, request.headers, request.body)
    assert request.json["meeting_url"] == MEETING and request.json["interview"]["id"] == interview_id
    [event] = _bot_events(db, interview_id)
    assert event.details == {"ok": True} and event.actor_slack_user_id == ADA
    assert _notes(db)[-1] == {"kind": "observer_bot", "ok": True, "by": ADA}


def test_a_notetaker_error_is_retried_then_given_up_with_the_reason(services: Services, with_notetaker: Seed, observers: ObserverService, db: Database, clock: MovableClock, notetaker: FakeNotetaker) -> None:
    interview_id = _book(services, with_notetaker)
    sent = _send(observers, interview_id)
    worker = _worker(db, clock, max_attempts=2)
    notetaker.answer_next(500, times=2)

    [state] = worker.deliver_now([sent.outbox_id])
    assert state.status is OutboxStatus.PENDING and "HTTP 500" in (state.last_error or "")
    assert _bot_events(db, interview_id) == [] and all(n["kind"] != "observer_bot" for n in _notes(db))

    clock.advance(hours=1)
    assert worker.drain().failed == 1  # the second attempt was the last
    [event] = _bot_events(db, interview_id)
    assert event.details["ok"] is False and "HTTP 500" in event.details["error"] and event.actor_slack_user_id == ADA
    note = _notes(db)[-1]
    assert note["kind"] == "observer_bot" and note["ok"] is False and "HTTP 500" in note["error"]

    # Asking again after a failure tries again, with the same request.
    again = _send(observers, interview_id)
    assert again.state is BotRequestState.QUEUED_AGAIN and again.outbox_id == sent.outbox_id
    [state] = worker.deliver_now([again.outbox_id])
    assert state.status is OutboxStatus.SENT and len(notetaker.received) == 3
    assert [e.details["ok"] for e in _bot_events(db, interview_id)] == [False, True]


def test_a_refusal_fails_at_once(services: Services, with_notetaker: Seed, observers: ObserverService, db: Database, clock: MovableClock, notetaker: FakeNotetaker) -> None:
    interview_id = _book(services, with_notetaker)
    sent = _send(observers, interview_id)
    notetaker.answer_next(422, body='{"error": "meeting provider not supported"}')

    [state] = _worker(db, clock).deliver_now([sent.outbox_id])

    assert state.status is OutboxStatus.FAILED and "meeting provider not supported" in (state.last_error or "")
    assert _bot_events(db, interview_id)[0].details["ok"] is False
    assert _notes(db)[-1]["ok"] is False


@pytest.mark.parametrize(("change", "reason"), [
    ({"status": InterviewStatus.CANCELED}, "the interview is canceled"),
    ({"conferencing_url": "https://meet.example.com/other"}, "the meeting link changed"),
])
def test_no_bot_for_a_meeting_that_changed_before_delivery(services: Services, with_notetaker: Seed, observers: ObserverService, db: Database, clock: MovableClock, notetaker: FakeNotetaker, change: dict[str, Any], reason: str) -> None:
    interview_id = _book(services, with_notetaker)
    sent = _send(observers, interview_id)
    _set_interview(db, interview_id, **change)

    [state] = _worker(db, clock).deliver_now([sent.outbox_id])

    assert notetaker.received == []
    assert state.status is OutboxStatus.FAILED and reason in (state.last_error or "")
    assert _notes(db)[-1]["ok"] is False


def test_no_bot_once_the_interview_has_ended(services: Services, with_notetaker: Seed, observers: ObserverService, db: Database, clock: MovableClock, notetaker: FakeNotetaker) -> None:
    interview_id = _book(services, with_notetaker)
    sent = _send(observers, interview_id)
    clock.now = berlin(6, 11)

    [state] = _worker(db, clock).deliver_now([sent.outbox_id])

    assert notetaker.received == [] and state.status is OutboxStatus.FAILED and "ended" in (state.last_error or "")


# ---------------------------------------------------------------- screener responses


def _screen(services: Services, db: Database, seed: Seed) -> None:
    _set_study(db, seed, immediate_scheduling=True, participant_limit=2, screener=[
        {"id": "q1", "question": "How often do you shop online?", "choices": ["Weekly", "Rarely"], "qualifying": ["Weekly"]},
        {"id": "q2", "question": "What annoys you <most>?", "choices": [], "qualifying": []},
    ])
    with db.transaction() as session:
        nora_id = session.scalars(select(Participant.id).where(Participant.email == "nora@example.com")).one()
    token = services.participants.scheduling_link(nora_id).rsplit("/", 1)[-1]
    services.screener.submit(token, {"q1": "Weekly", "q2": "Forms that <b>forget</b> me & my card"})


def test_screener_responses_per_participant_in_the_order_asked(services: Services, seeded: Seed, observers: ObserverService, db: Database) -> None:
    _screen(services, db, seeded)
    interview_id = _book(services, seeded)
    _set_study(db, seeded, immediate_scheduling=False)  # Otto is booked by the team, unscreened
    assert _book(services, seeded, "otto@example.com") == interview_id  # the same group slot

    answers = observers.screener_responses(interview_id, AS_ADA)

    assert answers.study_name == "Checkout redesign" and answers.starts_at == berlin(6, 10)
    nora, otto = answers.participants
    assert nora.name == "Nora Quist" and nora.qualified is True
    assert [(a.question, a.answer) for a in nora.answers] == [
        ("How often do you shop online?", "Weekly"),
        ("What annoys you <most>?", "Forms that <b>forget</b> me & my card"),
    ]
    assert otto.name == "Otto Berg" and otto.qualified is None and otto.answers == ()
    with pytest.raises(NotAllowed):
        observers.screener_responses(interview_id, Actor.slack_user(WORKSPACE, OUTSIDER))
