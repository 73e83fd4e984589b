"""Every participant form, fuzzed, against the real app over HTTP: never a 500, a named problem
page on rejection, nothing changed.

The forms are the pages' POSTs (``bot/web/pages.py``, ``waitlist.py``, ``attendance.py``): the
screener, booking, rescheduling, cancelling, joining and leaving the waitlist, and the
attendance and RSVP answers. Two kinds of hostile request:

* fields a page must refuse (a start it does not offer, an unknown zone, a reason too long, a
  screener answer that is not a choice, an ``at`` the page never showed), from the participant
  the page is for;
* forms that would be taken as they are, in an envelope the pages must not read (another
  content type, too large, too many fields, not UTF-8, posted from another site).

Every answer is a redirect that changes nothing, or a 4xx page that names the problem (its own
heading, the privacy headers). The GET pages' query parameters are fuzzed too. Both databases.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlencode
from zoneinfo import available_timezones

import httpx
from hypothesis import assume, given
from hypothesis import strategies as st

from bot.services import Services
from bot.web.responses import MAX_FORM_BYTES, MAX_FORM_FIELDS, SECURITY_HEADERS
from bot.web.views import start_value
from storage.db import Database
from tests.reliability import assert_unchanged, differences, fuzz_settings, snapshot
from tests.reliability.slack_fuzz import HOSTILE_TEXT, hostile_text
from tests.reliability.world import SCREENER_CHOICES, People

FORM = "application/x-www-form-urlencoded"
BERLIN = "Europe/Berlin"
ZONES = available_timezones()
REFUSALS = {400, 403, 404, 409, 410, 413, 415}
UNEXPECTED = "Something went wrong"  # the heading of the page for an unexpected exception


class Heading(HTMLParser):
    def __init__(self, html: str) -> None:
        super().__init__()
        self.h1, self._in = "", False
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in = self._in or tag == "h1"

    def handle_endtag(self, tag: str) -> None:
        self._in = self._in and tag != "h1"

    def handle_data(self, data: str) -> None:
        if self._in:
            self.h1 += data


def assert_named_answer(response: httpx.Response) -> None:
    """A redirect to another of the participant's pages, or a page naming the problem."""
    assert response.status_code < 500, response.text[:500]
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, name
    if response.status_code == 303:
        assert response.headers["location"].startswith("/s/")
        return
    assert response.status_code in REFUSALS, (response.status_code, response.text[:500])
    assert response.headers["content-type"].startswith("text/html")
    heading = " ".join(Heading(response.text).h1.split())
    assert heading and heading != UNEXPECTED, response.text[:500]


# ---------------------------------------------------------------- fields

def instant(value: str) -> datetime | None:
    """The moment a ``start`` field names, if it names one."""
    try:
        moment = datetime.fromisoformat(value)
        return moment.astimezone(UTC) if moment.utcoffset() is not None else None
    except (ValueError, OverflowError):  # not a moment, or one before year 1 or after 9999 in UTC
        return None


@st.composite
def starts(draw: st.DrawFn, setting: "Setting", form: str) -> str:
    """A ``start`` near what the ``form``'s page offers: offered ones, minutes off, other
    spellings, junk."""
    slot = draw(st.sampled_from(setting.offered[form]))
    return draw(st.one_of(
        st.just(start_value(slot)),
        st.integers(-90, 90).map(lambda minutes: start_value(slot + timedelta(minutes=minutes))),
        st.just(slot.astimezone().isoformat()),  # the same moment, another offset
        st.just(slot.replace(tzinfo=None).isoformat()),  # no offset at all
        unix_times,
        st.sampled_from(["0001-01-01T00:00:00+00:00", "9999-12-31T23:59:59-23:59", "2030-02-30T10:00:00Z",
                         "2030-03-08T09:00:00+99:00", "", " ", "now"]),
        hostile_text,
    ))


# Unix times around the ends of what ``datetime`` holds, and ordinary ones.
LAST_SECOND = int(datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp())
unix_times = st.one_of(
    st.integers(0, 10**13).map(str),
    st.sampled_from([str(LAST_SECOND), str(LAST_SECOND + 1), "999999999999", "0", "00001899190800", "１２３"]),
)

zones = st.one_of(st.just(BERLIN), st.sampled_from(["", "Mars/Olympus", "europe/berlin", "UTC ", "../etc"]),
                  hostile_text)
