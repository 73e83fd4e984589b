"""No overbooking under concurrent requests, through the running server, on both databases.

Many participants post to the participant pages at once from a thread pool; afterwards the
database is checked directly: no interview holds more participants than its limit, no host has
two live interviews at overlapping times, and nobody holds two seats.
"""

import html
import re
import threading
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from itertools import pairwise

import httpx
import pytest
from sqlalchemy import delete, select

from bot.services import Services
from bot.web.views import start_value
from storage.enums import AttendeeRole, InterviewStatus
from storage.models import Interview, Study, StudyHost, TeamMember
from tests.conftest import BO, Seed
from tests.web import Link, interviews_at, interviews_of, participant_link

WORKERS = 16
BERLIN = "Europe/Berlin"

Request = Callable[[httpx.Client], httpx.Response]


# ---------------------------------------------------------------- set-up


@pytest.fixture
def single_host(services: Services, seeded: Seed) -> int:
    """The seeded study with Ada as its only host, so each time has one host to give."""
    with services.db.transaction() as session:
        session.execute(
            delete(StudyHost).where(
                StudyHost.study_id == seeded.study_id,
                StudyHost.member_id.in_(
                    select(TeamMember.id).where(TeamMember.slack_user_id == BO)
                ),
            )
        )
    return seeded.study_id


def set_limit(services: Services, study_id: int, participant_limit: int) -> None:
    with services.db.transaction() as session:
        study = session.get(Study, study_id)
        assert study is not None
        study.participant_limit = participant_limit


def people(services: Services, study_id: int, count: int, prefix: str) -> list[Link]:
    return [
        participant_link(services, study_id, f"{prefix}{i}@example.com", f"{prefix} {i}")
        for i in range(count)
    ]


def booking(link: Link, start: datetime) -> Request:
    return lambda client: client.post(
        link.page("book"), data={"start": start_value(start), "tz": BERLIN}
    )


def moving(link: Link, start: datetime) -> Request:
    return lambda client: client.post(
        link.page("reschedule"),
        data={"start": start_value(start), "tz": BERLIN, "reason": "racing"},
    )


# ---------------------------------------------------------------- racing


@pytest.fixture
def race(server_url: str) -> Iterator[Callable[[list[Request]], list[httpx.Response]]]:
    """Send the requests at once from ``WORKERS`` threads; the responses, in the requests' order."""
    local = threading.local()
    clients: list[httpx.Client] = []
    lock = threading.Lock()

    def client() -> httpx.Client:
        if not hasattr(local, "client"):
            local.client = httpx.Client(base_url=server_url, timeout=120, follow_redirects=False)
            with lock:
                clients.append(local.client)
        return local.client

    def run(requests: list[Request]) -> list[httpx.Response]:
        gate = threading.Event()

        def send(request: Request) -> httpx.Response:
            http = client()
            gate.wait()
            return request(http)

        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            futures = [pool.submit(send, request) for request in requests]
            gate.set()
            return [future.result() for future in futures]

    yield run
    for http in clients:
        http.close()


def statuses(responses: list[httpx.Response]) -> list[int]:
    return sorted(r.status_code for r in responses)


def headlines(responses: list[httpx.Response]) -> set[str]:
    """What the error pages among the responses said: their heading and first paragraph."""
    found: set[str] = set()
    for response in responses:
        match = re.search(
            r"<h1>(.*?)</h1>\s*<p class=\"(?:lead|notice)\">(.*?)</p>", response.text, re.DOTALL
        )
        if response.status_code >= 400 and match:
            said = html.unescape(re.sub(r"<[^>]+>", "", match.group(2)))
            found.add(f"{response.status_code} {match.group(1)}: {said}")
    return found


