"""The email actions through signed requests: custom, reminder and reschedule-request emails
(open from More…, preview, send) and the incentive, against the fake Slack API and a real SMTP
server; permissions, stale views, inline errors, and SMTP being down."""

import json
import time
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from email.message import EmailMessage
from typing import Any

import pytest
from sqlalchemy import select

from blocks.email_modals import (
    AMOUNT,
    BODY,
    CLAIM_URL,
    CODE,
    CONFIRM,
    CURRENCY,
    INPUT,
    MESSAGE,
    PREVIEW_ACTION,
    RECIPIENTS,
    SUBJECT,
    compose_modal,
)
from blocks.ids import CallbackId
from blocks.interview_actions import choice
from bot.actions import InterviewAction
from bot.composition import build_outbox_worker
from bot.domain import MemberProfile
from bot.services import Services
from bot.services.composed_emails import PLACEHOLDERS, ComposeForm
from bot.settings import Settings
from storage.db import Database
from storage.enums import ActivityKind, AttendeeRole, InterviewStatus
from storage.models import ActivityEvent, Attendee, Interview, Participant, Study
from tests.conftest import (
    ADA,
    CHANNEL,
    CLI,
    OUTSIDER,
    WORKSPACE,
    MovableClock,
    Seed,
    SlackClient,
    berlin,
)
from tests.support import slack_requests
from tests.support.blockkit import assert_valid_view
from tests.support.mail import has_invite, html_of, messages, text_of, with_smtp
from tests.support.smtp_servers import BusyRecipientHandler, RecordingHandler, SmtpServer

A = InterviewAction
NORA_WHEN = "Wed 6 March 2030, 10:00–10:45 (Europe/Berlin)"


@pytest.fixture
def smtp_handler(request: pytest.FixtureRequest) -> RecordingHandler:
    """The real SMTP server's behaviour: accepts everything, or (``busy``) answers 451 once."""
    if getattr(request, "param", None) == "busy":
        return BusyRecipientHandler(refusals=1)
    return RecordingHandler()


@pytest.fixture
def smtp_server(start_smtp: Callable[..., SmtpServer], smtp_handler: RecordingHandler) -> SmtpServer:
    return start_smtp(smtp_handler)


@pytest.fixture
def settings(settings: Settings, smtp_server: SmtpServer) -> Settings:
    return with_smtp(settings, smtp_server)


@pytest.fixture
def deliver_pending(settings: Settings, services: Services, smtp_server: SmtpServer) -> Callable[[], None]:
    """What the server's tick does: deliver everything due (the booking's card and emails)."""

    def deliver() -> None:
        build_outbox_worker(settings, services).drain()

    return deliver


def _book(services: Services, seed: Seed, email: str = "nora@example.com", day: int = 6) -> int:
    services.profiles.remember(WORKSPACE, {ADA: MemberProfile("Ada Lovelace", "ada@example.com")})
    return services.booking.book(
        study_ref=seed.study_id, participant_email=email, starts_at=berlin(day, 10), host_id=ADA, actor=CLI,
    ).interview_id


def _choice(services: Services, interview_id: int, action: InterviewAction) -> str:
    return choice(services.interviews.details(interview_id, CLI).summary, action).encode()


def _open(slack: SlackClient, services: Services, interview_id: int, action: InterviewAction) -> dict[str, Any]:
    """Pick the action from the interview's More… menu; returns the modal that opened."""
    before = len(slack.fake.calls_to("views.open"))
    response = slack.action("interview.more", action_type="static_select", selected_option_value=_choice(services, interview_id, action))
    assert response.status_code == 200
    view = slack.fake.wait_for("views.open", before + 1)[-1].params["view"]
    assert_valid_view(view)
    return view


def _initial(view: dict[str, Any], block_id: str) -> Any:
    block = next(b for b in view["blocks"] if b.get("block_id") == block_id)
    element = block["element"]
    return element.get("initial_value") or element.get("initial_option") or element.get("initial_options")


def _text_state(**fields: str | None) -> dict[str, Any]:
    return {block: {INPUT: {"type": "plain_text_input", "value": value}} for block, value in fields.items()}


