"""HTML and Slack-markup injection through everything people type: escaped wherever it is shown.

A study, a participant, a screener, an interview's description and a cancellation reason are all
given hostile text: ``<script>``, an ``onerror`` attribute, ``<!channel>``, ``<@U0MAL>``, a
disguised link, ``*bold*``, backticks, an already-escaped ``&lt;``, right-to-left, CJK and emoji,
and names as long as they may be. The participant goes through the real pages (answers the
screener, books, cancels with a reason); the team through Slack (the list, View details, the
screener answers, the scheduling link, the Home tab, Edit details); the outbox delivers the
emails to a real SMTP server and the card and its notes to the fake Slack API. Then:

* in every mrkdwn text the bot sent, the only ``<…>`` controls are the app's own (date tokens,
  the team's mentions, its links): none came from what people typed, whose ``<``, ``>`` and
  ``&`` arrive as ``&lt;``, ``&gt;`` and ``&amp;``;
* in every HTML page and HTML email part, the hostile text is text: no script, tag or attribute
  of it exists in the document, and it reads back exactly as typed;
* plain-text email parts carry it verbatim, and no header breaks its line.

Both databases.
"""

import re
from datetime import timedelta
from email.message import EmailMessage
from html.parser import HTMLParser
from typing import Any

import pytest
from sqlalchemy import select

from blocks.ids import (
    ActionChoice,
    ActionId,
    ActionModalState,
    CallbackId,
    InterviewRef,
    action_button_id,
)
from bot.actions import InterviewAction
from bot.composition import build_outbox_worker
from bot.domain import Actor
from bot.services import Services
from bot.services.invitations import Invitee
from bot.services.study_settings import SettingsForm, StudySettingsService
from bot.settings import Settings
from bot.web.attendance import AUTO_SUBMIT_PATH
from bot.web.views import start_value
from storage.enums import InterviewStatus
from storage.models import Interview, TeamMember
from tests.conftest import ADA, CLI, WORKSPACE, Seed, berlin
from tests.reliability.world import RunningApp
from tests.support import slack_requests
from tests.support.fake_slack import RESPONSE_URL_METHOD
from tests.support.mail import html_of, messages, text_of, with_smtp
from tests.support.smtp_servers import SmtpServer
from tests.web import link_for

CHANNEL = "C0EVIL"
# What people type. Names are at most 200 characters; the participant's is padded to that with
# right-to-left and CJK text.
STUDY = "<script>alert('study')</script> <!here> _Study_ ```x``` &amp; שלום"
PARTICIPANT = ("<img src=x onerror=alert(1)> <@U0MAL> <!channel> *Mal* `x` &lt; "
               "\u202eevil\u202c مرحبا 日本語 👩🏽‍🔬").ljust(200, "語")[:200]
QUESTION = "<!channel> Do you <b>shop</b> online?"
ANSWER = "<script>alert('answer')</script>"
DESCRIPTION = "<https://evil.example|Click me> <!subteam^S0EVIL> &lt;b&gt; *desc* " + "ж" * 2000
REASON = "<script>alert('reason')</script> <!everyone> <@U0MAL> ```reason``` &lt;"
TYPED = [STUDY, PARTICIPANT, QUESTION, ANSWER, DESCRIPTION, REASON]

# Pieces of the typed text that must never be Slack controls or HTML.
HOSTILE_CONTROLS = ["script", "!here", "!channel", "!everyone", "!subteam", "U0MAL", "evil.example", "img", "<b>"]
OUR_LINKS = ("http://participants.test/", "https://meet.example.com/")


@pytest.fixture
def settings(settings: Settings, smtp_server: SmtpServer) -> Settings:
    return with_smtp(settings, smtp_server)


# ---------------------------------------------------------------- reading what was sent


