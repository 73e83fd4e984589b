"""The participant pages over real HTTP, on both databases: what they show and what they change."""

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import httpx
import pytest
from icalendar import Calendar

from bot.services import Services
from bot.services.notifications import when
from bot.services.slots import OpenSlot
from bot.web.views import moment, start_value
from storage.enums import InterviewStatus, StudyStatus
from storage.models import Study
from tests.conftest import ADA, MovableClock, Seed
from tests.web import (
    Link,
    first_participant,
    interviews_at,
    interviews_of,
    participant_link,
    participant_timezone,
)

NEW_YORK, BERLIN = "America/New_York", "Europe/Berlin"


# ---------------------------------------------------------------- reading pages


@dataclass
class Day:
    key: str
    heading: str = ""
    times: list[str] = field(default_factory=list)  # button labels
    starts: list[str] = field(default_factory=list)  # button values


class Page(HTMLParser):
    """The parts of a page the tests look at: day sections, slot buttons, headings, resources."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.days: list[Day] = []
        self.h1 = ""
        self.resources: list[str] = []  # what the browser would load by itself
        self.forms: list[str] = []  # form actions
        self.lang: str | None = None
        self._in: str | None = None
        self._button: str | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "html":
            self.lang = a.get("lang")
        if tag == "section" and a.get("data-day"):
            self.days.append(Day(a["data-day"] or ""))
        if tag in ("h2", "h3") and self.days and not self.days[-1].heading:
            self._in = "day"
        if tag == "h1":
            self._in = "h1"
        if tag == "button" and a.get("name") == "start":
            self._button = a.get("value") or ""
        if tag in ("script", "img", "iframe") and a.get("src"):
            self.resources.append(a["src"] or "")
        if tag == "link" and a.get("href"):
            self.resources.append(a["href"] or "")
        if tag == "form":
            self.forms.append(a.get("action") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("h1", "h2", "h3"):
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "h1":
            self.h1 += data
        elif self._in == "day":
            self.days[-1].heading += data
        elif self._button is not None and data.strip():
            self.days[-1].times.append(data.strip())
            self.days[-1].starts.append(self._button)
            self._button = None

    @property
    def starts(self) -> list[str]:
        return [s for d in self.days for s in d.starts]


def expected_days(slots: list[OpenSlot], zone: str) -> list[tuple[str, list[str]]]:
    """The grouping the page should show, worked out independently of the page's code."""
    grouped: dict[str, list[str]] = {}
    for slot in slots:
        local = slot.start.astimezone(ZoneInfo(zone))
        grouped.setdefault(local.date().isoformat(), []).append(local.strftime("%H:%M"))
    return list(grouped.items())


# ---------------------------------------------------------------- fixtures


@pytest.fixture
def http(server_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server_url, timeout=60, follow_redirects=False) as client:
        yield client


@pytest.fixture
def nora(services: Services, seeded: Seed) -> Link:
    return first_participant(services, seeded.study_id)


@pytest.fixture
def solo(services: Services, seeded: Seed) -> int:
    """A one-on-one study with a single host, so every time can be taken only once."""
    return services.studies.create(
        team_ref=seeded.team_id,
        name="Solo study",
        channel_id="C0SOLO",
        timezone=BERLIN,
        duration_minutes=30,
        host_ids=[ADA],
    ).id


def open_slots(services: Services, link: Link) -> list[OpenSlot]:
    return services.portal.slots(link.token)


def book(http: httpx.Client, link: Link, slot: OpenSlot, tz: str = BERLIN) -> httpx.Response:
    return http.post(link.page("book"), data={"start": start_value(slot.start), "tz": tz})


def set_study(services: Services, study_id: int, **values: object) -> None:
    with services.db.transaction() as session:
        study = session.get(Study, study_id)
        assert study is not None
        for name, value in values.items():
            setattr(study, name, value)


def assert_private(response: httpx.Response) -> None:
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "no-referrer"


# ---------------------------------------------------------------- choosing a time