def assert_never_overbooked(services: Services) -> None:
    """Per live interview 1..limit participants; per host no overlap; per participant one seat."""
    with services.db.transaction() as session:
        live = session.scalars(
            select(Interview).where(Interview.status == InterviewStatus.UPCOMING)
        ).all()
        spans: dict[str, list[tuple[datetime, datetime, int]]] = defaultdict(list)
        seats: dict[int, list[int]] = defaultdict(list)
        for interview in live:
            seated = [
                a.participant_id for a in interview.attendees if a.role is AttendeeRole.PARTICIPANT
            ]
            assert 1 <= len(seated) <= interview.participant_limit, (interview.id, len(seated))
            for participant_id in seated:
                assert participant_id is not None
                seats[participant_id].append(interview.id)
            for host in (a for a in interview.attendees if a.role is AttendeeRole.HOST):
                assert host.slack_user_id is not None
                spans[host.slack_user_id].append(
                    (interview.starts_at, interview.ends_at, interview.id)
                )
        for host, times in spans.items():
            for (_, first_end, first), (second_start, _, second) in pairwise(sorted(times)):
                assert first_end <= second_start, (
                    f"{host} has interviews {first} and {second} at once"
                )
        assert {p: ids for p, ids in seats.items() if len(ids) > 1} == {}


def live_interviews(services: Services) -> int:
    with services.db.transaction() as session:
        return len(
            session.scalars(
                select(Interview.id).where(Interview.status == InterviewStatus.UPCOMING)
            ).all()
        )


# ---------------------------------------------------------------- the races


def test_forty_people_racing_for_one_time_book_it_once(
    services: Services, single_host: int, race: Callable[[list[Request]], list[httpx.Response]]
) -> None:
    links = people(services, single_host, 40, "racer")
    slot = services.portal.slots(links[0].token)[0]

    responses = race([booking(link, slot.start) for link in links])

    assert statuses(responses) == [303] + [409] * 39
    assert all("That time was just taken" in r.text for r in responses if r.status_code == 409)
    [interview] = interviews_at(services, single_host, slot.start)
    assert interview.participants == 1
    [winner] = [link for link, r in zip(links, responses, strict=True) if r.status_code == 303]
    assert [i.id for i in interviews_of(services, winner.participant_id)] == [interview.id]
    assert live_interviews(services) == 1
    assert_never_overbooked(services)


def test_twenty_people_racing_for_a_group_time_fill_exactly_its_seats(
    services: Services, single_host: int, race: Callable[[list[Request]], list[httpx.Response]]
) -> None:
    set_limit(services, single_host, 3)
    links = people(services, single_host, 20, "group")
    slot = services.portal.slots(links[0].token)[0]

    responses = race([booking(link, slot.start) for link in links])

    assert statuses(responses) == [303] * 3 + [409] * 17
    [interview] = interviews_at(services, single_host, slot.start)
    assert interview.participants == 3
    seated = {
        link.participant_id
        for link, r in zip(links, responses, strict=True)
        if r.status_code == 303
    }
    assert {
        link.participant_id for link in links if interviews_of(services, link.participant_id)
    } == seated
    assert live_interviews(services) == 1
    assert_never_overbooked(services)


def test_moving_into_a_time_while_others_book_it_gives_it_once(
    services: Services, single_host: int, race: Callable[[list[Request]], list[httpx.Response]]
) -> None:
    mover = participant_link(services, single_host, "mover@example.com", "Mover")
    slots = services.portal.slots(mover.token)
    services.portal.book(mover.token, slots[4].start, BERLIN)  # far enough ahead to be changed
    taken = 1

    for round_, target in enumerate(slots[8:20:2]):  # each round, the mover and three others
        bookers = people(services, single_host, 3, f"round{round_}-")
        [before] = interviews_of(services, mover.participant_id)

        responses = race(
            [moving(mover, target.start)] + [booking(link, target.start) for link in bookers]
        )

        assert statuses(responses) == [303, 409, 409, 409], headlines(responses)
        [at_target] = interviews_at(services, single_host, target.start)
        assert at_target.participants == 1
        [mine] = interviews_of(services, mover.participant_id)
        if responses[0].status_code == 303:  # the move won: its old time is free again
            assert (mine.id, mine.ical_sequence) == (at_target.id, before.ical_sequence + 1)
            assert interviews_at(services, single_host, before.starts_at) == []
        else:
            taken += 1
            assert mine == before
        assert live_interviews(services) == taken
        assert_never_overbooked(services)


