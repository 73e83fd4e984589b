"""The list and timeline queries, run with real sessions against a seeded study."""

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from bot.services import Services
from storage import queries
from storage.db import Database
from storage.enums import ActivityKind, InterviewStatus
from storage.models import Interview
from tests.conftest import ADA, T0, WORKSPACE, Seed
from tests.storage.factories import add_event, add_interview

UPCOMING, COMPLETED, NO_SHOW, CANCELED = (
    InterviewStatus.UPCOMING,
    InterviewStatus.COMPLETED,
    InterviewStatus.NO_SHOW,
    InterviewStatus.CANCELED,
)


@dataclass(frozen=True)
class Row:
    id: int
    starts_at: datetime
    ends_at: datetime
    status: InterviewStatus

    @property
    def key(self) -> queries.Key:
        return (int(self.starts_at.timestamp()), self.id)

    def is_upcoming(self, now: datetime) -> bool:
        """The rule the lists follow: still to happen (or happening) and not settled."""
        return self.status is UPCOMING and self.ends_at > now


def _hours(n: float) -> datetime:
    return T0 + timedelta(hours=n)


# (start, minutes, status): a mixed history around T0, with ties on equal start times.
HISTORY: list[tuple[datetime, int, InterviewStatus]] = [
    # 23 upcoming, three of them at the same time and two more sharing another
    *[(_hours(h), 45, UPCOMING) for h in range(1, 19)],
    (_hours(5), 45, UPCOMING),
    (_hours(5), 60, UPCOMING),
    (_hours(5), 30, UPCOMING),
    (_hours(30), 45, UPCOMING),
    (_hours(30), 45, UPCOMING),
    # in progress: started 20 minutes ago, ends in 25
    (T0 - timedelta(minutes=20), 45, UPCOMING),
    # 21 that have ended, in every status, some sharing a start time
    *[(_hours(-h), 45, [COMPLETED, NO_SHOW, CANCELED][h % 3]) for h in range(1, 16)],
    (_hours(-4), 45, COMPLETED),
    (_hours(-4), 45, NO_SHOW),
    (_hours(-40), 45, UPCOMING),  # never settled, ended long ago
    (_hours(-2), 45, UPCOMING),  # never settled, ended recently
    (T0 - timedelta(minutes=45), 45, UPCOMING),  # ends exactly now
    (_hours(-24 * 20), 90, COMPLETED),
    # settled before their time: canceled or no-show ahead, and one completed early
    (_hours(3), 45, CANCELED),
    (_hours(5), 45, CANCELED),
    (_hours(50), 45, CANCELED),
    (_hours(2), 45, NO_SHOW),
    (T0 - timedelta(minutes=10), 45, COMPLETED),
]


@pytest.fixture
def history(db: Database, services: Services, seeded: Seed) -> list[Row]:
    """HISTORY in the seeded study, inserted in shuffled order so ids don't follow start times,
    plus interviews of another study that must never show up."""
    other = services.studies.create(
        team_ref=seeded.team_id, name="Onboarding", channel_id="C0OTHER",
        timezone="Europe/Berlin", duration_minutes=30, host_ids=[ADA],
    )
    shuffled = list(HISTORY)
    random.Random(7).shuffle(shuffled)
    rows = []
    with db.transaction() as session:
        for starts_at, minutes, status in shuffled:
            i = add_interview(session, seeded.study_id, starts_at, minutes=minutes, status=status)
            rows.append(Row(i.id, i.starts_at, i.ends_at, i.status))
        for starts_at, _, status in HISTORY[::4]:
            add_interview(session, other.id, starts_at, status=status)
    return rows


def _expected(rows: list[Row], *, past: bool, now: datetime = T0) -> list[int]:
    chosen = [r for r in rows if r.is_upcoming(now) != past]
    return [r.id for r in sorted(chosen, key=lambda r: r.key, reverse=past)]


def _key(interview: Interview) -> queries.Key:
    return (int(interview.starts_at.timestamp()), interview.id)


