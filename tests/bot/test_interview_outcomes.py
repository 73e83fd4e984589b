"""Completed, no-show and cancel: what each changes, what it queues, and that a repeat does neither."""

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.domain import Actor
from bot.services import Services
from bot.services.errors import Conflict, InvalidInput, NotAllowed
from bot.services.interview_actions import Seen, StaleView
from bot.services.interview_outcomes import NOT_STARTED, InterviewOutcomeService
from storage.db import Database
from storage.enums import (
    ActivityKind,
    AttendeeRole,
    InterviewStatus,
    OutboxKind,
    ParticipantStatus,
    StudyStatus,
)
from storage.models import Interview, OutboxItem, Participant, Study, TeamMember
from tests.bot.records import events_of, load_interview, outbox_of
from tests.conftest import ADA, BO, CLI, OUTSIDER, WORKSPACE, MovableClock, Seed, berlin

ADA_ACTS = Actor.slack_user(WORKSPACE, ADA)
BO_ACTS = Actor.slack_user(WORKSPACE, BO)
START = berlin(8, 10)


@pytest.fixture
def outcomes(services: Services) -> InterviewOutcomeService:
    assert services.booking.notifier is not None
    return InterviewOutcomeService(services.db, services.clock, services.booking.notifier, services.mailer)


@pytest.fixture
def ada_has_email(db: Database, seeded: Seed) -> None:
    with db.transaction() as session:
        ada = session.scalars(select(TeamMember).where(TeamMember.slack_user_id == ADA)).one()
        ada.email, ada.display_name = "ada@example.com", "Ada"


def _book(services: Services, seed: Seed, email: str = "nora@example.com") -> int:
    return services.booking.book(study_ref=seed.study_id, participant_email=email, starts_at=START, host_id=ADA, actor=CLI).interview_id


def _group(services: Services, seed: Seed) -> int:
    with services.db.transaction() as session:
        session.get(Study, seed.study_id).participant_limit = 3
    interview_id = _book(services, seed)
    assert _book(services, seed, "otto@example.com") == interview_id
    return interview_id


def _seen(status: InterviewStatus = InterviewStatus.UPCOMING) -> Seen:
    return Seen(START, status)


def _statuses(db: Database) -> dict[str, ParticipantStatus]:
    with db.transaction() as session:
        return {p.name: p.status for p in session.scalars(select(Participant))}


def _notes(items: list[OutboxItem]) -> list[dict]:
    return [i.payload["note"] for i in items if "note" in i.payload]


def _started(clock: MovableClock) -> None:
    clock.now = START + timedelta(minutes=50)


# ---------------------------------------------------------------- completed


def test_completed_marks_everyone_attended_and_tells_the_card(outcomes: InterviewOutcomeService, services: Services, seeded: Seed, clock: MovableClock, db: Database) -> None:
    interview_id = _book(services, seeded)
    before = len(outbox_of(db, interview_id))
    _started(clock)

    done = outcomes.mark_completed(interview_id, ADA_ACTS, _seen())

    assert done.changed and done.interview.status is InterviewStatus.COMPLETED
    interview = load_interview(db, interview_id)
    assert interview.status is InterviewStatus.COMPLETED and interview.outcome_at == clock()
    [nora] = [a for a in interview.attendees if a.role is AttendeeRole.PARTICIPANT]
    assert nora.attended is True and _statuses(db)["Nora Quist"] is ParticipantStatus.COMPLETED
    [event] = events_of(db, interview_id, ActivityKind.COMPLETED)
    assert event.actor_slack_user_id == ADA
    new = outbox_of(db, interview_id)[before:]
    assert {i.id for i in new} == set(done.outbox_ids) and all(i.kind is OutboxKind.SLACK_POST for i in new)
    assert _notes(new) == [{"kind": "completed", "by": ADA}]


def test_a_repeat_changes_nothing_and_says_who_did_it(outcomes: InterviewOutcomeService, services: Services, seeded: Seed, clock: MovableClock, db: Database) -> None:
    interview_id = _book(services, seeded)
    _started(clock)
    outcomes.mark_completed(interview_id, BO_ACTS, _seen())
    before = len(outbox_of(db, interview_id))

    again = outcomes.mark_completed(interview_id, ADA_ACTS, _seen())  # Ada's view still said upcoming

    assert not again.changed and again.outbox_ids == ()
    assert again.already_by is not None and again.already_by.slack_user_id == BO
    assert len(outbox_of(db, interview_id)) == before and len(events_of(db, interview_id, ActivityKind.COMPLETED)) == 1


