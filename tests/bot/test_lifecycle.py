"""The interview lifecycle through the real tick: completed by itself after the study's grace (not
when someone marked a no-show), the post-interview prompt in the card's thread and its one repeat
the next day; the prompt's answers (rating, attended) as services, on both databases."""

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
from bot.services.errors import Conflict, InvalidInput
from bot.services.interview_actions import Seen, StaleView
from bot.services.lifecycle import LifecycleService
from bot.services.notifications import Notifier
from bot.services.study_settings import SettingsForm, StudySettingsService
from bot.settings import Settings
from storage.db import Database
from storage.enums import ActivityKind, ActorKind, InterviewStatus, ParticipantStatus
from storage.models import ActivityEvent, Attendee, Interview, Participant, Study
from tests.conftest import ADA, BO, CLI, WORKSPACE, MovableClock, Seed, berlin
from tests.support.fake_slack import FakeSlackAPI

START = berlin(8, 10)
END = START + timedelta(minutes=45)
GRACE = timedelta(minutes=30)  # the default
AS_ADA = Actor.slack_user(WORKSPACE, ADA)
AS_BO = Actor.slack_user(WORKSPACE, BO)


@pytest.fixture
def worker(settings: Settings, services: Services) -> OutboxWorker:
    return build_outbox_worker(settings, services)


@pytest.fixture
def runner(services: Services) -> LifecycleRunner:
    return build_lifecycle_runner(services)


@pytest.fixture
def lifecycle(services: Services) -> LifecycleService:
    return LifecycleService(services.db, services.clock, Notifier(services.mailer))


@pytest.fixture
def interview_id(services: Services, seeded: Seed, worker: OutboxWorker, fake_slack: FakeSlackAPI) -> int:
    """Nora's interview, its card posted; then the Slack calls are forgotten."""
    booked = services.booking.book(study_ref=seeded.study_id, participant_email="nora@example.com", starts_at=START, host_id=ADA, actor=CLI)
    worker.drain()
    fake_slack.reset()
    return booked.interview_id


def _at(clock: MovableClock, moment: Any, runner: LifecycleRunner, worker: OutboxWorker) -> None:
    clock.now = moment
    runner.tick()
    worker.drain()


def _status(db: Database, interview_id: int) -> InterviewStatus:
    with db.transaction() as session:
        return session.get(Interview, interview_id).status


def _thread(fake_slack: FakeSlackAPI) -> list[dict[str, Any]]:
    return [c.params for c in fake_slack.calls_to("chat.postMessage") if c.params.get("thread_ts")]


def _prompts(fake_slack: FakeSlackAPI) -> list[dict[str, Any]]:
    return [p for p in _thread(fake_slack) if "How did it go?" in p["text"]]


def _buttons(post: dict[str, Any]) -> list[str]:
    return [e["text"]["text"] for b in post.get("blocks") or [] if b["type"] == "actions" for e in b["elements"]]


# ---------------------------------------------------------------- completed by itself


def test_an_interview_is_marked_completed_after_the_grace_and_the_team_is_asked_how_it_went(
    interview_id: int, clock: MovableClock, runner: LifecycleRunner, worker: OutboxWorker, db: Database, fake_slack: FakeSlackAPI,
) -> None:
    with db.transaction() as session:
        study = session.get(Interview, interview_id).study
        study.incentive_amount, study.incentive_currency = 25, "EUR"
    _at(clock, END + GRACE - timedelta(minutes=1), runner, worker)
    assert _status(db, interview_id) is InterviewStatus.UPCOMING and _thread(fake_slack) == []

    _at(clock, END + GRACE, runner, worker)

    assert _status(db, interview_id) is InterviewStatus.COMPLETED
    with db.transaction() as session:
        seat = session.scalars(select(Attendee).where(Attendee.interview_id == interview_id, Attendee.participant_id.is_not(None))).one()
        assert seat.attended is True and seat.participant.status is ParticipantStatus.COMPLETED
        [event] = session.scalars(select(ActivityEvent).where(ActivityEvent.kind == ActivityKind.COMPLETED)).all()
        assert event.actor_kind is ActorKind.SYSTEM and event.actor_name == "Interview Desk"
    [card] = fake_slack.calls_to("chat.update")
    assert "*Completed*" in json.dumps(card.params["blocks"], ensure_ascii=False)
    notes = _thread(fake_slack)
    assert [n["text"] for n in notes] == [
        "The interview has ended and is marked completed.", "How did it go? Rate the session and confirm attendance."]
    assert _buttons(notes[1]) == ["★", "★★", "★★★", "★★★★", "★★★★★", "Attended", "No-show", "Send incentive"]

    for hours in (1, 5):  # later ticks, here or on a restarted server, ask nothing more
        _at(clock, END + GRACE + timedelta(hours=hours), runner, worker)
    _at(clock, END + GRACE + timedelta(hours=6), _another_server(runner), worker)
    assert len(_prompts(fake_slack)) == 1 and len(fake_slack.calls_to("chat.update")) == 1