def _compose_state(subject: str | None, body: str | None, recipients: list[int] | None = None) -> dict[str, Any]:
    state = _text_state(**{SUBJECT: subject, BODY: body})
    if recipients is not None:
        options = [{"value": str(r), "text": {"type": "plain_text", "text": str(r)}} for r in recipients]
        state[RECIPIENTS] = {INPUT: {"type": "checkboxes", "selected_options": options}}
    return state


def _submit(slack: SlackClient, view: dict[str, Any], state: dict[str, Any], *, view_id: str, user: str = ADA, callback: str | None = None) -> dict[str, Any]:
    body = slack_requests.view_submission(
        callback or view["callback_id"], state_values=state, private_metadata=view["private_metadata"],
        user_id=user, team_id=WORKSPACE, view_id=view_id, blocks=view["blocks"],
    )
    response = slack.post(body)
    assert response.status_code == 200
    return response.json() if response.content else {}


def _outcome(slack: SlackClient, view_id: str, count: int = 1) -> str:
    """The text of the ``count``-th update of the submitted modal (the outcome after sending)."""
    deadline = time.monotonic() + 5
    while len(updates := [c.params["view"] for c in slack.fake.calls_to("views.update") if c.params["view_id"] == view_id]) < count:
        assert time.monotonic() < deadline, f"modal {view_id} was not updated {count} time(s)"
        time.sleep(0.02)
    assert_valid_view(updates[count - 1])
    return json.dumps(updates[count - 1]["blocks"], ensure_ascii=False)


def _events(db: Database, interview_id: int, kind: ActivityKind) -> list[ActivityEvent]:
    with db.transaction() as session:
        return list(session.scalars(select(ActivityEvent).where(ActivityEvent.interview_id == interview_id, ActivityEvent.kind == kind)))


def _participant_id(db: Database, email: str) -> int:
    with db.transaction() as session:
        return session.scalars(select(Participant.id).where(Participant.email == email)).one()


def _only_message(server: SmtpServer) -> EmailMessage:
    [message] = messages(server)
    return message


def _text(message: EmailMessage) -> str:
    return text_of(message).replace("\r\n", "\n")  # SMTP line ends


def _link_in(text: str, after: str) -> str:
    return text.split(after, 1)[1].split()[0]


# ---------------------------------------------------------------- custom email