def _walk(session: Session, study_id: int, *, past: bool, limit: int) -> list[list[int]]:
    """Follow Next from the first page to the last; check `more` on the way."""
    rows, more = queries.interview_page(session, study_id, past=past, now=T0, limit=limit)
    pages = [rows]
    while more:
        assert len(rows) == limit
        rows, more = queries.interview_page(
            session, study_id, past=past, now=T0, limit=limit, key=_key(rows[-1]), direction="after"
        )
        pages.append(rows)
    return [[i.id for i in page] for page in pages]


def _walk_back(session: Session, study_id: int, *, past: bool, limit: int, last_page: list[int]) -> list[list[int]]:
    """Follow Previous from the last page to the first; returns pages in display order."""
    pages = [last_page]
    first = session.get_one(Interview, last_page[0])
    while True:
        rows, more = queries.interview_page(
            session, study_id, past=past, now=T0, limit=limit, key=_key(first), direction="before"
        )
        if not rows:
            assert not more
            break
        assert len(rows) == limit
        pages.insert(0, [i.id for i in rows])
        first = rows[0]
        if not more:
            break
    return pages


@pytest.mark.parametrize("past", [False, True], ids=["upcoming", "past"])
@pytest.mark.parametrize("limit", [1, 5, 10, 24, 100])
def test_interview_page_next_and_previous_cover_each_interview_once_in_order(
    db: Database, seeded: Seed, history: list[Row], past: bool, limit: int
) -> None:
    expected = _expected(history, past=past)
    with db.transaction() as session:
        forward = _walk(session, seeded.study_id, past=past, limit=limit)
        backward = _walk_back(session, seeded.study_id, past=past, limit=limit, last_page=forward[-1])

    assert [i for page in forward for i in page] == expected
    assert all(len(page) == limit for page in forward[:-1])
    assert 1 <= len(forward[-1]) <= limit
    assert backward == forward


def test_interview_lists_split_the_history_as_users_expect(db: Database, seeded: Seed, history: list[Row]) -> None:
    by_shape = {(r.starts_at, r.ends_at - r.starts_at, r.status): r.id for r in history}

    def id_of(starts_at: datetime, status: InterviewStatus, minutes: int = 45) -> int:
        return by_shape[(starts_at, timedelta(minutes=minutes), status)]

    with db.transaction() as session:
        upcoming, _ = queries.interview_page(session, seeded.study_id, past=False, now=T0, limit=100)
        past, _ = queries.interview_page(session, seeded.study_id, past=True, now=T0, limit=100)
    upcoming_ids, past_ids = [i.id for i in upcoming], [i.id for i in past]

    assert len(upcoming_ids) == 24 and len(past_ids) == 26
    assert not set(upcoming_ids) & set(past_ids)
    assert upcoming_ids[0] == id_of(T0 - timedelta(minutes=20), UPCOMING)  # in progress, first
    for canceled_ahead in (_hours(3), _hours(5), _hours(50)):
        assert id_of(canceled_ahead, CANCELED) in past_ids
    assert id_of(_hours(2), NO_SHOW) in past_ids
    assert id_of(T0 - timedelta(minutes=10), COMPLETED) in past_ids  # completed while running
    assert id_of(T0 - timedelta(minutes=45), UPCOMING) in past_ids  # ended exactly now
    assert id_of(_hours(-40), UPCOMING) in past_ids  # ended, never settled
    assert past_ids[0] == id_of(_hours(50), CANCELED)  # Past is latest first
    assert past_ids[-1] == id_of(_hours(-24 * 20), COMPLETED, minutes=90)


def test_interview_page_orders_equal_start_times_by_id(db: Database, seeded: Seed) -> None:
    start = T0 + timedelta(days=1)
    with db.transaction() as session:
        ids = [add_interview(session, seeded.study_id, start).id for _ in range(4)]
        upcoming, _ = queries.interview_page(session, seeded.study_id, past=False, now=T0, limit=10)
        later, _ = queries.interview_page(
            session, seeded.study_id, past=True, now=start + timedelta(hours=2), limit=10
        )
        after_second, more = queries.interview_page(
            session, seeded.study_id, past=False, now=T0, limit=10, key=(int(start.timestamp()), ids[1])
        )

    assert [i.id for i in upcoming] == ids
    assert [i.id for i in later] == ids[::-1]
    assert [i.id for i in after_second] == ids[2:] and more is False