def test_nothing_is_marked_before_the_interview_starts(outcomes: InterviewOutcomeService, services: Services, seeded: Seed, db: Database) -> None:
    interview_id = _book(services, seeded)
    for mark in (outcomes.mark_completed, outcomes.mark_no_show):
        with pytest.raises(Conflict) as refused:
            mark(interview_id, ADA_ACTS, _seen())
        assert refused.value.message == NOT_STARTED
    assert load_interview(db, interview_id).status is InterviewStatus.UPCOMING


def test_only_the_team_may_mark_or_cancel(outcomes: InterviewOutcomeService, services: Services, seeded: Seed, clock: MovableClock, db: Database) -> None:
    interview_id = _book(services, seeded)
    before = len(outbox_of(db, interview_id))
    outsider = Actor.slack_user(WORKSPACE, OUTSIDER)
    with pytest.raises(NotAllowed):
        outcomes.cancel(interview_id, outsider, _seen(), message="bye")
    _started(clock)
    with pytest.raises(NotAllowed):
        outcomes.mark_completed(interview_id, outsider)
    with pytest.raises(NotAllowed):
        outcomes.mark_no_show(interview_id, Actor.slack_user("T0OTHER", ADA))  # same id, other workspace
    assert load_interview(db, interview_id).status is InterviewStatus.UPCOMING and len(outbox_of(db, interview_id)) == before


# ---------------------------------------------------------------- no-show


def test_no_show_then_corrected_to_completed_and_back(outcomes: InterviewOutcomeService, services: Services, seeded: Seed, clock: MovableClock, db: Database) -> None:
    interview_id = _book(services, seeded)
    _started(clock)

    missed = outcomes.mark_no_show(interview_id, ADA_ACTS, _seen())
    assert missed.interview.status is InterviewStatus.NO_SHOW
    assert [p.attended for p in missed.interview.participants] == [False]
    assert _statuses(db)["Nora Quist"] is ParticipantStatus.NO_SHOW
    [event] = events_of(db, interview_id, ActivityKind.NO_SHOW)
    assert event.details == {"participants": ["Nora Quist"]}
    assert _notes(outbox_of(db, interview_id))[-1] == {"kind": "no_show", "by": ADA, "participants": ["Nora Quist"]}

    came = outcomes.mark_completed(interview_id, BO_ACTS, _seen(InterviewStatus.NO_SHOW))
    assert came.changed and [p.attended for p in came.interview.participants] == [True]
    assert _statuses(db)["Nora Quist"] is ParticipantStatus.COMPLETED
    assert events_of(db, interview_id, ActivityKind.COMPLETED)[0].details == {"previous": "no_show"}

    again = outcomes.mark_no_show(interview_id, ADA_ACTS, _seen(InterviewStatus.COMPLETED))
    assert again.changed and again.interview.status is InterviewStatus.NO_SHOW
    assert len(events_of(db, interview_id, ActivityKind.NO_SHOW)) == 2


def test_a_teammates_different_outcome_is_a_stale_view_not_a_repeat(outcomes: InterviewOutcomeService, services: Services, seeded: Seed, clock: MovableClock, db: Database) -> None:
    interview_id = _book(services, seeded)
    _started(clock)
    outcomes.mark_completed(interview_id, BO_ACTS, _seen())
    with pytest.raises(StaleView) as stale:
        outcomes.mark_no_show(interview_id, ADA_ACTS, _seen())  # Ada still saw it upcoming
    assert stale.value.current.status is InterviewStatus.COMPLETED
    assert stale.value.changed_by is not None and stale.value.changed_by.slack_user_id == BO
    assert load_interview(db, interview_id).status is InterviewStatus.COMPLETED


def test_group_slot_marks_each_participant_and_is_completed_if_anyone_came(outcomes: InterviewOutcomeService, services: Services, seeded: Seed, clock: MovableClock, db: Database) -> None:
    interview_id = _group(services, seeded)
    _started(clock)
    form = outcomes.no_show_form(interview_id, ADA_ACTS, _seen())
    ids = {p.name: p.participant_id for p in form.interview.participants}
    assert form.group and not form.already

    with pytest.raises(InvalidInput, match="Tick who didn't come"):
        outcomes.mark_no_show(interview_id, ADA_ACTS, _seen(), no_shows=[])
    with pytest.raises(InvalidInput, match="no longer on this interview"):
        outcomes.mark_no_show(interview_id, ADA_ACTS, _seen(), no_shows=[9999])

    some = outcomes.mark_no_show(interview_id, ADA_ACTS, _seen(), no_shows=[ids["Otto Berg"]])
    assert some.interview.status is InterviewStatus.COMPLETED
    assert {p.name: p.attended for p in some.interview.participants} == {"Nora Quist": True, "Otto Berg": False}
    assert _statuses(db) == {"Nora Quist": ParticipantStatus.COMPLETED, "Otto Berg": ParticipantStatus.NO_SHOW}
    assert events_of(db, interview_id, ActivityKind.NO_SHOW)[0].details == {"participants": ["Otto Berg"], "attended": ["Nora Quist"]}

    repeat = outcomes.mark_no_show(interview_id, ADA_ACTS, _seen(), no_shows=[ids["Otto Berg"]])
    assert not repeat.changed and repeat.outbox_ids == ()

    # A correction: nobody came after all.
    nobody = outcomes.mark_no_show(interview_id, BO_ACTS, _seen(InterviewStatus.COMPLETED), no_shows=ids.values())
    assert nobody.interview.status is InterviewStatus.NO_SHOW
    assert all(p.attended is False for p in nobody.interview.participants)