def test_picker_groups_open_times_by_day_in_the_chosen_zone(
    services: Services, nora: Link, http: httpx.Client
) -> None:
    slots = open_slots(services, nora)
    assert slots

    new_york = http.get(nora.path, params={"tz": NEW_YORK})
    assert new_york.status_code == 200
    assert_private(new_york)
    page = Page(new_york.text)
    assert [(d.key, d.times) for d in page.days] == expected_days(slots, NEW_YORK)
    assert page.starts == [start_value(s.start) for s in slots]
    # Tuesday noon UTC plus a day's notice: Wednesday 13:00 in Berlin is 07:00 in New York.
    assert (page.days[0].key, page.days[0].heading, page.days[0].times[0]) == (
        "2030-03-06",
        "Wednesday 6 March",
        "07:00",
    )
    # New York moves its clocks on 10 March 2030, Berlin not until the 31st.
    friday = next(d for d in page.days if d.key == "2030-03-08")
    monday = next(d for d in page.days if d.key == "2030-03-11")
    assert (friday.times[0], monday.times[0]) == ("03:00", "04:00")
    assert f'<strong class="zone-name">{NEW_YORK}</strong>' in new_york.text
    assert f'<option value="{NEW_YORK}" selected>' in new_york.text
    assert 'data-zone-chosen="true"' in new_york.text

    berlin = http.get(nora.path)  # no zone chosen yet: the study's, and the script may pick another
    page = Page(berlin.text)
    assert [(d.key, d.times) for d in page.days] == expected_days(slots, BERLIN)
    assert page.days[0].times[0] == "13:00"
    assert f'<strong class="zone-name">{BERLIN}</strong>' in berlin.text
    assert 'data-zone-chosen="false"' in berlin.text
    assert page.lang == "en" and page.h1 == "Choose a time for your interview"
    assert "Checkout redesign" in berlin.text and "45 minutes" in berlin.text

    # Far east, Wednesday afternoon in Berlin is already Thursday.
    auckland = Page(http.get(nora.path, params={"tz": "Pacific/Auckland"}).text)
    assert auckland.days[0].key == "2030-03-07"
    assert [(d.key, d.times) for d in auckland.days] == expected_days(slots, "Pacific/Auckland")


def test_nothing_open_and_closed_study_have_their_own_pages(
    services: Services, seeded: Seed, nora: Link, http: httpx.Client
) -> None:
    set_study(services, seeded.study_id, availability=[])
    empty = http.get(nora.path)
    assert empty.status_code == 200
    assert "No times are open right now. Please look again in a day or two, or reply to the research team's email." in empty.text
    assert Page(empty.text).starts == []

    set_study(
        services,
        seeded.study_id,
        availability=[{"weekday": 2, "start": "09:00", "end": "17:00"}],
        status=StudyStatus.CLOSED,
    )
    closed = http.get(nora.path)
    assert closed.status_code == 403
    assert "This study is closed" in closed.text
    assert_private(closed)
    refused = http.post(nora.page("book"), data={"start": "2030-03-06T12:00:00Z", "tz": BERLIN})
    assert refused.status_code == 403
    assert interviews_of(services, nora.participant_id) == []


# ---------------------------------------------------------------- booking


def test_booking_redirects_to_the_confirmation_and_a_double_submit_books_once(
    services: Services, nora: Link, http: httpx.Client
) -> None:
    slot = open_slots(services, nora)[3]
    first = book(http, nora, slot, NEW_YORK)
    assert first.status_code == 303
    assert first.headers["location"] == f"{nora.page('booked')}?tz=America%2FNew_York"
    assert_private(first)

    again = book(http, nora, slot, NEW_YORK)  # the same button, tapped twice
    assert again.status_code == 303
    [interview] = interviews_of(services, nora.participant_id)
    assert interview.starts_at == slot.start and interview.status is InterviewStatus.UPCOMING
    assert participant_timezone(services, nora.participant_id) == NEW_YORK

    confirmation = http.get(first.headers["location"])
    assert confirmation.status_code == 200
    assert f"You're booked for <strong>{when(slot.start, slot.end, NEW_YORK)}</strong>" in confirmation.text
    assert 'href="https://meet.example.com/ada"' in confirmation.text
    assert f'href="{nora.page("invite.ics")}"' in confirmation.text
    assert f'Need to change it? <a href="{nora.page("manage")}">Reschedule or cancel</a>' in confirmation.text

    # The link now shows the booking, in the zone saved with it, instead of the picker.
    overview = http.get(nora.path)
    assert overview.status_code == 200
    assert Page(overview.text).starts == []
    assert when(slot.start, slot.end, NEW_YORK) in overview.text
    assert nora.page("manage") in overview.text

    other = book(http, nora, open_slots(services, nora)[9])
    assert other.status_code == 409
    assert "already have an interview booked" in other.text
    assert len(interviews_of(services, nora.participant_id)) == 1