def _another_server(runner: LifecycleRunner) -> LifecycleRunner:
    """Another server (or this one restarted) on the same database."""
    return LifecycleRunner(runner.db, runner.clock, runner.reminders, runner.lifecycle)


def test_the_grace_is_the_studys_own(
    interview_id: int, seeded: Seed, clock: MovableClock, runner: LifecycleRunner, worker: OutboxWorker, db: Database,
) -> None:
    StudySettingsService(db).update(seeded.study_id, SettingsForm(completion_grace_minutes="120"), CLI)
    _at(clock, END + timedelta(minutes=119), runner, worker)
    assert _status(db, interview_id) is InterviewStatus.UPCOMING
    _at(clock, END + timedelta(minutes=120), runner, worker)
    assert _status(db, interview_id) is InterviewStatus.COMPLETED


def test_a_no_show_or_a_cancellation_is_never_turned_into_completed(
    services: Services, seeded: Seed, interview_id: int, clock: MovableClock, runner: LifecycleRunner, worker: OutboxWorker,
    db: Database, fake_slack: FakeSlackAPI,
) -> None:
    other = services.booking.book(study_ref=seeded.study_id, participant_email="otto@example.com", starts_at=berlin(8, 14),
                                  host_id=ADA, actor=CLI).interview_id
    services.outcomes.cancel(other, CLI, message=None)
    clock.now = END + timedelta(minutes=5)
    services.outcomes.mark_no_show(interview_id, AS_ADA)
    worker.drain()
    for moment in (END + GRACE, berlin(9, 12), berlin(10, 12)):
        _at(clock, moment, runner, worker)
    assert _status(db, interview_id) is InterviewStatus.NO_SHOW and _status(db, other) is InterviewStatus.CANCELED
    assert _prompts(fake_slack) == []
    with db.transaction() as session:
        assert session.scalars(select(Participant.status).where(Participant.email == "nora@example.com")).one() is ParticipantStatus.NO_SHOW


def test_someone_marked_as_not_attending_in_a_group_stays_so(
    services: Services, seeded: Seed, clock: MovableClock, runner: LifecycleRunner, worker: OutboxWorker, db: Database,
) -> None:
    with db.transaction() as session:
        session.get(Study, seeded.study_id).participant_limit = 3
    for email in ("nora@example.com", "otto@example.com"):
        interview_id = services.booking.book(study_ref=seeded.study_id, participant_email=email, starts_at=START, host_id=ADA, actor=CLI).interview_id
    with db.transaction() as session:  # marked while it was still upcoming, e.g. by a calendar sync
        otto = session.scalars(select(Attendee).where(Attendee.email == "otto@example.com")).one()
        otto.attended = False
    _at(clock, END + GRACE, runner, worker)
    with db.transaction() as session:
        marks = {a.display_name: a.attended for a in session.get(Interview, interview_id).attendees if a.participant_id}
    assert marks == {"Nora Quist": True, "Otto Berg": False}


# ---------------------------------------------------------------- the prompt's one repeat


def test_an_unanswered_prompt_is_raised_again_once_the_next_day(
    interview_id: int, clock: MovableClock, runner: LifecycleRunner, worker: OutboxWorker, fake_slack: FakeSlackAPI,
) -> None:
    _at(clock, END + GRACE, runner, worker)
    _at(clock, END + GRACE + timedelta(hours=23, minutes=59), runner, worker)
    assert len(_prompts(fake_slack)) == 1

    _at(clock, END + GRACE + timedelta(days=1), runner, worker)
    prompts = _prompts(fake_slack)
    assert [p["text"] for p in prompts] == [
        "How did it go? Rate the session and confirm attendance.",
        "Reminder: How did it go? Rate the session and confirm attendance."]
    assert _buttons(prompts[1])[:6] == ["★", "★★", "★★★", "★★★★", "★★★★★", "Attended"]

    for moment in (timedelta(days=1, minutes=1), timedelta(days=2), timedelta(days=3)):
        _at(clock, END + GRACE + moment, runner, worker)
    _at(clock, END + GRACE + timedelta(days=2), _another_server(runner), worker)
    assert len(_prompts(fake_slack)) == 2


def test_a_restart_the_next_day_still_raises_the_prompt_once(
    interview_id: int, clock: MovableClock, runner: LifecycleRunner, worker: OutboxWorker, fake_slack: FakeSlackAPI,
) -> None:
    _at(clock, END + GRACE, runner, worker)
    restarted = _another_server(runner)
    _at(clock, END + GRACE + timedelta(days=1, hours=3), restarted, worker)
    _at(clock, END + GRACE + timedelta(days=1, hours=4), restarted, worker)
    assert len(_prompts(fake_slack)) == 2


