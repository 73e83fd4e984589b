"""Hosts' busy times from Google Calendar in the open times and at booking: refreshed through
the real client from the fake Google over HTTP, by the tick and before a participant page, with
the study's conflict rule; a host's own interviews never block moving them. Both databases."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from bot.integrations.google_values import Attendee, EventBody
from bot.jobs.calendar_tick import CalendarTick
from bot.services import Services
from bot.services.calendar_busy import BusyTimes, subtract
from bot.services.portal import SlotTaken
from storage.db import Database
from storage.enums import CalendarConflicts, ConnectionStatus
from storage.models import CalendarBusy, CalendarConnection, Study, TeamMember
from tests.conftest import ADA, WORKSPACE, MovableClock
from tests.support.fake_google import FakeGoogle
from tests.support.google import (
    ADA_EMAIL,
    calendar_tick,
    connect,
    connection_row,
    google_event_for,
    thursday,
)
from tests.web import Link, participant_link

MINUTES_45 = timedelta(minutes=45)

pytestmark = [pytest.mark.google_calendar, pytest.mark.real_time]


@pytest.fixture
def study_id(services: Services) -> int:
    """A study hosted by Ada alone, so that her calendar decides what is offered."""
    team = services.teams.create("UX Research", WORKSPACE, [ADA])
    with services.db.transaction() as session:
        ada = session.scalars(select(TeamMember).where(TeamMember.slack_user_id == ADA)).one()
        ada.email, ada.display_name = ADA_EMAIL, "Ada"
    return services.studies.create(team_ref=team.id, name="Checkout", channel_id="C0CHECK", timezone="Europe/Berlin",
                                   duration_minutes=45, host_ids=[ADA]).id


@pytest.fixture
def nora(services: Services, study_id: int) -> Link:
    return participant_link(services, study_id, "nora@example.com", "Nora Quist")


@pytest.fixture
def otto(services: Services, study_id: int) -> Link:
    return participant_link(services, study_id, "otto@example.com", "Otto Berg")


@pytest.fixture
def connection_id(services: Services, fake_google: FakeGoogle, study_id: int) -> int:
    return connect(services, fake_google, ADA, ADA_EMAIL)


@pytest.fixture
def tick(services: Services, connection_id: int) -> CalendarTick:
    return calendar_tick(services, push=False)


def _starts(services: Services, link: Link) -> set[datetime]:
    return {slot.start for slot in services.portal.slots(link.token)}


def _blocks(db: Database) -> list[tuple[datetime, datetime]]:
    with db.transaction() as session:
        return [(b.starts_at, b.ends_at) for b in session.scalars(select(CalendarBusy).order_by(CalendarBusy.starts_at))]


def _set_rule(db: Database, study_id: int, rule: CalendarConflicts) -> None:
    with db.transaction() as session:
        session.execute(update(Study).where(Study.id == study_id).values(calendar_conflict_rule=rule.value))


# ---------------------------------------------------------------- what is offered


def test_busy_time_in_google_is_not_offered_and_a_booking_of_it_is_refused(
    services: Services, db: Database, fake_google: FakeGoogle, tick: CalendarTick, clock: MovableClock, nora: Link,
) -> None:
    ten, eleven = thursday(clock, 10), thursday(clock, 11)
    offered = _starts(services, nora)
    assert {ten, ten + timedelta(minutes=30), eleven} <= offered  # free so far
    fake_google.add_event(ADA_EMAIL, ten, eleven, summary="Dentist")

    assert tick.tick().busy_refreshed == 1

    assert _blocks(db) == [(ten, eleven)]
    now_offered = _starts(services, nora)
    assert ten not in now_offered and ten + timedelta(minutes=30) not in now_offered  # both overlap 10-11
    assert eleven in now_offered and ten - timedelta(minutes=60) in now_offered
    with pytest.raises(SlotTaken):  # the page showed 10:00 before Google said she was busy
        services.portal.book(nora.token, ten, "Europe/Berlin")
    [call] = fake_google.calls_to("POST /calendar/v3/freeBusy")
    horizon = datetime.fromisoformat(call.json["timeMax"]) - datetime.fromisoformat(call.json["timeMin"])
    assert horizon == timedelta(days=30 + 1)  # the study's horizon and a day


def test_the_ignore_rule_offers_busy_time_and_the_calendar_is_not_asked(
    services: Services, db: Database, fake_google: FakeGoogle, tick: CalendarTick, clock: MovableClock, nora: Link,
    study_id: int,
) -> None:
    ten = thursday(clock, 10)
    fake_google.add_event(ADA_EMAIL, ten, ten + MINUTES_45)
    assert tick.tick().busy_refreshed == 1
    assert ten not in _starts(services, nora)

    _set_rule(db, study_id, CalendarConflicts.IGNORE)

    assert ten in _starts(services, nora)
    clock.advance(minutes=10)
    assert tick.tick().busy_refreshed == 0 and len(fake_google.calls_to("freeBusy")) == 1


def test_the_all_rule_also_respects_events_marked_free_but_not_declined_ones(
    services: Services, db: Database, fake_google: FakeGoogle, tick: CalendarTick, clock: MovableClock, nora: Link,
    study_id: int, connection_id: int,
) -> None:
    ten, two = thursday(clock, 10), thursday(clock, 14)
    fake_google.add_event(ADA_EMAIL, ten, ten + MINUTES_45, summary="Focus time", transparent=True)
    with db.transaction() as session:  # a meeting she was invited to and declined
        calendar = services.calendars.client(session.get(CalendarConnection, connection_id))
    declined = calendar.insert_event(EventBody("Offsite", two, two + MINUTES_45, attendees=(
        Attendee(ADA_EMAIL), Attendee("boss@example.com"))), request_id="declined-offsite", meet=False)
    fake_google.respond(declined.id, ADA_EMAIL, "declined")
    _set_rule(db, study_id, CalendarConflicts.ALL)

    tick.tick()
    assert ten not in _starts(services, nora) and two in _starts(services, nora)

    _set_rule(db, study_id, CalendarConflicts.BUSY)  # free/busy leaves both out
    assert {ten, two} <= _starts(services, nora)


def test_a_hosts_own_interview_does_not_block_moving_it_but_blocks_others(
    services: Services, db: Database, fake_google: FakeGoogle, tick: CalendarTick, clock: MovableClock,
    connection_id: int, nora: Link, otto: Link,
) -> None:
    nine, ten = thursday(clock, 9), thursday(clock, 10)
    booking = services.portal.book(nora.token, ten, "Europe/Berlin")
    google_event_for(services, connection_id, booking.interview_id)
    fake_google.add_event(ADA_EMAIL, nine, ten, summary="Stand-up")  # free/busy merges it with the interview

    tick.tick()

    assert _blocks(db) == [(nine, ten)]  # 9:00-10:45 from Google, less the interview
    half_past = ten + timedelta(minutes=30)
    assert half_past in _starts(services, nora)  # overlaps her interview's old time: fine
    assert nine not in _starts(services, nora)
    assert ten not in _starts(services, otto) and half_past not in _starts(services, otto)
    services.portal.reschedule(nora.token, half_past, "Europe/Berlin", None)


def test_blocks_are_refreshed_when_stale_or_flagged_and_a_refused_grant_stops_counting(
    services: Services, db: Database, fake_google: FakeGoogle, tick: CalendarTick, clock: MovableClock,
    connection_id: int, nora: Link,
) -> None:
    ten = thursday(clock, 10)
    assert tick.tick().busy_refreshed == 1
    fake_google.add_event(ADA_EMAIL, ten, ten + MINUTES_45)

    clock.advance(minutes=4)
    assert tick.tick().busy_refreshed == 0
    with db.transaction() as session:  # as a push notification or a sync does
        session.execute(update(CalendarConnection).values(busy_checked_at=None))
    assert tick.tick().busy_refreshed == 1 and ten not in _starts(services, nora)

    fake_google.revoke_grant(ADA_EMAIL)
    fake_google.expire_access_tokens()
    clock.advance(minutes=5)
    done = tick.tick()

    assert done.busy_refreshed == 0 and len(done.needs_reconnect) == 1
    assert connection_row(db, connection_id).status is ConnectionStatus.NEEDS_RECONNECT
    assert ten in _starts(services, nora)  # what Google last said is no longer known to hold


# ---------------------------------------------------------------- before a participant page


def test_a_participant_page_refreshes_stale_blocks_first(
    services: Services, fake_google: FakeGoogle, connection_id: int, clock: MovableClock, nora: Link,
) -> None:
    busy = BusyTimes(services.db, services.clock, services.calendars)
    ten = thursday(clock, 10)
    assert busy.refresh_for_link(nora.token).refreshed == 1
    fake_google.add_event(ADA_EMAIL, ten, ten + MINUTES_45)

    clock.advance(seconds=59)
    assert busy.refresh_for_link(nora.token).refreshed == 0  # fresh enough: Google not asked
    assert len(fake_google.calls_to("freeBusy")) == 1
    clock.advance(seconds=1)
    assert busy.refresh_for_link(nora.token).refreshed == 1

    assert ten not in _starts(services, nora)
    assert busy.refresh_for_link("not-a-token").refreshed == 0


@pytest.mark.parametrize("trouble", ["slow", "down"])
def test_a_participant_page_falls_back_to_the_stored_blocks_when_google_is_slow_or_down(
    services: Services, db: Database, fake_google: FakeGoogle, clock: MovableClock, nora: Link, connection_id: int,
    trouble: str,
) -> None:
    busy = BusyTimes(services.db, services.clock, services.calendars)
    ten = thursday(clock, 10)
    fake_google.add_event(ADA_EMAIL, ten, ten + MINUTES_45)
    busy.refresh_for_link(nora.token)
    checked = connection_row(db, connection_id).busy_checked_at
    fake_google.add_event(ADA_EMAIL, ten + timedelta(hours=3), ten + timedelta(hours=4))
    clock.advance(minutes=2)
    if trouble == "slow":
        fake_google.stall_next("freeBusy", 2.0)
    else:
        fake_google.fail_next("freeBusy", 503)

    done = busy.refresh_for_link(nora.token, timeout=0.5)

    assert (done.refreshed, done.unavailable) == (0, 1)
    assert _blocks(db) == [(ten, ten + MINUTES_45)]  # as stored before
    assert ten not in _starts(services, nora) and ten + timedelta(hours=3) in _starts(services, nora)
    assert connection_row(db, connection_id).busy_checked_at == checked  # still due for the tick


# ---------------------------------------------------------------- the arithmetic


def test_subtract_cuts_spans_out_of_blocks() -> None:
    def at(hour: float) -> datetime:
        return datetime(2031, 1, 7, tzinfo=UTC) + timedelta(hours=hour)

    blocks = [(at(9), at(12)), (at(14), at(15)), (at(16), at(17))]
    cuts = [(at(10), at(10.5)), (at(11.5), at(14.5)), (at(16), at(17))]

    assert subtract(blocks, cuts) == [(at(9), at(10)), (at(10.5), at(11.5)), (at(14.5), at(15))]
    assert subtract(blocks, []) == blocks and subtract([], cuts) == []