def test_marking_a_group_completed_keeps_an_individual_no_show(outcomes: InterviewOutcomeService, services: Services, seeded: Seed, clock: MovableClock, db: Database) -> None:
    interview_id = _group(services, seeded)
    with db.transaction() as session:  # e.g. marked while the session was still running
        otto = next(a for a in session.get(Interview, interview_id).attendees if a.display_name == "Otto Berg")
        otto.attended = False
    _started(clock)
    done = outcomes.mark_completed(interview_id, ADA_ACTS, _seen())
    assert {p.name: p.attended for p in done.interview.participants} == {"Nora Quist": True, "Otto Berg": False}


# ---------------------------------------------------------------- cancel


def test_cancel_tells_everyone_with_the_invite_canceled(outcomes: InterviewOutcomeService, services: Services, seeded: Seed, ada_has_email: None, db: Database) -> None:
    interview_id = _book(services, seeded)
    sequence = load_interview(db, interview_id).ical_sequence
    before = len(outbox_of(db, interview_id))

    done = outcomes.cancel(interview_id, ADA_ACTS, _seen(), message="  Our host is ill.\nSorry!  ")

    interview = load_interview(db, interview_id)
    assert interview.status is InterviewStatus.CANCELED and interview.ical_sequence == sequence + 1
    assert interview.outcome_note == "Our host is ill.\nSorry!"
    assert _statuses(db)["Nora Quist"] is ParticipantStatus.CANCELED_INTERVIEW
    [event] = events_of(db, interview_id, ActivityKind.CANCELED)
    assert event.actor_slack_user_id == ADA and event.details == {"reason": "Our host is ill.\nSorry!"}
    new = outbox_of(db, interview_id)[before:]
    assert {i.id for i in new} == set(done.outbox_ids)
    emails = {i.idempotency_key: i.payload for i in new if i.kind is OutboxKind.EMAIL}
    nora_id = next(p.participant_id for p in done.interview.participants)
    ada_seat = next(a for a in interview.attendees if a.role is AttendeeRole.HOST)
    assert set(emails) == {
        f"email:team_cancel:{interview_id}:p{nora_id}:{sequence + 1}",
        f"email:team_cancel:{interview_id}:a{ada_seat.id}:{sequence + 1}",
    }
    for payload in emails.values():
        assert payload["invite"]["method"] == "CANCEL" and payload["invite"]["sequence"] == sequence + 1
    to_nora = emails[f"email:team_cancel:{interview_id}:p{nora_id}:{sequence + 1}"]
    assert "Our host is ill.\nSorry!" in to_nora["text"] and "A message from Ada" in to_nora["text"]
    assert "http://participants.test/s/" in to_nora["text"]
    assert _notes(new) == [{"kind": "canceled", "by": ADA, "reason": "Our host is ill.\nSorry!"}]

    again = outcomes.cancel(interview_id, BO_ACTS, _seen(), message="Other words")
    assert not again.changed and again.already_by is not None and again.already_by.slack_user_id == ADA
    assert len(outbox_of(db, interview_id)) == before + len(new)
    assert load_interview(db, interview_id).ical_sequence == sequence + 1


def test_cancelling_a_group_slot_cancels_it_for_everyone(outcomes: InterviewOutcomeService, services: Services, seeded: Seed, db: Database) -> None:
    interview_id = _group(services, seeded)
    done = outcomes.cancel(interview_id, ADA_ACTS, _seen())
    assert done.interview.status is InterviewStatus.CANCELED and load_interview(db, interview_id).outcome_note is None
    assert set(_statuses(db).values()) == {ParticipantStatus.CANCELED_INTERVIEW}
    to = sorted(i.payload["to"][0] for i in outbox_of(db, interview_id) if i.idempotency_key.startswith("email:team_cancel:"))
    assert to == [["Nora Quist", "nora@example.com"], ["Otto Berg", "otto@example.com"]]