@pytest.mark.parametrize("answer", ["rated", "attended", "no_show"])
def test_an_answered_prompt_is_not_raised_again(
    answer: str, interview_id: int, clock: MovableClock, runner: LifecycleRunner, worker: OutboxWorker,
    lifecycle: LifecycleService, services: Services, fake_slack: FakeSlackAPI,
) -> None:
    _at(clock, END + GRACE, runner, worker)
    clock.now = END + GRACE + timedelta(hours=2)
    if answer == "rated":
        lifecycle.rate(interview_id, AS_BO, None, 4)
    elif answer == "attended":
        lifecycle.confirm_attended(interview_id, AS_BO, None)
    else:
        services.outcomes.mark_no_show(interview_id, AS_BO)
    for days in (1, 2):
        _at(clock, END + GRACE + timedelta(days=days), runner, worker)
    assert len(_prompts(fake_slack)) == 1


# ---------------------------------------------------------------- the prompt's answers


def test_rating_records_who_rated_and_a_new_rating_replaces_it(
    interview_id: int, clock: MovableClock, runner: LifecycleRunner, worker: OutboxWorker, lifecycle: LifecycleService, db: Database,
) -> None:
    _at(clock, END + GRACE, runner, worker)
    first = lifecycle.rate(interview_id, AS_ADA, Seen.of(int(START.timestamp()), InterviewStatus.COMPLETED), 3)
    assert first.changed and first.previous_rating is None and first.outbox_ids
    repeat = lifecycle.rate(interview_id, AS_ADA, None, 3)
    assert not repeat.changed and repeat.outbox_ids == () and repeat.already_by.slack_user_id == ADA  # type: ignore[union-attr]
    second = lifecycle.rate(interview_id, AS_BO, None, 5)
    assert second.changed and second.previous_rating == 3
    with db.transaction() as session:
        assert session.get(Interview, interview_id).rating == 5
        events = session.scalars(select(ActivityEvent).where(ActivityEvent.kind == ActivityKind.RATED).order_by(ActivityEvent.id)).all()
        assert [(e.actor_slack_user_id, e.details) for e in events] == [(ADA, {"rating": 3}), (BO, {"rating": 5, "previous": 3})]


@pytest.mark.parametrize("rating", [None, 0, 6, 42])
def test_a_rating_is_one_to_five(rating: int | None, interview_id: int, clock: MovableClock, lifecycle: LifecycleService) -> None:
    clock.now = END + GRACE
    with pytest.raises(InvalidInput, match="1 to 5 stars"):
        lifecycle.rate(interview_id, AS_ADA, None, rating)


def test_rating_is_refused_before_the_interview_and_for_a_no_show_or_an_outsider(
    interview_id: int, clock: MovableClock, lifecycle: LifecycleService, services: Services,
) -> None:
    with pytest.raises(Conflict, match="hasn't taken place yet"):
        lifecycle.rate(interview_id, AS_ADA, None, 4)
    clock.now = END
    services.outcomes.mark_no_show(interview_id, AS_ADA)
    with pytest.raises(Conflict, match="no session to rate"):
        lifecycle.rate(interview_id, AS_ADA, None, 4)
    with pytest.raises(StaleView):  # the prompt was shown while it was completed
        lifecycle.rate(interview_id, AS_ADA, Seen.of(int(START.timestamp()), InterviewStatus.COMPLETED), 4)


def test_attended_confirms_the_automatic_completion_once_and_corrects_a_no_show(
    interview_id: int, clock: MovableClock, runner: LifecycleRunner, worker: OutboxWorker, lifecycle: LifecycleService,
    services: Services, db: Database,
) -> None:
    _at(clock, END + GRACE, runner, worker)
    confirmed = lifecycle.confirm_attended(interview_id, AS_ADA, Seen.of(int(START.timestamp()), InterviewStatus.COMPLETED))
    assert confirmed.changed and confirmed.interview.status is InterviewStatus.COMPLETED
    again = lifecycle.confirm_attended(interview_id, AS_BO, None)
    assert not again.changed and again.already_by.slack_user_id == ADA  # type: ignore[union-attr]

    services.outcomes.mark_no_show(interview_id, AS_BO)
    corrected = lifecycle.confirm_attended(interview_id, AS_ADA, None)
    assert corrected.changed and corrected.interview.status is InterviewStatus.COMPLETED
    with db.transaction() as session:
        assert session.scalars(select(Participant.status).where(Participant.email == "nora@example.com")).one() is ParticipantStatus.COMPLETED
        events = session.scalars(select(ActivityEvent).where(ActivityEvent.actor_slack_user_id == ADA).order_by(ActivityEvent.id)).all()
        assert [e.details for e in events] == [{"attended": ["Nora Quist"]}, {"attended": ["Nora Quist"], "previous": "no_show"}]


def test_attended_on_an_interview_still_awaiting_its_outcome_completes_it(
    interview_id: int, clock: MovableClock, lifecycle: LifecycleService, db: Database,
) -> None:
    with pytest.raises(Conflict, match="hasn't taken place yet"):
        lifecycle.confirm_attended(interview_id, AS_ADA, None)
    clock.now = END + timedelta(minutes=5)  # within the grace: nobody has marked it yet
    done = lifecycle.confirm_attended(interview_id, AS_ADA, Seen.of(int(START.timestamp()), InterviewStatus.UPCOMING))
    assert done.changed and _status(db, interview_id) is InterviewStatus.COMPLETED