def test_moving_into_a_group_time_while_others_book_its_last_seat_fills_it_once(
    services: Services, single_host: int, race: Callable[[list[Request]], list[httpx.Response]]
) -> None:
    set_limit(services, single_host, 3)
    mover, companion = people(services, single_host, 2, "seat")
    slots = services.portal.slots(mover.token)
    for link in (mover, companion):  # two seated: a move leaves the seat and takes a new one
        services.portal.book(link.token, slots[4].start, BERLIN)

    for round_, target in enumerate(slots[8:20:2]):  # a group time with one seat left
        for link in people(services, single_host, 2, f"early{round_}-"):
            services.portal.book(link.token, target.start, BERLIN)
        bookers = people(services, single_host, 3, f"round{round_}-")
        [before] = interviews_of(services, mover.participant_id)
        [seated_before] = interviews_at(services, single_host, before.starts_at)

        responses = race(
            [moving(mover, target.start)] + [booking(link, target.start) for link in bookers]
        )

        assert statuses(responses) == [303, 409, 409, 409], headlines(responses)
        [at_target] = interviews_at(services, single_host, target.start)
        assert at_target.participants == 3
        [mine] = interviews_of(services, mover.participant_id)
        [left] = interviews_at(services, single_host, before.starts_at)
        if responses[0].status_code == 303:
            assert mine.id == at_target.id
            assert left.participants == seated_before.participants - 1
        else:
            assert mine.id == before.id and left.participants == seated_before.participants
        assert_never_overbooked(services)


@pytest.mark.parametrize("hosts", ["one host", "two hosts"])
def test_ten_identical_submits_book_once_and_each_shows_the_booking(
    services: Services,
    seeded: Seed,
    hosts: str,
    race: Callable[[list[Request]], list[httpx.Response]],
    request: pytest.FixtureRequest,
) -> None:
    if hosts == "one host":
        request.getfixturevalue("single_host")
    link = participant_link(services, seeded.study_id, "twice@example.com", "Twice")
    slot = services.portal.slots(link.token)[0]

    responses = race([booking(link, slot.start)] * 10)

    [interview] = interviews_of(services, link.participant_id)
    assert (interview.starts_at, interview.participants) == (slot.start, 1)
    assert live_interviews(services) == 1
    assert_never_overbooked(services)
    # A double submit is not an error: every answer leads to the booking.
    assert statuses(responses) == [303] * 10, headlines(responses)
    assert {r.headers["location"] for r in responses} == {
        f"{link.page('booked')}?tz=Europe%2FBerlin"
    }


def test_ten_identical_moves_move_once_and_each_shows_the_booking(
    services: Services, single_host: int, race: Callable[[list[Request]], list[httpx.Response]]
) -> None:
    link = participant_link(services, single_host, "mover@example.com", "Mover")
    slots = services.portal.slots(link.token)
    services.portal.book(link.token, slots[4].start, BERLIN)

    for moves, target in enumerate([slots[12], slots[14], slots[16]], start=1):
        responses = race([moving(link, target.start)] * 10)

        [interview] = interviews_of(services, link.participant_id)
        assert (interview.starts_at, interview.ical_sequence) == (target.start, moves)
        assert_never_overbooked(services)
        assert statuses(responses) == [303] * 10, headlines(responses)


def test_ten_identical_cancels_cancel_once_without_a_server_error(
    services: Services, single_host: int, race: Callable[[list[Request]], list[httpx.Response]]
) -> None:
    link = participant_link(services, single_host, "leaver@example.com", "Leaver")
    slots = services.portal.slots(link.token)

    for rounds, slot in enumerate([slots[4], slots[6], slots[8]], start=1):
        services.portal.book(link.token, slot.start, BERLIN)
        responses = race(
            [lambda client: client.post(link.page("cancel"), data={"reason": "racing"})] * 10
        )

        booked = interviews_of(services, link.participant_id)
        assert len(booked) == rounds
        assert (booked[-1].status, booked[-1].ical_sequence) == (InterviewStatus.CANCELED, 1)
        assert live_interviews(services) == 0
        # One of them cancels; the others find nothing left to cancel, and none of them fails.
        said = headlines(responses)
        assert 303 in statuses(responses) and set(statuses(responses)) <= {303, 404}, said