def test_interview_page_moves_interviews_to_past_as_time_passes(db: Database, seeded: Seed) -> None:
    with db.transaction() as session:
        interview = add_interview(session, seeded.study_id, T0 + timedelta(hours=1))

    def tabs(now: datetime) -> tuple[list[int], list[int]]:
        with db.transaction() as session:
            up, _ = queries.interview_page(session, seeded.study_id, past=False, now=now, limit=10)
            past, _ = queries.interview_page(session, seeded.study_id, past=True, now=now, limit=10)
        return [i.id for i in up], [i.id for i in past]

    assert tabs(T0) == ([interview.id], [])
    assert tabs(T0 + timedelta(hours=1, minutes=44)) == ([interview.id], [])
    assert tabs(T0 + timedelta(hours=1, minutes=45)) == ([], [interview.id])


@pytest.mark.parametrize("past", [False, True], ids=["upcoming", "past"])
def test_count_capped_is_exact_below_the_cap_and_the_cap_above_it(
    db: Database, seeded: Seed, history: list[Row], past: bool
) -> None:
    total = len(_expected(history, past=past))
    with db.transaction() as session:
        counts = {
            cap: queries.count_capped(session, seeded.study_id, past=past, now=T0, cap=cap)
            for cap in range(1, total + 3)
        }
    assert counts == {cap: min(cap, total) for cap in counts}
    assert counts[total + 2] == total


def test_both_tab_counts_in_one_statement_match_each_tabs_count(db: Database, seeded: Seed, history: list[Row]) -> None:
    upcoming, past = len(_expected(history, past=False)), len(_expected(history, past=True))
    with db.transaction() as session:
        for cap in range(1, max(upcoming, past) + 3):
            assert queries.tab_counts(session, seeded.study_id, now=T0, cap=cap) == (min(cap, upcoming), min(cap, past))


def test_count_capped_of_a_study_without_interviews_is_zero(db: Database, seeded: Seed) -> None:
    with db.transaction() as session:
        assert queries.count_capped(session, seeded.study_id, past=False, now=T0, cap=1000) == 0
        assert queries.count_capped(session, seeded.study_id, past=True, now=T0, cap=1000) == 0


def test_activity_page_is_newest_first_with_the_full_total(db: Database, seeded: Seed) -> None:
    with db.transaction() as session:
        interview = add_interview(session, seeded.study_id, T0 + timedelta(days=1))
        other = add_interview(session, seeded.study_id, T0 + timedelta(days=2))
        minutes = [3, 0, 7, 7, 1, 12, 5, 7, 9, 2, 11, 4, 6]  # 7 three times: ties go by id
        events = [add_event(session, interview.id, T0 + timedelta(minutes=m), n=n) for n, m in enumerate(minutes)]
        for m in range(5):
            add_event(session, other.id, T0 + timedelta(minutes=100 + m))
    newest_first = [e.id for e in sorted(events, key=lambda e: (e.occurred_at, e.id), reverse=True)]

    pages = []
    with db.transaction() as session:
        for offset in (0, 5, 10, 15):
            rows, total = queries.activity_page(session, interview.id, offset=offset, limit=5)
            assert total == 13
            pages.append([e.id for e in rows])

    assert [len(p) for p in pages] == [5, 5, 3, 0]
    assert [i for page in pages for i in page] == newest_first


def test_activity_page_of_an_interview_without_events(db: Database, seeded: Seed) -> None:
    with db.transaction() as session:
        interview = add_interview(session, seeded.study_id, T0 + timedelta(days=1))
        add_event(session, add_interview(session, seeded.study_id, T0).id, T0, ActivityKind.BOOKED)
        assert queries.activity_page(session, interview.id, offset=0, limit=10) == ([], 0)


def test_study_by_channel_is_scoped_to_the_workspace(db: Database, seeded: Seed) -> None:
    with db.transaction() as session:
        found = queries.study_by_channel(session, WORKSPACE, "C0STUDY")
        assert found is not None and found.id == seeded.study_id
        assert queries.study_by_channel(session, "T0ELSE", "C0STUDY") is None
        assert queries.study_by_channel(session, WORKSPACE, "C0NONE") is None