def test_custom_email_opens_previews_and_sends_one_email_with_reply_to_the_teammate(
    slack: SlackClient, services: Services, seeded: Seed, db: Database, smtp_server: SmtpServer,
) -> None:
    interview_id = _book(services, seeded)
    view = _open(slack, services, interview_id, A.CUSTOM_EMAIL)
    assert view["callback_id"] == CallbackId.COMPOSE_EMAIL and view["title"]["text"] == "Custom email"
    shown = json.dumps(view["blocks"], ensure_ascii=False)
    assert "*To:* *Nora Quist* (nora@example.com)" in shown and "replies go to Ada Lovelace &lt;ada@example.com&gt;" in shown
    assert "{scheduling_link} their personal link to choose a time" in shown
    assert _initial(view, SUBJECT) == "About your {study} interview"
    assert _initial(view, BODY).startswith("Hi {name},")

    subject, body = "Your {study} session", "Hi {name},\n\nWe look forward to {time}.\nJoin: {meeting_link}\n\nAda"
    modal = {"id": "V0C1", "type": "modal", "callback_id": view["callback_id"], "private_metadata": view["private_metadata"],
             "blocks": view["blocks"], "state": {"values": _compose_state(subject, body)}, "hash": "h1"}
    slack.action(PREVIEW_ACTION, channel=None, view=modal)
    [update] = slack.fake.wait_for("views.update")
    assert update.params["view_id"] == "V0C1"
    previewed = update.params["view"]
    assert_valid_view(previewed)
    assert _initial(previewed, SUBJECT) == subject and _initial(previewed, BODY) == body  # kept as typed
    preview = json.dumps(previewed["blocks"], ensure_ascii=False)
    assert "*Preview* — as Nora Quist (nora@example.com) will get it" in preview
    assert "*Subject:* Your Checkout redesign session" in preview
    assert f"We look forward to {NORA_WHEN}." in preview and "Join: https://meet.example.com/ada" in preview

    answer = _submit(slack, previewed, _compose_state(subject, body), view_id="V0C1")
    assert answer["response_action"] == "update"
    assert_valid_view(answer["view"])
    working = json.dumps(answer["view"], ensure_ascii=False)
    assert "Your email to Nora Quist is on its way." in working and "⏳ Sending 1 update…" in working
    outcome = _outcome(slack, "V0C1", count=2)
    assert "✓ Email to Nora Quist sent" in outcome

    message = _only_message(smtp_server)
    assert message["To"] == "Nora Quist <nora@example.com>"
    assert message["From"] == "Checkout redesign team <interviews@example.com>"
    assert message["Reply-To"] == "Ada Lovelace <ada@example.com>"
    assert message["Subject"] == "Your Checkout redesign session"
    assert _text(message) == f"Hi Nora Quist,\n\nWe look forward to {NORA_WHEN}.\nJoin: https://meet.example.com/ada\n\nAda\n"
    assert '<a href="https://meet.example.com/ada"' in html_of(message) and not has_invite(message)

    [event] = _events(db, interview_id, ActivityKind.EMAIL_SENT)
    assert event.actor_slack_user_id == ADA
    assert event.details == {"template": "custom_email", "subject": "Your Checkout redesign session", "to": "Nora Quist"}
    assert slack.fake.calls_to("chat.postMessage") == []  # emails are quiet: no note in the card's thread

    again = _submit(slack, previewed, _compose_state(subject, body), view_id="V0C1")  # a double submission
    assert "already sent" in json.dumps(again["view"])
    assert len(messages(smtp_server)) == 1 and len(_events(db, interview_id, ActivityKind.EMAIL_SENT)) == 1


def test_reminder_sends_the_time_meeting_link_and_manage_link(
    slack: SlackClient, services: Services, seeded: Seed, db: Database, smtp_server: SmtpServer,
) -> None:
    interview_id = _book(services, seeded)
    view = _open(slack, services, interview_id, A.REMINDER_EMAIL)
    assert view["title"]["text"] == "Reminder email"
    _submit(slack, view, _compose_state(_initial(view, SUBJECT), _initial(view, BODY)), view_id="V0R1")
    assert "✓ Email to Nora Quist sent" in _outcome(slack, "V0R1", count=1)

    message = _only_message(smtp_server)
    # (Python's header folding doubles the space at the fold of a long non-ASCII subject.)
    assert " ".join(message["Subject"].split()) == f"Reminder: your Checkout redesign interview, {NORA_WHEN}"
    text = _text(message)
    assert f"When: {NORA_WHEN}" in text and "Join: https://meet.example.com/ada" in text
    manage = _link_in(text, "Reschedule or cancel here: ")
    assert manage.endswith("/manage")
    assert services.portal.state(manage.split("/")[-2]).booking.interview_id == interview_id  # type: ignore[union-attr]
    assert "Ada Lovelace, for the Checkout redesign team" in text
    [event] = _events(db, interview_id, ActivityKind.REMINDER_SENT)
    assert event.details["template"] == "reminder" and event.details["to"] == "Nora Quist"


def test_reschedule_request_lets_the_participant_choose_a_new_time_through_their_link(
    slack: SlackClient, services: Services, seeded: Seed, db: Database, smtp_server: SmtpServer,
) -> None:
    interview_id = _book(services, seeded, day=8)  # outside the participants' 24-hour change cut-off
    view = _open(slack, services, interview_id, A.RESCHEDULE_EMAIL)
    assert view["title"]["text"] == "Ask to reschedule" and "Nothing changes until they do" in json.dumps(view["blocks"])
    _submit(slack, view, _compose_state(_initial(view, SUBJECT), _initial(view, BODY)), view_id="V0S1")
    assert "Your request for a new time is on its way to Nora Quist." in _outcome(slack, "V0S1")

    message = _only_message(smtp_server)
    assert message["Subject"] == "Could we find a new time for your Checkout redesign interview?"
    token = _link_in(_text(message), "choose a new time that suits you here: ").rsplit("/", 1)[-1]
    state = services.portal.state(token)
    assert state.booking is not None and state.booking.can_change
    new_time = next(s.start for s in services.portal.slots(token) if s.start != state.booking.starts_at)
    moved = services.portal.reschedule(token, new_time, "Europe/Berlin", "the team asked")
    assert moved.interview_id == interview_id and moved.starts_at == new_time
    [event] = _events(db, interview_id, ActivityKind.EMAIL_SENT)
    assert event.details["template"] == "reschedule_request"


