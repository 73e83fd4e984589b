"""A participant's Yes / Maybe / No and Confirm attendance: what each changes, what it queues,
that the same answer again does neither, and what is refused; on both databases."""

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from bot.domain import Actor
from bot.services import Services
from bot.services.attendance import (
    LATEST_UNIX_SECONDS,
    Answer,
    AttendanceService,
    InterviewGone,
    InterviewMoved,
    seen_start,
)
from bot.services.notifications import Notifier
from bot.services.portal import LinkNotValid
from storage.db import Database
from storage.enums import ActivityKind, ActorKind, AttendeeRole, InviteStatus, OutboxKind
from storage.models import ActivityEvent, Attendee, OutboxItem
from tests.conftest import ADA, CLI, WORKSPACE, MovableClock, Seed, berlin
from tests.web import link_for

START = berlin(8, 10)


@pytest.fixture
def attendance(services: Services) -> AttendanceService:
    return AttendanceService(services.db, services.clock, Notifier(services.mailer), services.mailer)


def _book(services: Services, seed: Seed, email: str = "nora@example.com", start=START) -> int:  # noqa: ANN001
    return services.booking.book(study_ref=seed.study_id, participant_email=email, starts_at=start, host_id=ADA, actor=CLI).interview_id


def _token(services: Services, seed: Seed, email: str = "nora@example.com") -> str:
    [participant] = [p for p in services.participants.list(seed.study_id) if p.email == email]
    return link_for(services, participant.id).token


def _seat(db: Database, interview_id: int) -> Attendee:
    with db.transaction() as session:
        return session.scalars(
            select(Attendee).where(Attendee.interview_id == interview_id, Attendee.role == AttendeeRole.PARTICIPANT)
        ).one()


def _events(db: Database, interview_id: int) -> list[ActivityEvent]:
    with db.transaction() as session:
        kinds = (ActivityKind.RSVP_CHANGED, ActivityKind.ATTENDANCE_CONFIRMED)
        return list(session.scalars(
            select(ActivityEvent).where(ActivityEvent.interview_id == interview_id, ActivityEvent.kind.in_(kinds))
            .order_by(ActivityEvent.id)
        ))


def _slack_posts(db: Database, interview_id: int) -> list[OutboxItem]:
    with db.transaction() as session:
        return list(session.scalars(
            select(OutboxItem).where(OutboxItem.interview_id == interview_id, OutboxItem.kind == OutboxKind.SLACK_POST)
            .order_by(OutboxItem.id)
        ))


def _notes(db: Database, interview_id: int) -> list[dict[str, object]]:
    return [item.payload["note"] for item in _slack_posts(db, interview_id) if "note" in item.payload]


@pytest.fixture
def booked(services: Services, seeded: Seed) -> tuple[int, str]:
    return _book(services, seeded), _token(services, seeded)


# ---------------------------------------------------------------- answers


@pytest.mark.parametrize(("answer", "status"), [
    (Answer.YES, InviteStatus.ACCEPTED), (Answer.MAYBE, InviteStatus.TENTATIVE), (Answer.NO, InviteStatus.DECLINED),
])
def test_an_answer_sets_the_status_writes_the_timeline_and_tells_the_thread(
    attendance: AttendanceService, db: Database, booked: tuple[int, str], answer: Answer, status: InviteStatus,
) -> None:
    interview_id, token = booked
    posts_before = len(_slack_posts(db, interview_id))

    result = attendance.respond(token, interview_id, answer)

    assert result.changed and result.attendance.invite_status is status
    assert _seat(db, interview_id).invite_status is status
    [event] = _events(db, interview_id)
    assert (event.kind, event.actor_kind, event.actor_name) == (ActivityKind.RSVP_CHANGED, ActorKind.PARTICIPANT, "Nora Quist")
    assert event.details == {"attendee": "Nora Quist", "status": status.value}
    # The card refreshed and a note in its thread, queued with the change and returned to deliver.
    new = _slack_posts(db, interview_id)[posts_before:]
    assert [("card" in i.payload, "note" in i.payload) for i in new] == [(True, False), (False, True)]
    assert new[1].payload["note"] == {"kind": "rsvp", "who": "Nora Quist", "status": status.value}
    assert set(result.outbox_ids) == {i.id for i in new}


