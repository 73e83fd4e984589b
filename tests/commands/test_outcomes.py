"""Mark completed, Mark no-show and Cancel interview, clicked in Slack: what reached the fake Slack
API (replies, modals, the card and its thread) and the real SMTP server (the METHOD:CANCEL invites)."""

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from blocks.ids import ActionChoice, ActionId, action_button_id
from blocks.interview_actions import choice
from bot.actions import InterviewAction
from bot.composition import build_outbox_worker
from bot.jobs.outbox_worker import OutboxWorker
from bot.services import Services
from bot.settings import Settings
from storage.db import Database
from storage.enums import InterviewStatus, ParticipantStatus
from storage.models import Interview, Participant, Study, TeamMember
from tests.conftest import (
    ADA,
    BO,
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
from tests.support.mail import invite_attendees, invite_in, messages, text_of, with_smtp
from tests.support.smtp_servers import SmtpServer

A = InterviewAction
START = berlin(8, 10)  # two days after the clock's start: the participant may still move it


@pytest.fixture
def settings(settings: Settings, smtp_server: SmtpServer) -> Settings:
    return with_smtp(settings, smtp_server)


@pytest.fixture
def worker(settings: Settings, services: Services) -> OutboxWorker:
    return build_outbox_worker(settings, services)


@pytest.fixture
def ada_has_email(db: Database, seeded: Seed) -> None:
    with db.transaction() as session:
        ada = session.scalars(select(TeamMember).where(TeamMember.slack_user_id == ADA)).one()
        ada.email, ada.display_name = "ada@example.com", "Ada"


def _booked(slack: SlackClient, services: Services, seed: Seed, worker: OutboxWorker, *emails: str) -> int:
    """Book (one participant, or a group slot) and post its card as the app would have; then
    forget those calls, so that a test sees only what its actions caused."""
    ids = {services.booking.book(study_ref=seed.study_id, participant_email=e, starts_at=START, host_id=ADA, actor=CLI).interview_id
           for e in emails or ("nora@example.com",)}
    worker.drain()
    assert slack.fake.block_errors == []
    slack.fake.reset()
    [interview_id] = ids
    return interview_id


def _group_study(db: Database, seed: Seed) -> None:
    with db.transaction() as session:
        session.get(Study, seed.study_id).participant_limit = 3


def _value(services: Services, interview_id: int, action: InterviewAction) -> str:
    """The ActionChoice a button or More… option carries, for the interview as shown now."""
    return choice(services.interviews.details(interview_id, CLI).summary, action).encode()


def _click(slack: SlackClient, action: InterviewAction, value: str, *, user: str = ADA, view: dict[str, Any] | None = None) -> None:
    channel = None if view else CHANNEL
    assert slack.action(action_button_id(action), value=value, user=user, view=view, channel=channel).status_code == 200


def _choose(slack: SlackClient, value: str, *, user: str = ADA) -> None:
    assert slack.action(ActionId.INTERVIEW_MORE, action_type="static_select", selected_option_value=value, user=user).status_code == 200


def _submit(slack: SlackClient, view: dict[str, Any], values: dict[str, Any] | None = None, *, user: str = ADA) -> dict[str, Any]:
    body = slack_requests.view_submission(
        view["callback_id"], state_values=values or {}, private_metadata=view["private_metadata"],
        user_id=user, team_id=WORKSPACE, view_id=view.get("id", "V0DIALOG"),
    )
    response = slack.post(body)
    assert response.status_code == 200
    return response.json() if response.content else {}


def _replies(slack: SlackClient, count: int = 1) -> list[dict[str, Any]]:
    replies = [c.params for c in slack.fake.wait_for("response_url", count)]
    assert all(r["response_type"] == "ephemeral" for r in replies)
    return replies


def _opened(slack: SlackClient, count: int = 1, method: str = "views.open") -> dict[str, Any]:
    view = slack.fake.wait_for(method, count)[count - 1].params["view"]
    assert_valid_view(view)
    return view


def _card_updates(slack: SlackClient, count: int = 1) -> list[str]:
    return [json.dumps(c.params["blocks"], ensure_ascii=False) for c in slack.fake.wait_for("chat.update", count)]


def _thread_notes(slack: SlackClient, db: Database, interview_id: int, count: int) -> list[str]:
    with db.transaction() as session:
        ts = session.get(Interview, interview_id).slack_card_ts
    assert ts
    posts = slack.fake.wait_for("chat.postMessage", count)
    return [p.params["text"] for p in posts if p.params.get("thread_ts") == ts]


def _status(db: Database, interview_id: int) -> InterviewStatus:
    with db.transaction() as session:
        return session.get(Interview, interview_id).status


def _participant_statuses(db: Database) -> dict[str, ParticipantStatus]:
    with db.transaction() as session:
        return {p.name: p.status for p in session.scalars(select(Participant))}


def _view_text(view: dict[str, Any]) -> str:
    return json.dumps(view["blocks"], ensure_ascii=False)


# ---------------------------------------------------------------- Mark completed


def test_mark_completed_acts_at_once_and_a_double_click_changes_nothing(
    slack: SlackClient, services: Services, seeded: Seed, worker: OutboxWorker, clock: MovableClock, db: Database
) -> None:
    with db.transaction() as session:
        study = session.get(Study, seeded.study_id)
        study.incentive_amount, study.incentive_currency = 50, "EUR"
    interview_id = _booked(slack, services, seeded, worker)
    clock.now = START + timedelta(minutes=50)
    value = _value(services, interview_id, A.MARK_COMPLETED)

    _click(slack, A.MARK_COMPLETED, value)

    [reply] = _replies(slack)
    assert "Marked completed" in reply["text"] and "Send incentive" in reply["text"]
    [card] = _card_updates(slack)
    assert "*Completed*" in card and "Send incentive" in card and "Mark completed" not in card
    assert _thread_notes(slack, db, interview_id, 1) == [f"Marked completed by <@{ADA}>."]
    assert _status(db, interview_id) is InterviewStatus.COMPLETED
    assert _participant_statuses(db)["Nora Quist"] is ParticipantStatus.COMPLETED

    _click(slack, A.MARK_COMPLETED, value)  # the same button again

    second = _replies(slack, 2)[1]
    assert second["text"] == "Already marked completed by you, so nothing changed."
    assert len(slack.fake.calls_to("chat.update")) == 1 and len(slack.fake.calls_to("chat.postMessage")) == 1


def test_mark_completed_from_more_asks_first_and_names_the_teammate_on_a_repeat(
    slack: SlackClient, services: Services, seeded: Seed, worker: OutboxWorker, clock: MovableClock, db: Database
) -> None:
    interview_id = _booked(slack, services, seeded, worker)
    clock.now = START + timedelta(hours=2)
    _choose(slack, _value(services, interview_id, A.MARK_COMPLETED))

    dialog = _opened(slack)
    assert dialog["submit"]["text"] == "Mark completed" and "Nora Quist" in _view_text(dialog)
    assert _status(db, interview_id) is InterviewStatus.UPCOMING  # asked, not done

    done = _submit(slack, dialog)
    assert done["response_action"] == "update" and "Marked completed" in _view_text(done["view"])
    assert "*Completed*" in _card_updates(slack)[0]

    # Bo had the same dialog open, and submits it after Ada.
    again = _submit(slack, dialog, user=BO)
    assert f"Already marked completed by <@{ADA}>, so nothing changed." in _view_text(again["view"])
    assert len(slack.fake.calls_to("chat.update")) == 1


def test_marking_before_the_interview_starts_is_refused(
    slack: SlackClient, services: Services, seeded: Seed, worker: OutboxWorker, db: Database
) -> None:
    interview_id = _booked(slack, services, seeded, worker)
    # Not offered before the start: a crafted payload (or a very old message) asks anyway.
    crafted = ActionChoice(action=A.MARK_COMPLETED, interview_id=interview_id, seen_start=int(START.timestamp()),
                           seen_status=InterviewStatus.UPCOMING).encode()
    _click(slack, A.MARK_COMPLETED, crafted)
    _click(slack, A.MARK_NO_SHOW, crafted.replace('"completed"', '"no_show"'))
    replies = _replies(slack, 2)
    assert [r["text"] for r in replies] == ["It hasn't started yet; cancel or reschedule it instead."] * 2
    assert _status(db, interview_id) is InterviewStatus.UPCOMING
    assert slack.fake.calls_to("chat.update") == [] and slack.fake.calls_to("views.open") == []


def test_marking_inside_the_details_modal_answers_there_and_refreshes_it(
    slack: SlackClient, services: Services, seeded: Seed, worker: OutboxWorker, clock: MovableClock
) -> None:
    interview_id = _booked(slack, services, seeded, worker)
    clock.now = START + timedelta(minutes=50)
    details = {"id": "V0DETAILS", "type": "modal", "callback_id": "interview_details", "blocks": []}

    _click(slack, A.MARK_COMPLETED, _value(services, interview_id, A.MARK_COMPLETED), view=details)

    notice = _opened(slack, method="views.push")
    assert "Marked completed" in _view_text(notice)
    refreshed = slack.fake.wait_for("views.update")[0].params
    assert refreshed["view_id"] == "V0DETAILS" and "*Outcome:* Completed" in _view_text(refreshed["view"])


# ---------------------------------------------------------------- Mark no-show


def test_mark_no_show_on_a_one_on_one_acts_at_once(
    slack: SlackClient, services: Services, seeded: Seed, worker: OutboxWorker, clock: MovableClock, db: Database
) -> None:
    interview_id = _booked(slack, services, seeded, worker)
    clock.now = START + timedelta(hours=1)
    value = _value(services, interview_id, A.MARK_NO_SHOW)

    _click(slack, A.MARK_NO_SHOW, value)

    [reply] = _replies(slack)
    assert "Marked Nora Quist as a no-show" in reply["text"] and "Ask to reschedule (email)" in reply["text"]
    [card] = _card_updates(slack)
    assert "*No-show*" in card and "Reschedule" in card
    assert _thread_notes(slack, db, interview_id, 1) == [f"Marked no-show by <@{ADA}>: Nora Quist."]
    assert _participant_statuses(db)["Nora Quist"] is ParticipantStatus.NO_SHOW
    assert slack.fake.calls_to("views.open") == []  # the button's own confirm dialog asked

    _click(slack, A.MARK_NO_SHOW, value)  # a double click

    assert _replies(slack, 2)[1]["text"] == "Already marked as a no-show by you, so nothing changed."
    assert len(slack.fake.calls_to("chat.update")) == 1 and len(slack.fake.calls_to("chat.postMessage")) == 1


def test_mark_no_show_from_more_confirms_in_a_modal(
    slack: SlackClient, services: Services, seeded: Seed, worker: OutboxWorker, clock: MovableClock, db: Database
) -> None:
    interview_id = _booked(slack, services, seeded, worker)
    clock.now = START + timedelta(hours=1)
    _choose(slack, _value(services, interview_id, A.MARK_NO_SHOW))

    dialog = _opened(slack)
    assert "Mark *Nora Quist* as a no-show" in _view_text(dialog) and not any(b["type"] == "input" for b in dialog["blocks"])
    assert _status(db, interview_id) is InterviewStatus.UPCOMING

    garbled = _submit(slack, {**dialog, "private_metadata": '{"choice": "nope"}'})  # not one of ours
    assert "out of date" in _view_text(garbled["view"]) and _status(db, interview_id) is InterviewStatus.UPCOMING

    done = _submit(slack, dialog)
    assert "Marked Nora Quist as a no-show" in _view_text(done["view"])
    assert "*No-show*" in _card_updates(slack)[0] and _status(db, interview_id) is InterviewStatus.NO_SHOW


def test_a_group_slot_asks_who_did_not_come(
    slack: SlackClient, services: Services, seeded: Seed, worker: OutboxWorker, clock: MovableClock, db: Database
) -> None:
    _group_study(db, seeded)
    interview_id = _booked(slack, services, seeded, worker, "nora@example.com", "otto@example.com")
    clock.now = START + timedelta(hours=1)

    _click(slack, A.MARK_NO_SHOW, _value(services, interview_id, A.MARK_NO_SHOW))

    dialog = _opened(slack)
    assert dialog["callback_id"] == "interview_action.no_show"
    [checkboxes] = [b for b in dialog["blocks"] if b["type"] == "input"]
    options = {o["text"]["text"]: o["value"] for o in checkboxes["element"]["options"]}
    assert set(options) == {"Nora Quist", "Otto Berg"}
    block = checkboxes["block_id"]

    def ticked(*names: str) -> dict[str, Any]:
        chosen = [{"value": options[n], "text": {"type": "plain_text", "text": n}} for n in names]
        return {block: {"value": {"type": "checkboxes", "selected_options": chosen}}}

    nobody = _submit(slack, dialog, ticked())
    assert nobody["response_action"] == "errors" and "Tick who didn't come" in nobody["errors"][block]
    assert _status(db, interview_id) is InterviewStatus.UPCOMING

    done = _submit(slack, dialog, ticked("Otto Berg"))
    assert "Marked Otto Berg as a no-show" in _view_text(done["view"]) and "Nora Quist attended" in _view_text(done["view"])
    assert "*Completed*" in _card_updates(slack)[0]
    assert _thread_notes(slack, db, interview_id, 1) == [f"Marked no-show by <@{ADA}>: Otto Berg."]
    assert _participant_statuses(db) == {"Nora Quist": ParticipantStatus.COMPLETED, "Otto Berg": ParticipantStatus.NO_SHOW}

    repeat = _submit(slack, dialog, ticked("Otto Berg"))  # Slack retries the submission
    assert "Already marked this way (Otto Berg didn't come) by you" in _view_text(repeat["view"])
    assert len(slack.fake.calls_to("chat.update")) == 1


# ---------------------------------------------------------------- Cancel


def test_cancel_asks_then_sends_method_cancel_to_everyone_and_strikes_the_card(
    slack: SlackClient, services: Services, seeded: Seed, ada_has_email: None, worker: OutboxWorker,
    smtp_server: SmtpServer, db: Database,
) -> None:
    interview_id = _booked(slack, services, seeded, worker)
    with db.transaction() as session:
        booked = session.get(Interview, interview_id)
        uid, sequence = booked.ical_uid, booked.ical_sequence
    received = len(smtp_server.received)
    value = _value(services, interview_id, A.CANCEL)

    _choose(slack, value)

    dialog = _opened(slack)
    assert dialog["callback_id"] == "interview_action.cancel"
    assert (dialog["submit"]["text"], dialog["close"]["text"]) == ("Cancel interview", "Keep it")
    text = _view_text(dialog)
    assert "Nora Quist gets a cancellation email with a link to book a new time, and your message if you write one" in text
    assert f"<@{ADA}> gets a calendar cancellation" in text
    [field] = [b for b in dialog["blocks"] if b["type"] == "input"]
    assert field["optional"] and field["element"]["multiline"] and field["element"]["max_length"] == 1000
    assert _status(db, interview_id) is InterviewStatus.UPCOMING

    message = "Our host is ill, sorry!\nPlease pick another time."
    values = {field["block_id"]: {field["element"]["action_id"]: {"type": "plain_text_input", "value": message}}}
    working = _submit(slack, dialog, values)

    assert working["response_action"] == "update" and "Canceled the interview" in _view_text(working["view"])
    outcome = slack.fake.wait_for("views.update")[0].params
    assert outcome["view_id"] == "V0DIALOG" and "✓ Email to Nora Quist sent" in _view_text(outcome["view"])

    new_mail = smtp_server.handler.received[received:]
    assert sorted(r.rcpt_tos[0] for r in new_mail) == ["ada@example.com", "nora@example.com"]
    [to_nora] = messages(smtp_server, to="nora@example.com")[-1:]
    body = text_of(to_nora).replace("\r\n", "\n")
    assert message in body and "A message from Ada" in body and "http://participants.test/s/" in body
    for email_message in (to_nora, messages(smtp_server, to="ada@example.com")[-1]):
        calendar, event = invite_in(email_message)
        assert calendar["METHOD"] == "CANCEL" and event["STATUS"] == "CANCELLED"
        assert str(event["UID"]) == uid and int(event["SEQUENCE"]) == sequence + 1
        assert "mailto:nora@example.com" in invite_attendees(event)

    [card] = _card_updates(slack)
    assert "~*" in card and "Canceled" in card and "Our host is ill" in card
    assert not any(b["type"] == "actions" for b in slack.fake.calls_to("chat.update")[0].params["blocks"])
    [note] = _thread_notes(slack, db, interview_id, 1)
    assert note.startswith(f"<@{ADA}> canceled: “Our host is ill, sorry!")
    assert _participant_statuses(db)["Nora Quist"] is ParticipantStatus.CANCELED_INTERVIEW

    again = _submit(slack, dialog, values)  # a double submit, or Slack's retry
    assert "Already canceled by you, so nothing changed." in _view_text(again["view"])
    _choose(slack, value)  # Cancel again from a message that still shows it upcoming
    assert _replies(slack)[0]["text"] == "Already canceled by you, so nothing changed."
    assert len(slack.fake.calls_to("views.open")) == 1
    assert len(smtp_server.received) == received + 2 and len(slack.fake.calls_to("chat.update")) == 1


def test_cancel_of_a_group_slot_tells_every_participant(
    slack: SlackClient, services: Services, seeded: Seed, worker: OutboxWorker, smtp_server: SmtpServer, db: Database
) -> None:
    _group_study(db, seeded)
    interview_id = _booked(slack, services, seeded, worker, "nora@example.com", "otto@example.com")
    received = len(smtp_server.received)
    _choose(slack, _value(services, interview_id, A.CANCEL))
    dialog = _opened(slack)
    assert "This cancels the session for everyone in it" in _view_text(dialog)

    _submit(slack, dialog)

    slack.fake.wait_for("views.update")
    assert sorted(r.rcpt_tos[0] for r in smtp_server.handler.received[received:]) == ["nora@example.com", "otto@example.com"]
    assert "A message from" not in text_of(messages(smtp_server, to="otto@example.com")[-1])
    assert set(_participant_statuses(db).values()) == {ParticipantStatus.CANCELED_INTERVIEW}


# ---------------------------------------------------------------- who may, and stale views


def test_outsiders_change_nothing_even_with_crafted_payloads(
    slack: SlackClient, services: Services, seeded: Seed, worker: OutboxWorker, clock: MovableClock,
    smtp_server: SmtpServer, db: Database,
) -> None:
    interview_id = _booked(slack, services, seeded, worker)
    received = len(smtp_server.received)
    _choose(slack, _value(services, interview_id, A.CANCEL))
    dialog = _opened(slack)  # Ada's dialog, submitted by an outsider who got hold of it
    refused = _submit(slack, dialog, user=OUTSIDER)
    assert refused["response_action"] == "update" and "Only the research team" in _view_text(refused["view"])

    clock.now = START + timedelta(minutes=50)
    _click(slack, A.MARK_COMPLETED, _value(services, interview_id, A.MARK_COMPLETED), user=OUTSIDER)
    _click(slack, A.MARK_NO_SHOW, _value(services, interview_id, A.MARK_NO_SHOW), user=OUTSIDER)
    assert all("Only the research team" in r["text"] for r in _replies(slack, 2))

    assert _status(db, interview_id) is InterviewStatus.UPCOMING
    assert len(smtp_server.received) == received and slack.fake.calls_to("chat.update") == []


def test_mark_completed_after_a_teammate_canceled_explains_instead(
    slack: SlackClient, services: Services, seeded: Seed, worker: OutboxWorker, clock: MovableClock, db: Database
) -> None:
    interview_id = _booked(slack, services, seeded, worker)
    clock.now = START + timedelta(hours=2)
    value = _value(services, interview_id, A.MARK_COMPLETED)  # the card Ada is looking at
    _choose(slack, _value(services, interview_id, A.CANCEL), user=BO)
    _submit(slack, _opened(slack), user=BO)
    slack.fake.wait_for("views.update")

    _click(slack, A.MARK_COMPLETED, value)

    [reply] = _replies(slack)
    assert reply["text"].startswith(f"This interview was canceled by <@{BO}> since this was shown, so nothing was changed.")
    assert _status(db, interview_id) is InterviewStatus.CANCELED


def test_cancel_after_the_participant_moved_it_explains_instead(
    slack: SlackClient, services: Services, seeded: Seed, worker: OutboxWorker, smtp_server: SmtpServer, db: Database
) -> None:
    interview_id = _booked(slack, services, seeded, worker)
    stale = _value(services, interview_id, A.CANCEL)
    _choose(slack, stale)
    dialog = _opened(slack)  # opened before the move, submitted after it
    nora = next(p for p in services.participants.list(seeded.study_id) if p.email == "nora@example.com")
    token = services.participants.scheduling_link(nora.id).rsplit("/", 1)[-1]
    new_start = services.portal.slots(token)[3].start
    services.portal.reschedule(token, new_start, "Europe/Berlin", None)
    received = len(smtp_server.received)

    _choose(slack, stale)  # the old card's More… option
    [reply] = _replies(slack)
    assert "was moved by Nora Quist" in reply["text"] and f"<!date^{int(new_start.timestamp())}^" in reply["text"]
    assert len(slack.fake.calls_to("views.open")) == 1  # no second dialog

    explained = _submit(slack, dialog)
    assert explained["response_action"] == "update" and "was moved by Nora Quist" in _view_text(explained["view"])
    assert _status(db, interview_id) is InterviewStatus.UPCOMING and len(smtp_server.received) == received