def test_a_time_taken_meanwhile_offers_the_nearest_free_times(
    services: Services, solo: int, http: httpx.Client
) -> None:
    first = participant_link(services, solo, "first@example.com", "First")
    late = participant_link(services, solo, "late@example.com", "Late")
    slots = open_slots(services, late)
    services.portal.book(first.token, slots[5].start, BERLIN)

    response = book(http, late, slots[5], NEW_YORK)
    assert response.status_code == 409
    assert "That time was just taken" in response.text
    offered = Page(response.text).starts
    assert offered == [start_value(s.start) for s in slots[6:9]]
    assert f'<strong class="zone-name">{NEW_YORK}</strong>' in response.text
    assert f'action="{late.page("book")}"' in response.text
    assert interviews_of(services, late.participant_id) == []

    # Any of the offered buttons books.
    assert http.post(late.page("book"), data={"start": offered[0], "tz": NEW_YORK}).status_code == 303
    assert [i.starts_at for i in interviews_of(services, late.participant_id)] == [slots[6].start]


def test_moving_to_a_time_taken_meanwhile_keeps_the_booking_and_the_reason(
    services: Services, solo: int, http: httpx.Client
) -> None:
    mover = participant_link(services, solo, "mover@example.com", "Mover")
    other = participant_link(services, solo, "other@example.com", "Other")
    slots = open_slots(services, mover)
    book(http, mover, slots[10])
    services.portal.book(other.token, slots[20].start, BERLIN)

    form = {"start": start_value(slots[20].start), "tz": BERLIN, "reason": "Clash at <work>"}
    response = http.post(mover.page("reschedule"), data=form)
    assert response.status_code == 409
    assert f'action="{mover.page("reschedule")}"' in response.text
    assert '<input type="hidden" name="reason" value="Clash at &lt;work&gt;">' in response.text
    assert Page(response.text).starts == [start_value(s.start) for s in slots[21:24]]
    assert f'href="{mover.page("manage")}"' in response.text
    [interview] = interviews_of(services, mover.participant_id)
    assert (interview.starts_at, interview.ical_sequence) == (slots[10].start, 0)


def test_a_flood_of_bookings_for_one_time_books_exactly_one_participant(
    services: Services, solo: int, server_url: str
) -> None:
    links = [participant_link(services, solo, f"p{i}@example.com", f"P {i}") for i in range(30)]
    slot = open_slots(services, links[0])[0]
    ready = threading.Barrier(len(links))

    def race(link: Link) -> int:
        with httpx.Client(base_url=server_url, timeout=120) as client:
            ready.wait()
            return book(client, link, slot).status_code

    with ThreadPoolExecutor(len(links)) as pool:
        statuses = list(pool.map(race, links))

    assert sorted(statuses) == [303] + [409] * (len(links) - 1)
    [interview] = interviews_at(services, solo, slot.start)
    assert interview.participants == 1
    assert sum(len(interviews_of(services, link.participant_id)) for link in links) == 1


@pytest.mark.parametrize(
    "form",
    [
        {"start": "next tuesday", "tz": BERLIN},
        {"start": "2030-03-06T12:00:00", "tz": BERLIN},  # no offset: which 12:00?
        {"start": "2030-03-06T12:00:00Z" + " " * 60, "tz": BERLIN},
        {"tz": BERLIN},
        {"start": "2030-03-06T12:00:00Z", "tz": "Mars/Olympus_Mons"},
        {"start": "2030-03-06T12:00:00Z", "tz": "../../etc/passwd"},
        {"start": "2030-03-06T12:00:00Z"},
    ],
)
def test_unreadable_times_and_zones_are_refused(
    services: Services, nora: Link, http: httpx.Client, form: dict[str, str]
) -> None:
    response = http.post(nora.page("book"), data=form)
    assert response.status_code == 400
    assert_private(response)
    assert "Checkout redesign" in response.text  # the link is valid: the page still says where you are
    assert interviews_of(services, nora.participant_id) == []


def test_an_unknown_zone_in_the_address_is_refused(nora: Link, http: httpx.Client) -> None:
    response = http.get(nora.path, params={"tz": "Nowhere/Special"})
    assert response.status_code == 400
    assert "not one we know" in response.text
    assert f'href="{nora.path}"' in response.text