def test_a_reschedule_request_lifts_the_studys_change_rules_until_they_move_it(
    slack: SlackClient, services: Services, seeded: Seed, db: Database, smtp_server: SmtpServer,
) -> None:
    with db.transaction() as session:
        session.get(Study, seeded.study_id).participants_can_reschedule = False
    interview_id = _book(services, seeded, day=6)  # tomorrow: inside the 24-hour cut-off as well
    token = services.participants.scheduling_link(_participant_id(db, "nora@example.com")).rsplit("/", 1)[-1]
    assert not services.portal.state(token).booking.can_change  # type: ignore[union-attr]

    view = _open(slack, services, interview_id, A.RESCHEDULE_EMAIL)
    _submit(slack, view, _compose_state(_initial(view, SUBJECT), _initial(view, BODY)), view_id="V0S2")
    assert "on its way to Nora Quist" in _outcome(slack, "V0S2")
    assert services.portal.state(token).booking.can_change  # type: ignore[union-attr]

    new_time = services.portal.slots(token)[0].start
    services.portal.reschedule(token, new_time, "Europe/Berlin", None)
    assert not services.portal.state(token).booking.can_change  # answered: the study's rules again  # type: ignore[union-attr]


def test_group_slot_email_goes_to_each_chosen_participant_with_their_own_details(
    slack: SlackClient, services: Services, seeded: Seed, db: Database, smtp_server: SmtpServer,
) -> None:
    with db.transaction() as session:
        session.get(Study, seeded.study_id).participant_limit = 3
    interview_id = _book(services, seeded)
    _book(services, seeded, "otto@example.com")
    nora, otto = _participant_id(db, "nora@example.com"), _participant_id(db, "otto@example.com")
    view = _open(slack, services, interview_id, A.CUSTOM_EMAIL)
    assert [o["value"] for o in _initial(view, RECIPIENTS)] == [str(nora), str(otto)]  # everyone, to start with

    _submit(slack, view, _compose_state("Hello {name}", "See you {time}, {name}.", [nora, otto]), view_id="V0G1")
    outcome = _outcome(slack, "V0G1")
    assert "Your email to Nora Quist and Otto Berg is on its way." in outcome
    assert "✓ Email to Nora Quist sent" in outcome and "✓ Email to Otto Berg sent" in outcome
    received = {m["To"]: (m["Subject"], _text(m)) for m in messages(smtp_server)}
    assert received == {
        "Nora Quist <nora@example.com>": ("Hello Nora Quist", f"See you {NORA_WHEN}, Nora Quist.\n"),
        "Otto Berg <otto@example.com>": ("Hello Otto Berg", f"See you {NORA_WHEN}, Otto Berg.\n"),
    }

    _submit(slack, view, _compose_state("Only you", "Hi {name}", [otto]), view_id="V0G2")
    _outcome(slack, "V0G2")
    assert [m["To"] for m in messages(smtp_server, to="otto@")] == ["Otto Berg <otto@example.com>"] * 2
    assert len(messages(smtp_server, to="nora@")) == 1


# ---------------------------------------------------------------- refusals


