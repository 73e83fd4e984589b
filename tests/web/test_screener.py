"""The screener pages over real HTTP, on both databases: asked before any time, bad answers named,
qualified participants on to the times, the others thanked and refused a booking."""

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest

from bot.services import Services
from bot.services.study_settings import SettingsForm, StudySettingsService
from bot.web.views import start_value
from storage.enums import ParticipantStatus
from storage.models import Participant, Study
from tests.conftest import CLI, Seed
from tests.web import Link, first_participant, interviews_of

SCREENER = "Do you shop online? | Weekly* | Monthly* | Never\nOwn a car? | yes | no*"
THANKS = "Thank you for your answers — this study is looking for a different profile right now"
BERLIN = "Europe/Berlin"


@dataclass
class Asked:
    legend: str = ""
    choices: list[str] = field(default_factory=list)  # radio values
    checked: list[str] = field(default_factory=list)
    error: str = ""


class ScreenerPage(HTMLParser):
    """The questions of a screener page, by field name, with their choices and problems."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.questions: dict[str, Asked] = {}
        self.h1 = ""
        self.forms: list[str] = []
        self._current: Asked | None = None
        self._in: str | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "fieldset":
            self._current = Asked()
        elif tag in ("legend", "h1"):
            self._in = tag
        elif tag == "p" and a.get("class") == "error":
            self._in = "error"
        elif tag == "form":
            self.forms.append(a.get("action") or "")
        elif tag == "input" and a.get("type") == "radio" and self._current is not None:
            self.questions.setdefault(a["name"] or "", self._current)
            self._current.choices.append(a.get("value") or "")
            if "checked" in a:
                self._current.checked.append(a.get("value") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("legend", "h1", "p"):
            self._in = None
        if tag == "fieldset":
            self._current = None

    def handle_data(self, data: str) -> None:
        if self._in == "h1":
            self.h1 += data
        elif self._in == "legend" and self._current is not None:
            self._current.legend += data
        elif self._in == "error" and self._current is not None:
            self._current.error += data


def slot_buttons(html: str) -> list[str]:
    return re.findall(r'name="start" value="([^"]+)"', html)


def answers_of(services: Services, participant_id: int) -> tuple[ParticipantStatus, dict[str, Any] | None]:
    with services.db.transaction() as session:
        participant = session.get(Participant, participant_id)
        assert participant is not None
        return participant.status, participant.screener_answers


def set_screener(services: Services, study_id: int, text: str) -> None:
    form = SettingsForm(immediate_scheduling=True, screener=text)
    StudySettingsService(services.db).update(study_id, form, CLI)


@pytest.fixture
def http(server_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server_url, timeout=60, follow_redirects=False) as client:
        yield client


@pytest.fixture
def nora(services: Services, seeded: Seed) -> Link:
    set_screener(services, seeded.study_id, SCREENER)
    return first_participant(services, seeded.study_id)


def book_first_time(services: Services, http: httpx.Client, link: Link) -> httpx.Response:
    slot = services.portal.slots(link.token)[0]
    return http.post(link.page("book"), data={"start": start_value(slot.start), "tz": BERLIN})


def test_the_screener_comes_before_any_time(services: Services, nora: Link, http: httpx.Client) -> None:
    response = http.get(nora.path)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    page = ScreenerPage(response.text)
    assert page.h1 == "A few questions before you choose a time"
    assert page.forms == [nora.page("screener")]
    assert {name: (q.legend, q.choices, q.error) for name, q in page.questions.items()} == {
        "q1": ("Do you shop online?", ["Weekly", "Monthly", "Never"], ""),
        "q2": ("Own a car?", ["yes", "no"], ""),
    }
    assert slot_buttons(response.text) == []
    assert "Checkout redesign" in response.text

    skipped = book_first_time(services, http, nora)  # straight to booking, past the questions
    assert skipped.status_code == 403
    assert "answer a few short questions" in skipped.text
    assert f'href="{nora.path}"' in skipped.text
    assert interviews_of(services, nora.participant_id) == []


def test_bad_answers_are_named_next_to_their_questions_and_nothing_is_saved(
    services: Services, nora: Link, http: httpx.Client
) -> None:
    response = http.post(nora.page("screener"), data={"q1": "Daily"})
    assert response.status_code == 400
    assert response.headers["cache-control"] == "no-store"
    page = ScreenerPage(response.text)
    assert page.questions["q1"].error == "Please choose one of the answers shown."
    assert page.questions["q2"].error == "Please choose an answer."
    assert page.questions["q1"].checked == []
    assert 'role="alert"' in response.text and 'href="#question-1"' in response.text
    assert answers_of(services, nora.participant_id) == (ParticipantStatus.INVITED, None)

    half = ScreenerPage(http.post(nora.page("screener"), data={"q1": "Monthly"}).text)
    assert (half.questions["q1"].checked, half.questions["q1"].error) == (["Monthly"], "")
    assert half.questions["q2"].error == "Please choose an answer."
    assert answers_of(services, nora.participant_id) == (ParticipantStatus.INVITED, None)


def test_qualified_participants_go_on_to_the_times_and_book(
    services: Services, nora: Link, http: httpx.Client
) -> None:
    answered = http.post(nora.page("screener"), data={"q1": "Weekly", "q2": "no"})
    assert answered.status_code == 303
    assert answered.headers["location"] == nora.path

    picker = http.get(nora.path)
    assert picker.status_code == 200
    assert "Choose a time for your interview" in picker.text
    assert slot_buttons(picker.text) == [start_value(s.start) for s in services.portal.slots(nora.token)]

    again = http.post(nora.page("screener"), data={"q1": "Never", "q2": "yes"})  # a second tap
    assert (again.status_code, again.headers["location"]) == (303, nora.path)
    status, answers = answers_of(services, nora.participant_id)
    assert status is ParticipantStatus.INVITED
    assert answers is not None and answers["q1"] == {"question": "Do you shop online?", "answer": "Weekly", "position": 0}
    assert http.get(nora.page("thanks")).headers["location"] == nora.path

    assert book_first_time(services, http, nora).status_code == 303
    assert len(interviews_of(services, nora.participant_id)) == 1
    assert http.post(nora.page("screener"), data={}).headers["location"] == nora.path


def test_others_are_thanked_whenever_they_come_back_and_cannot_book(
    services: Services, nora: Link, http: httpx.Client
) -> None:
    answered = http.post(nora.page("screener"), data={"q1": "Never", "q2": "no"})
    assert answered.status_code == 303
    assert answered.headers["location"] == nora.page("thanks")

    for path in (nora.page("thanks"), nora.path, nora.path + "?tz=UTC"):
        thanks = http.get(path)
        assert thanks.status_code == 200
        assert THANKS in thanks.text and "Checkout redesign" in thanks.text
        assert slot_buttons(thanks.text) == [] and "<form" not in thanks.text

    refused = book_first_time(services, http, nora)
    assert refused.status_code == 403
    assert THANKS in refused.text
    assert refused.headers["cache-control"] == "no-store"
    assert interviews_of(services, nora.participant_id) == []

    again = http.post(nora.page("screener"), data={"q1": "Weekly", "q2": "no"})  # trying other answers
    assert again.headers["location"] == nora.page("thanks")
    status, answers = answers_of(services, nora.participant_id)
    assert status is ParticipantStatus.NOT_QUALIFIED
    assert answers is not None and answers["q1"]["answer"] == "Never"


@pytest.mark.parametrize(
    "study_values",
    [{}, {"screener_text": SCREENER}, {"immediate_scheduling": True}],
    ids=["no-screener", "screener-without-immediate-scheduling", "immediate-scheduling-without-questions"],
)
def test_a_study_that_does_not_screen_shows_the_times_as_before(
    services: Services, seeded: Seed, http: httpx.Client, study_values: dict[str, Any]
) -> None:
    if "screener_text" in study_values:
        StudySettingsService(services.db).update(seeded.study_id, SettingsForm(screener=SCREENER), CLI)
    with services.db.transaction() as session:
        study = session.get(Study, seeded.study_id)
        assert study is not None
        study.immediate_scheduling = bool(study_values.get("immediate_scheduling"))
    nora = first_participant(services, seeded.study_id)

    picker = http.get(nora.path)
    assert picker.status_code == 200 and "Choose a time for your interview" in picker.text
    assert slot_buttons(picker.text) and nora.page("screener") not in picker.text
    assert http.get(nora.page("thanks")).headers["location"] == nora.path
    posted = http.post(nora.page("screener"), data={"q1": "Never"})
    assert (posted.status_code, posted.headers["location"]) == (303, nora.path)
    assert answers_of(services, nora.participant_id) == (ParticipantStatus.INVITED, None)
    assert book_first_time(services, http, nora).status_code == 303


def test_questions_and_answers_are_escaped(services: Services, seeded: Seed, http: httpx.Client) -> None:
    set_screener(services, seeded.study_id, "<script>alert('q')</script> Shop? | <b>yes</b>* | \"no\" & <i>never</i>")
    nora = first_participant(services, seeded.study_id)

    response = http.get(nora.path)
    assert "<script>alert" not in response.text and "<b>yes" not in response.text and "<i>never" not in response.text
    assert "&lt;script&gt;alert(&#39;q&#39;)&lt;/script&gt; Shop?" in response.text
    assert 'value="&lt;b&gt;yes&lt;/b&gt;"' in response.text
    assert 'value="&#34;no&#34; &amp; &lt;i&gt;never&lt;/i&gt;"' in response.text
    page = ScreenerPage(response.text)
    assert page.questions["q1"].legend == "<script>alert('q')</script> Shop?"

    wrong = http.post(nora.page("screener"), data={"q1": "<img src=x onerror=alert(1)>"})
    assert wrong.status_code == 400 and "<img src=x" not in wrong.text
    assert http.post(nora.page("screener"), data={"q1": "<b>yes</b>"}).headers["location"] == nora.path


def test_the_longest_screener_fits_the_form(services: Services, seeded: Seed, http: httpx.Client) -> None:
    set_screener(services, seeded.study_id, "\n".join(f"Question {n}? | yes* | no" for n in range(1, 21)))
    nora = first_participant(services, seeded.study_id)
    assert len(ScreenerPage(http.get(nora.path).text).questions) == 20

    answered = http.post(nora.page("screener"), data={f"q{n}": "yes" for n in range(1, 21)})
    assert (answered.status_code, answered.headers["location"]) == (303, nora.path)
    answers = answers_of(services, nora.participant_id)[1]
    assert answers is not None and len(answers) == 20


def test_an_unknown_link_is_404_on_the_screener_pages(nora: Link, http: httpx.Client) -> None:
    for method, page in [("POST", "/screener"), ("GET", "/thanks")]:
        response = http.request(method, f"/s/not-a-token{page}", data={"q1": "Weekly"} if method == "POST" else None)
        assert response.status_code == 404
        assert "This link is not valid" in response.text and "Checkout redesign" not in response.text