reasons = st.one_of(st.none(), hostile_text, st.integers(1001, 3000).map(lambda n: "why " * (n // 4 + 1)))


@dataclass(frozen=True)
class Post:
    """One form post: where, what, and whether the app would take it as it is."""

    path: str
    fields: dict[str, str]
    headers: tuple[tuple[str, str], ...] = ()


def _without_none(fields: dict[str, Any]) -> dict[str, str]:
    return {name: value for name, value in fields.items() if value is not None}


class Setting:
    """The participants and the times their pages offer (not a dataclass: Hypothesis would print
    every field in each failing example)."""

    def __init__(self, people: People, offered: dict[str, list[datetime]]) -> None:
        self.people = people
        self.offered = offered

    def __repr__(self) -> str:
        return "Setting(...)"


@st.composite
def refused_posts(draw: st.DrawFn, setting: Setting) -> Post:
    """A post with fields its page must refuse (or take as a repeat that changes nothing)."""
    people, offered = setting.people, setting.offered
    form = draw(st.sampled_from(["book", "reschedule", "cancel", "screener", "join", "leave", "attend", "rsvp"]))
    extra = draw(st.dictionaries(st.text(max_size=10), hostile_text, max_size=3))
    if form in ("book", "reschedule"):
        link = people.otto if form == "book" else people.nora
        start, zone = draw(starts(setting, form)), draw(zones)
        moment = instant(start)
        # An offered start in a known zone would book or move: that is not a refusal.
        assume(not (moment in offered[form] and zone in ZONES))
        fields = {"start": start, "tz": zone, "reason": draw(reasons)}
        return Post(link.page(form), _without_none({**extra, **fields}))
    if form == "cancel":
        # Nora may cancel with any reason of up to 1,000 characters; Otto has nothing to cancel.
        link = draw(st.sampled_from([people.nora, people.otto]))
        reason = draw(reasons)
        assume(link is people.otto or len(" ".join((reason or "").split())) > 1000)
        return Post(link.page("cancel"), _without_none({**extra, "reason": reason}))
    if form == "screener":
        answers = {q: draw(st.sampled_from(choices) | hostile_text) for q, choices in SCREENER_CHOICES.items()}
        assume(not all(answers[q].strip() in choices for q, choices in SCREENER_CHOICES.items()))
        link = draw(st.sampled_from([people.pia, people.nora]))  # Nora is booked: redirected
        return Post(link.page("screener"), {**extra, **answers})
    if form == "join":  # Nora is booked, so there is nothing for her to wait for
        return Post(people.nora.page("waitlist/join"), extra)
    if form == "leave":  # nobody is on the list, so leaving it changes nothing
        return Post(draw(st.sampled_from([people.nora, people.otto])).page("waitlist/leave"), extra)
    at = draw(st.one_of(st.just(people.seen), unix_times, hostile_text))
    interview = draw(st.one_of(st.just(str(people.interview_id)), st.sampled_from(["0", "99999", "1e3", "-1", "x"])))
    answer = draw(st.sampled_from(["yes", "maybe", "no", "YES", "perhaps", "n%C3%B6"])) if form == "rsvp" else None
    # The start the page showed, for Nora's interview, with a real answer: that would be taken.
    shown = at.isdigit() and int(at) == int(people.seen)
    assume(not (shown and interview == str(people.interview_id) and answer in (None, "yes", "maybe", "no")))
    path = people.nora.page(f"attend/{interview}" if answer is None else f"rsvp/{interview}/{answer}")
    return Post(path, {**extra, "at": at})


def valid_posts(people: People, offered: dict[str, list[datetime]]) -> list[Post]:
    """Posts each page would take (in an order in which each is still taken after the others):
    they must not be taken in an envelope that is not their own."""
    return [
        Post(people.nora.page(f"attend/{people.interview_id}"), {"at": people.seen}),
        Post(people.nora.page(f"rsvp/{people.interview_id}/no"), {"at": people.seen}),
        Post(people.pia.page("screener"), {"q1": "Weekly", "q2": "no"}),
        Post(people.otto.page("waitlist/join"), {}),
        Post(people.otto.page("book"), {"start": start_value(offered["book"][0]), "tz": BERLIN}),
        Post(people.nora.page("reschedule"), {"start": start_value(offered["reschedule"][-1]), "tz": BERLIN}),
        Post(people.nora.page("cancel"), {"reason": "Something came up"}),
    ]


def offered_times(services: Services, people: People) -> dict[str, list[datetime]]:
    return {
        "book": [s.start for s in services.portal.slots(people.otto.token)],
        "reschedule": [s.start for s in services.portal.slots(people.nora.token) if s.start != people.starts_at],
    }


# ---------------------------------------------------------------- envelopes

@st.composite
def broken_envelope(draw: st.DrawFn, post: Post) -> tuple[bytes, dict[str, str]]:
    """The post's fields in a body and headers the pages must refuse before reading them."""
    body = urlencode(post.fields).encode()
    ways = ["content type", "no content type", "too large", "too many fields", "not utf-8"]
    if "/attend/" in post.path or "/rsvp/" in post.path:
        ways.append("cross-site")  # only the attendance answers look at where a post came from
    how = draw(st.sampled_from(ways))
    headers = {"Content-Type": FORM}
    if how == "content type":
        headers["Content-Type"] = draw(st.sampled_from([
            "application/json", "multipart/form-data; boundary=x", "text/plain", "text/html", "application/xml",
            "application/x-www-form-urlencoded-evil",
        ]))
        body = draw(st.sampled_from([body, b"{}", b'{"start": "x"}'])) or b"x"
    elif how == "no content type":
        del headers["Content-Type"]
        body = body or b"a=b"
    elif how == "too large":
        body += b"&pad=" + b"x" * (MAX_FORM_BYTES + draw(st.integers(1, 5000)))
    elif how == "too many fields":
        body = urlencode({f"f{n}": "1" for n in range(MAX_FORM_FIELDS + 1)}).encode() + b"&" + body
    elif how == "not utf-8":
        body = body + b"&x=" + draw(st.sampled_from([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\x80abc"]))
    elif how == "cross-site":
        headers["Sec-Fetch-Site"] = "cross-site"
    return body, headers


# ---------------------------------------------------------------- the ends of the calendar


BEYOND_THE_CALENDAR = ["9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+01:00"]


def test_a_start_beyond_the_calendar_gets_a_named_400(http: httpx.Client, people: People, db: Database) -> None:
    """An ISO instant whose offset takes it outside years 1 to 9999 in UTC cannot be a slot."""
    before = snapshot(db)
    for start in BEYOND_THE_CALENDAR:
        assert instant(start) is None  # OverflowError in UTC
        for page, link in [("book", people.otto), ("reschedule", people.nora)]:
            response = http.post(link.page(page), data={"start": start, "tz": BERLIN})
            assert response.status_code == 400 and "That time could not be read" in response.text, (page, start)
            assert_named_answer(response)

    assert_unchanged(db, before)


def test_a_unix_time_past_year_9999_gets_a_named_answer(http: httpx.Client, people: People, db: Database) -> None:
    """Twelve digits reach past year 9999, and the last second of 9999 leaves the calendar once
    the interview's length is added: neither is a time a page showed, so neither is read."""
    before = snapshot(db)
    attend, rsvp = people.nora.page(f"attend/{people.interview_id}"), people.nora.page(f"rsvp/{people.interview_id}/yes")
    for late in ("999999999999", str(LAST_SECOND + 1), str(LAST_SECOND)):
        # A link's page as if it named no time: the interview as it is now.
        for page in (attend, rsvp):
            shown = http.get(page, params={"at": late})
            assert shown.status_code == 200 and f'value="{people.seen}"' in shown.text, (page, late)
        refused = [http.post(attend, data={"at": late}), http.get(people.otto.page("opening"), params={"start": late})]
        for response in refused:
            assert response.status_code == 400, (response.request.url, response.text[:300])
            assert_named_answer(response)

    assert_unchanged(db, before)


# ---------------------------------------------------------------- the properties


def test_fuzzed_fields_get_a_named_answer_and_change_nothing(
    http: httpx.Client, services: Services, people: People, db: Database,
) -> None:
    offered = offered_times(services, people)
    before = snapshot(db)

    @fuzz_settings(80)
    @given(post=refused_posts(Setting(people, offered)))
    def fuzz(post: Post) -> None:
        response = http.post(post.path, data=post.fields, headers=dict(post.headers))
        assert_named_answer(response)
        assert_unchanged(db, before)

    fuzz()


def test_valid_forms_in_an_envelope_not_their_own_are_refused_and_change_nothing(
    http: httpx.Client, services: Services, people: People, db: Database,
) -> None:
    offered = offered_times(services, people)
    posts = valid_posts(people, offered)
    before = snapshot(db)

    @fuzz_settings(50)
    @given(data=st.data())
    def fuzz(data: st.DataObject) -> None:
        post = data.draw(st.sampled_from(posts), label="post")
        body, headers = data.draw(broken_envelope(post), label="envelope")
        response = http.post(post.path, content=body, headers=headers)
        assert_named_answer(response)
        assert response.status_code in REFUSALS
        assert_unchanged(db, before)

    fuzz()
    # The same forms in their own envelope are taken: what the fuzzing sent was refused for
    # its envelope alone.
    for post in posts:
        response = http.post(post.path, data=post.fields)
        assert response.status_code == 303, (post.path, response.status_code, response.text[:300])
    assert differences(before, snapshot(db))


def test_fuzzed_queries_on_every_page_never_get_a_500(http: httpx.Client, people: People, db: Database) -> None:
    before = snapshot(db)
    pages = ["", "thanks", "booked", "manage", "canceled", "invite.ics", "waitlist", "opening",
             f"attend/{people.interview_id}", f"rsvp/{people.interview_id}/yes"]
    # Browsers and proxies cut URLs at a few kilobytes: the values stay short of that.
    value = st.one_of(st.sampled_from(HOSTILE_TEXT), st.text(max_size=60), unix_times,
                      st.integers(100, 1500).map(lambda n: "ж" * n))
    query = st.dictionaries(st.sampled_from(["tz", "moved", "at", "start", "left", "x"]), value, max_size=3)

    @fuzz_settings(50)
    @given(page=st.sampled_from(pages), query=query, link=st.sampled_from([people.nora, people.otto, people.pia]))
    def fuzz(page: str, query: dict[str, str], link: Any) -> None:
        response = http.get(link.page(page) if page else link.path, params=query)
        assert response.status_code < 500, response.text[:500]
        if response.status_code >= 400:
            assert_named_answer(response)
        assert_unchanged(db, before)

    fuzz()