def test_outsiders_get_not_allowed_and_nothing_is_sent(slack: SlackClient, services: Services, seeded: Seed, smtp_server: SmtpServer) -> None:
    interview_id = _book(services, seeded)
    view = _open(slack, services, interview_id, A.CUSTOM_EMAIL)

    slack.action("interview.more", user=OUTSIDER, action_type="static_select", selected_option_value=_choice(services, interview_id, A.CUSTOM_EMAIL))
    reply = slack.fake.wait_for("response_url")[0].params
    assert "Only the research team" in reply["text"] and reply["response_type"] == "ephemeral"
    assert len(slack.fake.calls_to("views.open")) == 1

    modal = {"id": "V0X1", "type": "modal", "private_metadata": view["private_metadata"], "blocks": view["blocks"],
             "state": {"values": _compose_state("Hi", "Hi {name}")}}
    slack.action(PREVIEW_ACTION, user=OUTSIDER, channel=None, view=modal)
    assert "Only the research team" in json.dumps(slack.fake.wait_for("views.push")[0].params["view"])

    answer = _submit(slack, view, _compose_state("Hi", "Hi {name}"), view_id="V0X1", user=OUTSIDER)
    assert answer["response_action"] == "update" and "Only the research team" in json.dumps(answer["view"])
    assert messages(smtp_server) == [] and slack.fake.calls_to("views.update") == []


def test_a_stale_view_tells_what_changed_and_sends_nothing(slack: SlackClient, services: Services, seeded: Seed, smtp_server: SmtpServer) -> None:
    interview_id = _book(services, seeded, day=8)
    view = _open(slack, services, interview_id, A.REMINDER_EMAIL)
    [(_, link)] = services.participants.links_for_interview(interview_id, CLI)
    services.portal.cancel(link.rsplit("/", 1)[-1], "Something came up")

    answer = _submit(slack, view, _compose_state("Reminder", "Hi {name}"), view_id="V0T1")
    assert answer["response_action"] == "update"
    explained = json.dumps(answer["view"], ensure_ascii=False)
    assert "Nora Quist" in explained and "cancel" in explained.lower()
    assert messages(smtp_server) == []


@pytest.mark.parametrize(("subject", "body", "block", "words"), [
    ("Hi", "Dear {nmae},", BODY, "{nmae} is not a placeholder"),
    ("Hi", "", BODY, "Please write a message"),
    ("Hi {when}", "Hello", SUBJECT, "{when} is not a placeholder"),
])
def test_bad_input_is_shown_next_to_the_field_and_nothing_is_sent(
    slack: SlackClient, services: Services, seeded: Seed, smtp_server: SmtpServer, subject: str, body: str, block: str, words: str,
) -> None:
    interview_id = _book(services, seeded)
    view = _open(slack, services, interview_id, A.CUSTOM_EMAIL)
    answer = _submit(slack, view, _compose_state(subject, body or None), view_id="V0E1")
    assert answer["response_action"] == "errors" and words in answer["errors"][block]
    assert messages(smtp_server) == []


def test_preview_of_a_bad_draft_says_what_is_wrong(slack: SlackClient, services: Services, seeded: Seed) -> None:
    interview_id = _book(services, seeded)
    view = _open(slack, services, interview_id, A.CUSTOM_EMAIL)
    modal = {"id": "V0P1", "type": "modal", "private_metadata": view["private_metadata"], "blocks": view["blocks"],
             "state": {"values": _compose_state("Hi", "Dear {nmae}")}}
    slack.action(PREVIEW_ACTION, channel=None, view=modal)
    updated = slack.fake.wait_for("views.update")[0].params["view"]
    assert_valid_view(updated)
    assert "Not ready to send:* {nmae} is not a placeholder" in json.dumps(updated["blocks"])


@pytest.mark.parametrize("smtp_handler", ["busy"], indirect=True)
def test_smtp_down_says_it_will_be_retried_and_nothing_is_lost(
    slack: SlackClient, services: Services, seeded: Seed, db: Database, smtp_server: SmtpServer,
    clock: MovableClock, deliver_pending: Callable[[], None],
) -> None:
    interview_id = _book(services, seeded)
    view = _open(slack, services, interview_id, A.CUSTOM_EMAIL)
    _submit(slack, view, _compose_state("Hello", "Hi {name}"), view_id="V0D1")

    outcome = _outcome(slack, "V0D1")
    assert "⏳ Email to Nora Quist not sent yet" in outcome and "451" in outcome and "retried automatically" in outcome
    assert messages(smtp_server) == [] and _events(db, interview_id, ActivityKind.EMAIL_SENT) == []

    clock.advance(hours=1)
    deliver_pending()  # the server's tick, later
    assert [m["Subject"] for m in messages(smtp_server, to="nora@")].count("Hello") == 1
    [event] = [e for e in _events(db, interview_id, ActivityKind.EMAIL_SENT) if e.details["template"] == "custom_email"]
    assert event.details["subject"] == "Hello" and event.actor_slack_user_id == ADA