def mrkdwn_texts(node: Any, *, top: bool = True) -> list[str]:
    """Every mrkdwn string in a Slack call's parameters or an acknowledgement: text objects of
    type mrkdwn, and (``top``) the top-level ``text`` of messages (mrkdwn unless said otherwise)."""
    found: list[str] = []
    if isinstance(node, dict):
        if node.get("type") == "mrkdwn" and isinstance(node.get("text"), str):
            found.append(node["text"])
        if top and isinstance(node.get("text"), str):
            found.append(node["text"])
        for key, value in node.items():
            if key != "text" or not isinstance(value, str):
                found += mrkdwn_texts(value, top=False)
    elif isinstance(node, list):
        for item in node:
            found += mrkdwn_texts(item, top=False)
    return found


ALLOWED_CONTROLS = [
    re.compile(r"^!date\^\d+\^[^|<>]*\|[^<>]*$"),  # a time in each reader's zone
    re.compile(r"^@U0(ADA|BO)$"),  # the team's own members
    re.compile(r"^#C0[A-Z0-9]+$"),  # a channel
]


def foreign_controls(text: str) -> list[str]:
    """The ``<…>`` controls of a mrkdwn string that are not the app's own."""
    bad = []
    for control in re.findall(r"<([^<>]*)>", text):
        if any(pattern.match(control) for pattern in ALLOWED_CONTROLS):
            continue
        if control.startswith(OUR_LINKS) and not any(word in control for word in HOSTILE_CONTROLS):
            continue
        bad.append(control)
    return bad