def test_an_interview_that_ended_without_an_outcome_can_still_be_canceled(outcomes: InterviewOutcomeService, services: Services, seeded: Seed, clock: MovableClock) -> None:
    interview_id = _book(services, seeded)
    clock.now = START + timedelta(hours=3)
    assert outcomes.cancel_form(interview_id, ADA_ACTS, _seen()).interview.has_ended
    assert outcomes.cancel(interview_id, ADA_ACTS, _seen()).interview.status is InterviewStatus.CANCELED


def test_cancel_refuses_what_cannot_be_canceled(outcomes: InterviewOutcomeService, services: Services, seeded: Seed, clock: MovableClock, db: Database) -> None:
    interview_id = _book(services, seeded)
    with pytest.raises(InvalidInput, match="under 1000 characters"):
        outcomes.cancel(interview_id, ADA_ACTS, _seen(), message="x" * 1001)
    _started(clock)
    outcomes.mark_completed(interview_id, ADA_ACTS, _seen())
    with pytest.raises(Conflict, match="marked completed, so it can't be canceled"):
        outcomes.cancel(interview_id, ADA_ACTS, _seen(InterviewStatus.COMPLETED))
    assert load_interview(db, interview_id).status is InterviewStatus.COMPLETED


def test_cancel_after_the_participant_moved_it_is_a_stale_view(outcomes: InterviewOutcomeService, services: Services, seeded: Seed, db: Database) -> None:
    interview_id = _book(services, seeded)
    nora = next(p for p in services.participants.list(seeded.study_id) if p.email == "nora@example.com")
    token = services.participants.scheduling_link(nora.id).rsplit("/", 1)[-1]
    services.portal.reschedule(token, services.portal.slots(token)[3].start, "Europe/Berlin", None)
    before = len(outbox_of(db, interview_id))
    with pytest.raises(StaleView) as stale:
        outcomes.cancel(interview_id, ADA_ACTS, _seen(), message="Sorry")
    assert stale.value.changed_by is not None and stale.value.changed_by.name == "Nora Quist"
    assert load_interview(db, interview_id).status is InterviewStatus.UPCOMING and len(outbox_of(db, interview_id)) == before


def test_a_closed_study_offers_no_new_time(outcomes: InterviewOutcomeService, services: Services, seeded: Seed, db: Database) -> None:
    interview_id = _book(services, seeded)
    with db.transaction() as session:
        session.get(Study, seeded.study_id).status = StudyStatus.CLOSED
    assert outcomes.cancel_form(interview_id, ADA_ACTS, _seen()).can_rebook is False
    outcomes.cancel(interview_id, ADA_ACTS, _seen(), message="The study <b>ended</b> early.\nThank you!")
    [email] = [i.payload for i in outbox_of(db, interview_id) if i.idempotency_key.startswith("email:team_cancel:")]
    assert "/s/" not in email["text"] and "/s/" not in email["html"] and "You don't need to do anything else." in email["text"]
    assert "The study <b>ended</b> early.\nThank you!" in email["text"]
    assert "The study &lt;b&gt;ended&lt;/b&gt; early.<br>Thank you!" in email["html"]  # escaped, lines kept


def test_the_forms_answer_a_repeat_instead_of_asking_again(outcomes: InterviewOutcomeService, services: Services, seeded: Seed, clock: MovableClock) -> None:
    interview_id = _book(services, seeded)
    _started(clock)
    outcomes.mark_no_show(interview_id, BO_ACTS, _seen())
    form = outcomes.no_show_form(interview_id, ADA_ACTS, _seen())  # Ada's click still said upcoming
    assert form.already and form.already_by is not None and form.already_by.slack_user_id == BO
    with pytest.raises(StaleView):  # a different outcome than the one asked for
        outcomes.completed_form(interview_id, ADA_ACTS, _seen())
    asked = outcomes.completed_form(interview_id, ADA_ACTS, _seen(InterviewStatus.NO_SHOW))
    assert not asked.already and asked.interview.status is InterviewStatus.NO_SHOW


def test_two_cancels_at_once_cancel_once(outcomes: InterviewOutcomeService, services: Services, seeded: Seed, db: Database) -> None:
    interview_id = _book(services, seeded)
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda who: outcomes.cancel(interview_id, who, _seen(), message="Sorry"), [ADA_ACTS, BO_ACTS]))
    assert sorted(r.changed for r in results) == [False, True]
    assert len([i for i in outbox_of(db, interview_id) if i.idempotency_key.startswith("email:team_cancel:")]) == 1
    assert load_interview(db, interview_id).ical_sequence == 1 and len(events_of(db, interview_id, ActivityKind.CANCELED)) == 1