# ---------------------------------------------------------------- incentive


def _completed(services: Services, seeded: Seed, db: Database, clock: MovableClock, deliver_pending: Callable[[], None], smtp_server: SmtpServer) -> int:
    """A completed interview in a study with a 25 EUR incentive, its card already posted."""
    with db.transaction() as session:
        study = session.get(Study, seeded.study_id)
        study.incentive_amount, study.incentive_currency = Decimal("25"), "EUR"
    interview_id = _book(services, seeded)
    with db.transaction() as session:
        session.get(Interview, interview_id).status = InterviewStatus.COMPLETED
    clock.advance(days=2)
    deliver_pending()
    smtp_server.handler.received.clear()  # the booking's own emails
    return interview_id


def _incentive_state(amount: str = "25.00", currency: str = "eur", code: str | None = "THANKS-42", claim_url: str | None = None,
                     message: str = "Hi {name}, thank you!", confirm: str | None = None) -> dict[str, Any]:
    state = _text_state(**{AMOUNT: amount, CURRENCY: currency, CODE: code, MESSAGE: message})
    state[CLAIM_URL] = {INPUT: {"type": "url_text_input", "value": claim_url}}
    if confirm is not None:
        state[CONFIRM] = {INPUT: {"type": "checkboxes", "selected_options": [{"value": confirm}] if confirm else []}}
    return state


def _seat(db: Database, interview_id: int) -> Attendee:
    with db.transaction() as session:
        return session.scalars(select(Attendee).where(Attendee.interview_id == interview_id, Attendee.participant_id.is_not(None))).one()


def test_incentive_is_sent_once_marked_and_told_in_the_cards_thread(
    slack: SlackClient, services: Services, seeded: Seed, db: Database, clock: MovableClock,
    smtp_server: SmtpServer, deliver_pending: Callable[[], None],
) -> None:
    interview_id = _completed(services, seeded, db, clock, deliver_pending, smtp_server)
    [card] = slack.fake.calls_to("chat.postMessage")  # the card, posted once booked (and rendered now: completed)
    card_before = card.params["blocks"]
    slack.action("interview.act.incentive_email", value=_choice(services, interview_id, A.INCENTIVE_EMAIL))  # the card's button
    view = slack.fake.wait_for("views.open")[0].params["view"]
    assert_valid_view(view)
    assert view["callback_id"] == CallbackId.INCENTIVE_EMAIL
    assert (_initial(view, AMOUNT), _initial(view, CURRENCY)) == ("25.00", "EUR")
    assert "{name}" in _initial(view, MESSAGE)

    _submit(slack, view, _incentive_state(), view_id="V0I1")
    outcome = _outcome(slack, "V0I1")
    assert "incentive of 25.00 EUR for Nora Quist" in outcome and "✓ Email to Nora Quist sent" in outcome

    message = _only_message(smtp_server)
    assert message["Subject"] == "Your thank-you for the Checkout redesign interview"
    assert message["Reply-To"] == "Ada Lovelace <ada@example.com>"
    text = _text(message)
    assert text.startswith("Hi Nora Quist, thank you!") and "Amount: 25.00 EUR" in text and "Code: THANKS-42" in text
    seat = _seat(db, interview_id)
    assert seat.incentive_sent_at == clock() and seat.incentive == {"amount": "25.00", "currency": "EUR", "code": "THANKS-42"}
    [event] = _events(db, interview_id, ActivityKind.INCENTIVE_SENT)
    assert event.actor_slack_user_id == ADA and event.details == {"to": "Nora Quist", "amount": "25.00", "currency": "EUR"}

    [edit] = slack.fake.wait_for("chat.update")  # the card, in place: "Send incentive" is no longer its button
    with db.transaction() as session:
        assert edit.params["ts"] == session.get(Interview, interview_id).slack_card_ts
    assert "interview.act.incentive_email" in json.dumps(card_before) and "interview.act.incentive_email" not in json.dumps(edit.params["blocks"])
    [note] = slack.fake.wait_for("chat.postMessage", 2)[1:]
    assert note.params["thread_ts"] == edit.params["ts"] and note.params["channel"] == CHANNEL
    assert note.params["text"] == f"<@{ADA}> sent the incentive to Nora Quist."

    again = _submit(slack, view, _incentive_state(), view_id="V0I1")  # a double submission
    assert "already sent" in json.dumps(again["view"])
    assert len(messages(smtp_server)) == 1