class Document(HTMLParser):
    """Tags, attributes, scripts and the text of an HTML document, as a browser would build them."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str]] = []
        self.scripts: list[str | None] = []  # src of each script (None: inline)
        self.text = ""
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes += [(name, value or "") for name, value in attrs]
        if tag == "script":
            self.scripts.append(dict(attrs).get("src"))

    def handle_data(self, data: str) -> None:
        self.text += data


def assert_inert(html: str, *, scripts: tuple[str, ...] = ()) -> Document:
    """No script, tag or attribute of the typed text exists; scripts only from ``scripts``."""
    document = Document(html)
    assert all(src is not None and src.startswith(scripts) for src in document.scripts), document.scripts
    assert "img" not in document.tags and "b" not in document.tags
    assert not [name for name, _ in document.attributes if name.startswith("on")]
    assert not [value for _, value in document.attributes if "evil.example" in value or "javascript:" in value]
    return document


def mail_to(server: SmtpServer, address: str) -> list[EmailMessage]:
    """The messages delivered to ``address``, by the SMTP envelope (not the To header)."""
    parsed = messages(server)
    assert len(parsed) == len(server.handler.received)
    return [m for m, r in zip(parsed, server.handler.received, strict=True) if address in r.rcpt_tos]


def _normal(text: str) -> str:
    return " ".join(text.split())


# ---------------------------------------------------------------- the journey


def test_what_people_type_is_escaped_in_slack_pages_and_emails(
    app: RunningApp, services: Services, seeded: Seed, settings: Settings, smtp_server: SmtpServer,
) -> None:
    ada = Actor.slack_user(WORKSPACE, ADA)
    with services.db.transaction() as session:
        session.scalars(select(TeamMember).where(TeamMember.slack_user_id == ADA)).one().email = "ada@example.com"
    study = services.studies.create(team_ref=seeded.team_id, name=STUDY, channel_id=CHANNEL, timezone="Europe/Berlin",
                                    duration_minutes=45, host_ids=[ADA])
    services.studies.set_host_conferencing(study.id, ADA, "https://meet.example.com/ada", "pw")
    StudySettingsService(services.db).update(study.id, SettingsForm(
        immediate_scheduling=True, screener=f"{QUESTION} | {ANSWER}* | No",
    ), CLI)
    services.invitations.invite(actor=ada, people=[Invitee(1, PARTICIPANT, "mallory@example.com")], bad_lines=[],
                                send_email=True, study_ref=study.id)
    [participant] = services.participants.list(study.id)
    link = link_for(services, participant.id)
    worker = build_outbox_worker(settings, services)
    pages: dict[str, str] = {}
    acks: list[Any] = []

    # The participant: the screener, a time, the booking, and later a cancel with a reason.
    pages["screener"] = app.http.get(link.path).text
    assert app.http.post(link.page("screener"), data={"q1": ANSWER}).status_code == 303
    pages["picker"] = app.http.get(link.path).text
    # Two days ahead: past the study's 24 hours of notice, so the participant may still cancel.
    slot = next(s for s in services.portal.slots(link.token) if s.start >= services.clock() + timedelta(days=2))
    assert app.http.post(link.page("book"), data={"start": start_value(slot.start), "tz": "Asia/Tokyo"}).status_code == 303
    pages["booked"] = app.http.get(link.page("booked")).text
    with services.db.transaction() as session:
        interview = session.scalars(select(Interview).where(Interview.study_id == study.id)).one()
        interview_id, seen_start = interview.id, int(interview.starts_at.timestamp())
    worker.drain()

    # The team, in Slack: the list, the details, the screener answers, the link, Home, Edit details.
    acks.append(app.post(slack_requests.slash_command(
        "/interviews", "", user_id=ADA, team_id=WORKSPACE, channel_id=CHANNEL, response_url=app.response_url(),
    )).json())
    def click(action: InterviewAction) -> None:
        value = ActionChoice(action=action, interview_id=interview_id, seen_start=seen_start,
                             seen_status=InterviewStatus.UPCOMING).encode()
        assert app.post(slack_requests.block_actions(
            action_button_id(action), value=value, user_id=ADA, team_id=WORKSPACE, channel_id=CHANNEL,
            response_url=app.response_url(),
        )).status_code == 200

    for action in (InterviewAction.SCREENER_RESPONSES, InterviewAction.COPY_LINK):
        click(action)
    home = slack_requests.event_callback({"type": "app_home_opened", "user": ADA, "tab": "home"}, team_id=WORKSPACE)
    assert app.post(home, content_type=slack_requests.JSON_CONTENT_TYPE).status_code == 200
    edit = ActionModalState(choice=ActionChoice(action=InterviewAction.EDIT_DETAILS, interview_id=interview_id,
                                                seen_start=seen_start)).encode()
    acks.append(app.post(slack_requests.view_submission(
        CallbackId.EDIT_DETAILS, private_metadata=edit, user_id=ADA, team_id=WORKSPACE, view_id="V0EDIT",
        state_values={"edit_details.description": {"value": {"type": "plain_text_input", "value": DESCRIPTION}}},
    )).json())
    assert app.post(slack_requests.block_actions(
        ActionId.VIEW_DETAILS, value=InterviewRef(interview_id=interview_id).encode(), user_id=ADA, team_id=WORKSPACE,
        channel_id=CHANNEL, response_url=app.response_url(),
    )).status_code == 200
    app.fake.wait_for("views.open", 1)
    pages["manage"] = app.http.get(link.page("manage")).text

    assert app.http.post(link.page("cancel"), data={"reason": REASON}).status_code == 303
    pages["canceled"] = app.http.get(link.page("canceled")).text
    acks.append(app.post(slack_requests.slash_command(
        "/interviews", "past", user_id=ADA, team_id=WORKSPACE, channel_id=CHANNEL, response_url=app.response_url(),
    )).json())
    app.settle()
    assert worker.drain().failed == 0

    # ------------------------------------------------------------ Slack: only the app's controls
    sent = [c.params for c in app.fake.calls if c.method not in ("auth.test",)]
    texts = [t for params in sent + acks for t in mrkdwn_texts(params)]
    found = {text[:120]: foreign_controls(text) for text in texts if foreign_controls(text)}
    assert found == {}
    everything = "\n".join(texts)
    # The typed text is there, escaped: this looked at the right messages.
    assert "&lt;@U0MAL&gt;" in everything and "&lt;!channel&gt;" in everything  # the participant's name
    assert "&lt;script&gt;alert('study')&lt;/script&gt;" in everything  # the study's name
    assert "&lt;https://evil.example|Click me&gt;" in everything  # the description
    assert "&lt;script&gt;alert('answer')&lt;/script&gt;" in everything  # the screener answer
    assert "&amp;lt;" in everything  # a typed "&lt;" stays literal
    assert {c.method for c in app.fake.calls} >= {"chat.postMessage", "views.open", "views.publish", RESPONSE_URL_METHOD}
    assert app.fake.block_errors == []

    # ------------------------------------------------------------ pages: text, never markup
    for name, html in pages.items():
        document = assert_inert(html, scripts=("/s/assets/", AUTO_SUBMIT_PATH))
        assert _normal(STUDY) in _normal(document.text), name  # every page names the study, as text
    for name in ("screener", "picker"):  # these greet the participant by name
        assert _normal(PARTICIPANT) in _normal(Document(pages[name]).text), name
    assert _normal(QUESTION) in _normal(Document(pages["screener"]).text)
    assert ANSWER in Document(pages["screener"]).text

    # ------------------------------------------------------------ emails: HTML inert, text verbatim
    received = messages(smtp_server)
    # Who received them (the headers' addresses: see the test below).
    assert {to for r in smtp_server.handler.received for to in r.rcpt_tos} >= {"mallory@example.com", "ada@example.com"}
    compared = 0
    for message in received:
        assert "\n" not in str(message["Subject"]) and "\r" not in str(message["Subject"])
        document = assert_inert(html_of(message))
        plain = text_of(message)
        shown = [typed for typed in TYPED if _normal(typed)[:60] in _normal(plain)]
        for typed in shown:  # what the text part shows, the HTML part shows as the same text
            assert _normal(typed)[:60] in _normal(document.text), (message["Subject"], typed[:40])
        compared += len(shown)
    assert compared >= len(received)  # every email showed something typed
    participant_mail = "\n".join(text_of(m) for m in mail_to(smtp_server, "mallory@example.com"))
    assert _normal(PARTICIPANT)[:60] in _normal(participant_mail)
    host_mail = "\n".join(text_of(m) + html_of(m) for m in mail_to(smtp_server, "ada@example.com"))
    assert "alert('reason')" in host_mail  # the reason reached the host, as text


def test_the_notification_text_of_cards_and_lists_is_escaped(
    app: RunningApp, services: Services, seeded: Seed, settings: Settings,
) -> None:
    study = services.studies.create(team_ref=seeded.team_id, name=STUDY, channel_id=CHANNEL, timezone="Europe/Berlin",
                                    duration_minutes=45, host_ids=[ADA])
    services.participants.add(study.id, "mallory@example.com", PARTICIPANT)
    services.booking.book(study_ref=study.id, participant_email="mallory@example.com",
                          starts_at=berlin(11, 10), host_id=ADA, actor=CLI)
    assert build_outbox_worker(settings, services).drain().failed == 0
    listing = app.post(slack_requests.slash_command(
        "/interviews", "", user_id=ADA, team_id=WORKSPACE, channel_id=CHANNEL, response_url=app.response_url(),
    )).json()

    [card] = [c for c in app.fake.calls_to("chat.postMessage") if c.params["channel"] == CHANNEL]
    fallbacks = {"card": card.params["text"], "list": listing["text"]}
    assert {where: foreign_controls(text) for where, text in fallbacks.items()} == {"card": [], "list": []}


def test_names_with_address_characters_leave_the_headers_addresses_alone(
    services: Services, seeded: Seed, settings: Settings, smtp_server: SmtpServer,
) -> None:
    study = services.studies.create(team_ref=seeded.team_id, name="Team <eve@evil.example> ö", channel_id=CHANNEL,
                                    timezone="Europe/Berlin", duration_minutes=45, host_ids=[ADA])
    services.invitations.invite(
        actor=Actor.slack_user(WORKSPACE, ADA), people=[Invitee(1, "Nora <eve@evil.example> Quist ö", "nq@example.com")],
        bad_lines=[], send_email=True, study_ref=study.id,
    )
    assert build_outbox_worker(settings, services).drain().failed == 0

    [message] = messages(smtp_server)
    assert [r.rcpt_tos for r in smtp_server.handler.received] == [("nq@example.com",)]
    assert [a.addr_spec for a in message["To"].addresses] == ["nq@example.com"]
    assert [a.addr_spec for a in message["From"].addresses] == ["interviews@example.com"]