def test_an_unknown_or_tampered_link_is_404_everywhere(
    services: Services, nora: Link, http: httpx.Client
) -> None:
    tampered = nora.token[:-1] + ("A" if nora.token[-1] != "A" else "B")
    form = {"start": start_value(open_slots(services, nora)[0].start), "tz": BERLIN, "reason": "x"}
    for token in ("not-a-token", tampered, "x" * 500):
        for method, page in [
            ("GET", ""),
            ("GET", "/booked"),
            ("GET", "/manage"),
            ("GET", "/canceled"),
            ("GET", "/invite.ics"),
            ("POST", "/book"),
            ("POST", "/reschedule"),
            ("POST", "/cancel"),
        ]:
            response = http.request(method, f"/s/{token}{page}", data=form if method == "POST" else None)
            assert response.status_code == 404, (method, page)
            assert "This link is not valid" in response.text
            assert "Checkout redesign" not in response.text and "Nora" not in response.text
            assert "Traceback" not in response.text
            assert_private(response)
    assert interviews_of(services, nora.participant_id) == []


# ---------------------------------------------------------------- the booking afterwards


def test_the_calendar_file_is_the_current_invite(services: Services, nora: Link, http: httpx.Client) -> None:
    assert http.get(nora.page("invite.ics")).status_code == 404  # nothing booked yet

    slot = open_slots(services, nora)[2]
    book(http, nora, slot)
    response = http.get(nora.page("invite.ics"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    assert response.headers["content-disposition"].startswith("attachment")
    assert_private(response)
    calendar = Calendar.from_ical(response.content)
    assert str(calendar["METHOD"]) == "REQUEST"
    [event] = calendar.walk("VEVENT")
    [interview] = interviews_of(services, nora.participant_id)
    assert str(event["UID"]) == interview.ical_uid
    assert event.decoded("DTSTART") == slot.start
    attendees = event.get("ATTENDEE")
    attendees = attendees if isinstance(attendees, list) else [attendees]
    assert "mailto:nora@example.com" in [str(a).lower() for a in attendees]


def test_rescheduling_moves_the_interview_under_the_same_uid(
    services: Services, nora: Link, http: httpx.Client
) -> None:
    slots = open_slots(services, nora)
    book(http, nora, slots[10], NEW_YORK)
    [before] = interviews_of(services, nora.participant_id)

    manage = http.get(nora.page("manage"))
    assert manage.status_code == 200
    page = Page(manage.text)
    assert (
        f'action="{nora.page("reschedule")}"' in manage.text
        and f'action="{nora.page("cancel")}"' in manage.text
    )
    assert start_value(slots[10].start) not in page.starts  # not offered its own time
    assert start_value(slots[20].start) in page.starts
    assert f'<strong class="zone-name">{NEW_YORK}</strong>' in manage.text

    moved = http.post(
        nora.page("reschedule"),
        data={"start": start_value(slots[20].start), "tz": NEW_YORK, "reason": "A dentist appointment"},
    )
    assert moved.status_code == 303
    assert moved.headers["location"] == f"{nora.page('booked')}?tz=America%2FNew_York&moved=1"
    [after] = interviews_of(services, nora.participant_id)
    assert (after.id, after.ical_uid, after.ical_sequence) == (
        before.id,
        before.ical_uid,
        before.ical_sequence + 1,
    )
    assert after.starts_at == slots[20].start

    confirmation = http.get(moved.headers["location"])
    assert "Your interview has moved" in confirmation.text
    assert when(slots[20].start, slots[20].end, NEW_YORK) in confirmation.text


def test_cancelling_cancels_and_offers_to_book_again(
    services: Services, nora: Link, http: httpx.Client
) -> None:
    book(http, nora, open_slots(services, nora)[10])
    canceled = http.post(nora.page("cancel"), data={"reason": "Can't make it after all"})
    assert canceled.status_code == 303 and canceled.headers["location"] == nora.page("canceled")
    [interview] = interviews_of(services, nora.participant_id)
    assert interview.status is InterviewStatus.CANCELED

    page = http.get(nora.page("canceled"))
    assert page.status_code == 200
    assert "Your interview is canceled" in page.text
    assert f'href="{nora.path}">Book a new time' in page.text
    assert http.get(nora.page("manage")).headers["location"] == nora.path
    assert Page(http.get(nora.path).text).starts  # the picker is back


def test_too_late_to_change_says_until_when_and_refuses(
    services: Services, nora: Link, http: httpx.Client, clock: MovableClock
) -> None:
    slot = open_slots(services, nora)[10]
    book(http, nora, slot)
    clock.now = slot.start - timedelta(hours=23)  # the study allows changes until 24 hours before

    manage = http.get(nora.page("manage"))
    assert manage.status_code == 200
    assert f"possible until {moment(slot.start - timedelta(hours=24), BERLIN)}" in manage.text
    assert "reply to the email the research team sent you" in manage.text
    assert Page(manage.text).starts == [] and nora.page("cancel") not in manage.text

    later = open_slots(services, nora)[-1]
    for page, form in [("reschedule", {"start": start_value(later.start), "tz": BERLIN}), ("cancel", {})]:
        response = http.post(nora.page(page), data=form)
        assert response.status_code == 403
        assert "too late" in response.text
    [interview] = interviews_of(services, nora.participant_id)
    assert (interview.starts_at, interview.status, interview.ical_sequence) == (
        slot.start,
        InterviewStatus.UPCOMING,
        0,
    )


def test_an_absurdly_long_reason_is_refused_and_changes_nothing(
    services: Services, nora: Link, http: httpx.Client
) -> None:
    slots = open_slots(services, nora)
    book(http, nora, slots[10])
    long = http.post(nora.page("cancel"), data={"reason": "why " * 5000})
    assert long.status_code == 400
    assert "under 1000 characters" in long.text
    huge = http.post(
        nora.page("reschedule"),
        data={"start": start_value(slots[12].start), "tz": BERLIN, "reason": "x" * 1_000_000},
    )
    assert huge.status_code == 413
    [interview] = interviews_of(services, nora.participant_id)
    assert (interview.starts_at, interview.status) == (slots[10].start, InterviewStatus.UPCOMING)


# ---------------------------------------------------------------- safety of every page


def test_names_are_escaped(services: Services, seeded: Seed, http: httpx.Client) -> None:
    study = services.studies.create(
        team_ref=seeded.team_id,
        name='<img src=x onerror="alert(1)">',
        channel_id="C0EVIL",
        timezone=BERLIN,
        duration_minutes=30,
        host_ids=[ADA],
    )
    link = participant_link(services, study.id, "mallory@example.com", "<script>alert('hi')</script>")
    for path in (link.path, link.path + "?tz=UTC"):
        response = http.get(path)
        assert response.status_code == 200
        assert "<script>alert" not in response.text and "<img src=x" not in response.text
        assert "&lt;script&gt;alert(&#39;hi&#39;)&lt;/script&gt;" in response.text
        assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in response.text


def test_pages_load_nothing_from_elsewhere(services: Services, nora: Link, http: httpx.Client) -> None:
    book(http, nora, open_slots(services, nora)[10])
    for path in (nora.path, nora.page("booked"), nora.page("manage"), "/s/nope"):
        response = http.get(path)
        assert_private(response)
        assert "default-src 'none'" in response.headers["content-security-policy"]
        page = Page(response.text)
        assert page.resources and all(r.startswith("/s/assets/") for r in page.resources), page.resources
        assert all(action.startswith("/s/") for action in page.forms)
    css = http.get("/s/assets/pages.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert ":focus-visible" in css.text
    js = http.get("/s/assets/pages.js")
    assert js.status_code == 200 and "resolvedOptions().timeZone" in js.text
    assert http.get("/s/assets/../../settings.py").status_code == 404
    assert http.get("/s/assets/secret_key.py").status_code == 404


def test_only_form_posts_are_read(services: Services, nora: Link, http: httpx.Client) -> None:
    start = start_value(open_slots(services, nora)[0].start)
    response = http.post(nora.page("book"), json={"start": start, "tz": BERLIN})
    assert response.status_code == 415
    assert interviews_of(services, nora.participant_id) == []


def test_times_are_named_with_their_zone_on_every_page(
    services: Services, nora: Link, http: httpx.Client
) -> None:
    slot: OpenSlot = open_slots(services, nora)[10]
    book(http, nora, slot, "Asia/Kolkata")
    for path in (nora.path, nora.page("booked"), nora.page("manage")):
        text = http.get(path).text
        assert when(slot.start, slot.end, "Asia/Kolkata") in text
        assert '<strong class="zone-name">Asia/Kolkata</strong>' in text


def test_a_revoked_link_gets_the_not_valid_page(services: Services, seeded: Seed, server_url: str) -> None:
    old = first_participant(services, seeded.study_id)  # Nora
    services.participants.new_link(seeded.study_id, "nora@example.com")
    response = httpx.get(f"{server_url}/s/{old.token}")
    assert response.status_code == 404 and "not valid" in response.text