def test_a_second_incentive_asks_for_confirmation_first(
    slack: SlackClient, services: Services, seeded: Seed, db: Database, clock: MovableClock,
    smtp_server: SmtpServer, deliver_pending: Callable[[], None],
) -> None:
    interview_id = _completed(services, seeded, db, clock, deliver_pending, smtp_server)
    first_view = _open(slack, services, interview_id, A.INCENTIVE_EMAIL)
    _submit(slack, first_view, _incentive_state(), view_id="V0I1")
    _outcome(slack, "V0I1")
    first_sent = _seat(db, interview_id).incentive_sent_at
    assert first_sent is not None and len(messages(smtp_server)) == 1

    view = _open(slack, services, interview_id, A.INCENTIVE_EMAIL)
    assert "was already sent an incentive for this interview" in json.dumps(view["blocks"], ensure_ascii=False)
    asked = _submit(slack, view, _incentive_state(code="SECOND-7"), view_id="V0I2")
    assert asked["response_action"] == "update"
    confirm = asked["view"]
    assert_valid_view(confirm)
    assert confirm["callback_id"] == CallbackId.CONFIRM_INCENTIVE and _initial(confirm, CODE) == "SECOND-7"
    assert "Nothing has been sent yet" in json.dumps(confirm["blocks"])
    assert len(messages(smtp_server)) == 1

    unticked = _submit(slack, confirm, _incentive_state(code="SECOND-7", confirm=""), view_id="V0I2")
    assert unticked["response_action"] == "errors" and CONFIRM in unticked["errors"]
    tick = next(b for b in confirm["blocks"] if b.get("block_id") == CONFIRM)["element"]["options"][0]["value"]
    assert tick == f"{_participant_id(db, 'nora@example.com')}:{int(first_sent.timestamp())}"

    clock.advance(minutes=3)
    _submit(slack, confirm, _incentive_state(code="SECOND-7", confirm=tick), view_id="V0I2")
    assert "✓ Email to Nora Quist sent" in _outcome(slack, "V0I2")
    twice = _submit(slack, confirm, _incentive_state(code="SECOND-7", confirm=tick), view_id="V0I2")  # double submit
    assert "already sent" in json.dumps(twice["view"])
    assert ["THANKS-42" in _text(m) for m in messages(smtp_server)] == [True, False]
    assert "Code: SECOND-7" in _text(messages(smtp_server)[1])
    assert _seat(db, interview_id).incentive == {"amount": "25.00", "currency": "EUR", "code": "SECOND-7"}
    assert len(_events(db, interview_id, ActivityKind.INCENTIVE_SENT)) == 2


@pytest.mark.parametrize(("changes", "block", "words"), [
    ({"currency": "EURO"}, CURRENCY, "three-letter code"),
    ({"code": None, "claim_url": None}, CODE, "a code or a claim link"),
    ({"amount": "0"}, AMOUNT, "more than zero"),
])
def test_bad_incentive_input_is_shown_next_to_the_field(
    slack: SlackClient, services: Services, seeded: Seed, db: Database, clock: MovableClock,
    smtp_server: SmtpServer, deliver_pending: Callable[[], None], changes: dict[str, Any], block: str, words: str,
) -> None:
    interview_id = _completed(services, seeded, db, clock, deliver_pending, smtp_server)
    view = _open(slack, services, interview_id, A.INCENTIVE_EMAIL)
    answer = _submit(slack, view, _incentive_state(**changes), view_id="V0B1")
    assert answer["response_action"] == "errors" and words in answer["errors"][block]
    assert messages(smtp_server) == [] and _seat(db, interview_id).incentive_sent_at is None