def test_the_same_answer_again_changes_nothing_and_posts_nothing(
    attendance: AttendanceService, db: Database, booked: tuple[int, str],
) -> None:
    interview_id, token = booked
    assert attendance.respond(token, interview_id, Answer.NO).changed
    posts = len(_slack_posts(db, interview_id))

    again = attendance.respond(token, interview_id, Answer.NO)

    assert not again.changed and again.outbox_ids == ()
    assert len(_events(db, interview_id)) == 1 and len(_slack_posts(db, interview_id)) == posts


def test_changing_the_answer_is_told_each_time(
    attendance: AttendanceService, db: Database, booked: tuple[int, str],
) -> None:
    interview_id, token = booked
    for answer in (Answer.NO, Answer.YES, Answer.NO):
        assert attendance.respond(token, interview_id, answer).changed
    assert [e.details["status"] for e in _events(db, interview_id)] == ["declined", "accepted", "declined"]
    assert [n["status"] for n in _notes(db, interview_id)] == ["declined", "accepted", "declined"]


def test_confirming_is_double_checked_and_accepted_and_once_only(
    attendance: AttendanceService, db: Database, booked: tuple[int, str], clock: MovableClock,
) -> None:
    interview_id, token = booked
    attendance.respond(token, interview_id, Answer.MAYBE)

    confirmed = attendance.confirm(token, interview_id)
    clock.advance(minutes=5)
    again = attendance.confirm(token, interview_id)

    assert confirmed.changed and confirmed.attendance.confirmed
    assert not again.changed and again.outbox_ids == ()
    seat = _seat(db, interview_id)
    assert seat.invite_status is InviteStatus.ACCEPTED
    assert seat.attendance_confirmed_at == clock.now - timedelta(minutes=5)  # the first click's time
    assert [(e.kind, e.details) for e in _events(db, interview_id)] == [
        (ActivityKind.RSVP_CHANGED, {"attendee": "Nora Quist", "status": "tentative"}),
        (ActivityKind.ATTENDANCE_CONFIRMED, {"attendee": "Nora Quist"}),
    ]
    assert _notes(db, interview_id)[-1] == {"kind": "attendance_confirmed", "who": "Nora Quist"}
    # Yes after a confirmation is already true: nothing to tell.
    assert not attendance.respond(token, interview_id, Answer.YES).changed


def test_a_maybe_or_no_after_confirming_takes_the_confirmation_back(
    attendance: AttendanceService, db: Database, booked: tuple[int, str],
) -> None:
    interview_id, token = booked
    attendance.confirm(token, interview_id)

    result = attendance.respond(token, interview_id, Answer.NO)

    assert result.changed and not result.attendance.confirmed
    seat = _seat(db, interview_id)
    assert (seat.invite_status, seat.attendance_confirmed_at) == (InviteStatus.DECLINED, None)
    # And confirming again is a change once more.
    assert attendance.confirm(token, interview_id).changed


def test_two_clicks_at_once_are_answered_once(
    attendance: AttendanceService, db: Database, booked: tuple[int, str],
) -> None:
    interview_id, token = booked
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda _: attendance.confirm(token, interview_id), range(2)))
    assert sorted(r.changed for r in results) == [False, True]
    assert len(_events(db, interview_id)) == 1
    assert len(_notes(db, interview_id)) == 1


def test_showing_the_question_changes_nothing(
    attendance: AttendanceService, db: Database, booked: tuple[int, str],
) -> None:
    interview_id, token = booked
    posts = len(_slack_posts(db, interview_id))

    shown = attendance.show(token, interview_id)

    assert (shown.invite_status, shown.confirmed, shown.participant_name) == (InviteStatus.AWAITING, False, "Nora Quist")
    assert shown.timezone == "Europe/Berlin" and shown.starts_at == START
    assert _events(db, interview_id) == [] and len(_slack_posts(db, interview_id)) == posts


# ---------------------------------------------------------------- refusals


def test_only_the_links_own_participant_may_answer_for_their_own_interview(
    attendance: AttendanceService, services: Services, seeded: Seed, db: Database,
) -> None:
    nora = _book(services, seeded)
    otto = _book(services, seeded, "otto@example.com", berlin(8, 14))
    nora_token = _token(services, seeded)
    for token, interview_id in [
        ("not-a-token", nora),  # a made-up token
        ("x" * 500, nora),  # far too long to be one
        (nora_token, otto),  # someone else's interview
        (nora_token, 999_999),  # no such interview
    ]:
        with pytest.raises(LinkNotValid):
            attendance.confirm(token, interview_id)
        with pytest.raises(LinkNotValid):
            attendance.respond(token, interview_id, Answer.YES)
    assert _events(db, nora) == [] and _events(db, otto) == []