def test_a_crafted_private_metadata_is_answered_not_acted_on(slack: SlackClient, services: Services, seeded: Seed, smtp_server: SmtpServer) -> None:
    interview_id = _book(services, seeded)
    view = _open(slack, services, interview_id, A.CUSTOM_EMAIL)
    answer = _submit(slack, {**view, "private_metadata": '{"choice": "nope"}'}, _compose_state("Hi", "Hi"), view_id="V0M1")
    assert answer["response_action"] == "update" and "out of date" in json.dumps(answer["view"])
    assert messages(smtp_server) == []


def test_group_incentive_asks_whom_and_goes_to_the_chosen_participant(
    slack: SlackClient, services: Services, seeded: Seed, db: Database, clock: MovableClock,
    smtp_server: SmtpServer, deliver_pending: Callable[[], None],
) -> None:
    with db.transaction() as session:
        session.get(Study, seeded.study_id).participant_limit = 3
    interview_id = _book(services, seeded, "otto@example.com")
    with db.transaction() as session:
        study = session.get(Study, seeded.study_id)
        study.incentive_amount, study.incentive_currency = Decimal("40"), "USD"
    _book(services, seeded, "nora@example.com")
    with db.transaction() as session:
        session.get(Interview, interview_id).status = InterviewStatus.COMPLETED
    clock.advance(days=2)
    otto = _participant_id(db, "otto@example.com")

    view = _open(slack, services, interview_id, A.INCENTIVE_EMAIL)
    select_block = next(b for b in view["blocks"] if b.get("block_id") == "incentive.participant")
    assert [o["text"]["text"] for o in select_block["element"]["options"]] == ["Otto Berg (otto@example.com)", "Nora Quist (nora@example.com)"]
    state = _incentive_state(amount="40", currency="usd")
    state["incentive.participant"] = {INPUT: {"type": "static_select", "selected_option": {"value": str(otto)}}}
    _submit(slack, view, state, view_id="V0GI")
    assert "incentive of 40 USD for Otto Berg" in _outcome(slack, "V0GI")
    assert [m["To"] for m in messages(smtp_server)] == ["Otto Berg <otto@example.com>"]

    reopened = _open(slack, services, interview_id, A.INCENTIVE_EMAIL)
    select_block = next(b for b in reopened["blocks"] if b.get("block_id") == "incentive.participant")
    assert select_block["element"]["initial_option"]["text"]["text"] == "Nora Quist (nora@example.com)"  # who is still due
    assert "Otto Berg (otto@example.com) — already sent" in json.dumps(select_block, ensure_ascii=False)


def test_a_large_group_chooses_recipients_from_a_multi_select(services: Services, seeded: Seed) -> None:
    interview_id = _book(services, seeded)
    summary = services.interviews.details(interview_id, CLI).summary
    nora = summary.participants[0]
    people = tuple(replace(nora, name=f"Person {i}", participant_id=100 + i) for i in range(12))
    hosts = tuple(a for a in summary.attendees if a.role is AttendeeRole.HOST)
    group = replace(summary, participant_limit=20, attendees=hosts + people)
    form = ComposeForm(interview=group, study_name="Checkout redesign", kind=A.CUSTOM_EMAIL, subject="S", body="B", reply_to=None)
    view = compose_modal(form, private_metadata="{}", placeholders=PLACEHOLDERS, selected=(101, 105)).to_dict()
    assert_valid_view(view)
    element = next(b for b in view["blocks"] if b.get("block_id") == RECIPIENTS)["element"]
    assert element["type"] == "multi_static_select" and len(element["options"]) == 12
    assert [o["value"] for o in element["initial_options"]] == ["101", "105"]