def test_a_canceled_interview_cannot_be_answered(
    attendance: AttendanceService, services: Services, db: Database, booked: tuple[int, str],
) -> None:
    interview_id, token = booked
    services.outcomes.cancel(interview_id, Actor.slack_user(WORKSPACE, ADA))
    with pytest.raises(InterviewGone) as gone:
        attendance.confirm(token, interview_id)
    assert gone.value.canceled and "canceled" in gone.value.message
    with pytest.raises(InterviewGone):
        attendance.respond(token, interview_id, Answer.NO)
    with pytest.raises(InterviewGone):
        attendance.show(token, interview_id)
    assert _events(db, interview_id) == []


@pytest.mark.parametrize(("after", "words"), [(timedelta(minutes=1), "already started"), (timedelta(hours=2), "already taken place")])
def test_an_interview_under_way_or_over_cannot_be_answered(
    attendance: AttendanceService, db: Database, booked: tuple[int, str], clock: MovableClock,
    after: timedelta, words: str,
) -> None:
    interview_id, token = booked
    clock.now = START + after
    with pytest.raises(InterviewGone) as gone:
        attendance.respond(token, interview_id, Answer.YES)
    assert not gone.value.canceled and words in gone.value.message
    assert _events(db, interview_id) == []


def test_an_answer_for_a_time_the_interview_no_longer_has_is_refused_and_names_the_new_one(
    attendance: AttendanceService, services: Services, db: Database, booked: tuple[int, str],
) -> None:
    interview_id, token = booked
    later = berlin(7, 14)
    services.changes.reschedule(interview_id, Actor.slack_user(WORKSPACE, ADA), None, starts_at=later)

    with pytest.raises(InterviewMoved) as moved:
        attendance.confirm(token, interview_id, START)

    assert moved.value.seen == START and moved.value.current.starts_at == later
    assert _events(db, interview_id) == []
    # Seen at the new time, it is taken.
    assert attendance.confirm(token, interview_id, later).changed


def test_seen_start_reads_only_unix_seconds() -> None:
    assert seen_start(str(int(START.timestamp()))) == START
    for bad in (None, "", "-5", "1.5", "2030-03-08T09:00Z", "9" * 13, "１２３"):
        assert seen_start(bad) is None
    # Past year 9999, or so near its end that a page could not add an interview's length to it.
    last_second = int(datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp())
    for late in ("9" * 12, str(last_second + 1), str(last_second)):
        assert seen_start(late) is None
    assert seen_start(str(LATEST_UNIX_SECONDS)) == datetime(9999, 1, 1, tzinfo=UTC)


# ---------------------------------------------------------------- the emails' links


def test_the_participants_emails_carry_the_answer_links_for_the_time_they_show(
    services: Services, db: Database, booked: tuple[int, str],
) -> None:
    interview_id, token = booked
    later = berlin(7, 14)
    services.changes.reschedule(interview_id, Actor.slack_user(WORKSPACE, ADA), None, starts_at=later)
    with db.transaction() as session:
        emails = [
            i.payload["text"] for i in session.scalars(select(OutboxItem).where(OutboxItem.kind == OutboxKind.EMAIL))
            if "nora@example.com" in i.payload["to"][0]
        ]
    [booking] = [t for t in emails if "You're booked" in t]
    [update] = [t for t in emails if "The attached invite updates" in t]
    base = f"http://participants.test/s/{token}"
    for text, start in ((booking, START), (update, later)):
        at = f"?at={int(start.timestamp())}"
        lines = dict(line.split(": ", 1) for line in text.splitlines() if ": http" in line)
        assert lines["Confirm attendance"] == f"{base}/attend/{interview_id}{at}"
        for label, answer in (("Yes", "yes"), ("Maybe", "maybe"), ("No", "no")):
            assert lines[label] == f"{base}/rsvp/{interview_id}/{answer}{at}"
        assert urlsplit(lines["Reschedule or cancel"]).path == f"/s/{token}/manage"
