"""Reschedule, change host, edit details, participant limit and add a guest, end to end: signed
requests to the real app, the fake Slack API, the real SMTP server, and the invites parsed."""

import json
from datetime import datetime
from typing import Any

import pytest
from slack_sdk import WebClient
from sqlalchemy import select

from blocks.ids import ActionChoice, ActionModalState, CallbackId
from bot.actions import InterviewAction
from bot.domain import Actor
from bot.integrations.email import SmtpTransport
from bot.jobs.deliverers import EmailDeliverer, SlackPostDeliverer
from bot.jobs.outbox_worker import OutboxWorker
from bot.services import Services
from bot.services.interview_changes import InterviewChangeService
from bot.settings import Settings
from bot.web.views import start_value
from storage.db import Database
from storage.enums import InterviewStatus, OutboxKind
from storage.models import Interview, Participant, TeamMember
from tests.conftest import (
    ADA,
    BO,
    BOT_TOKEN,
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
ACTION_VIEW = "V0ACTION"


@pytest.fixture
def settings(settings: Settings, smtp_server: SmtpServer) -> Settings:
    return with_smtp(settings, smtp_server)


@pytest.fixture
def team_emails(db: Database, seeded: Seed) -> None:
    with db.transaction() as session:
        for member in session.scalars(select(TeamMember)):
            member.display_name, member.email = {ADA: ("Ada", "ada@example.com"), BO: ("Bo", "bo@example.com")}[member.slack_user_id]


@pytest.fixture
def worker(db: Database, clock: MovableClock, smtp_server: SmtpServer, slack: SlackClient) -> OutboxWorker:
    """The background tick's work, done when the test says: the booking's card and emails."""
    client = WebClient(token=BOT_TOKEN, base_url=slack.fake.api_url)
    return OutboxWorker(db, clock, {
        OutboxKind.EMAIL: EmailDeliverer(SmtpTransport(smtp_server.host, smtp_server.port, starttls=False, timeout=5)),
        OutboxKind.SLACK_POST: SlackPostDeliverer(client, db, clock),
    })


def _book(services: Services, study: int, email: str = "nora@example.com", at: datetime | None = None, host: str = ADA) -> int:
    return services.booking.book(study_ref=study, participant_email=email, starts_at=at or berlin(8, 10), host_id=host, actor=CLI).interview_id


def _posted_card(slack: SlackClient, worker: OutboxWorker, smtp: SmtpServer) -> dict[str, Any]:
    """Deliver what the booking queued; returns the card as posted, and starts the test's record afresh."""
    assert worker.drain().failed == 0
    [card] = slack.fake.calls_to("chat.postMessage")
    slack.fake.reset()
    smtp.handler.received.clear()
    return card.params


def _card_ts(db: Database, interview_id: int) -> str:
    with db.transaction() as session:
        ts = session.get(Interview, interview_id).slack_card_ts
        assert ts
        return ts


def _control(blocks: list[dict[str, Any]], action: InterviewAction) -> tuple[str, dict[str, Any]]:
    """The button or "More…" option for ``action`` on a card: (how to click it, its value)."""
    for block in blocks:
        for element in block.get("elements", []):
            if element.get("type") == "button" and element.get("action_id") == f"interview.act.{action.value}":
                return "button", {"action_id": element["action_id"], "value": element["value"]}
            for group in element.get("option_groups", []):
                for option in group["options"]:
                    if ActionChoice.decode(option["value"]).action is action:
                        return "static_select", {"action_id": element["action_id"], "selected_option_value": option["value"]}
    raise AssertionError(f"{action} is not offered on the card")


def _open(slack: SlackClient, card: dict[str, Any], action: InterviewAction, *, user: str = ADA) -> None:
    kind, click = _control(card["blocks"], action)
    response = slack.action(click.pop("action_id"), user=user, action_type=kind, **click)
    assert response.status_code == 200  # refusals too: they are answered, never a Slack error


def _opened(slack: SlackClient, method: str = "views.open") -> dict[str, Any]:
    view = slack.fake.wait_for(method)[-1].params["view"]
    assert_valid_view(view)
    return view


def _submit(slack: SlackClient, view: dict[str, Any], values: dict[str, Any], *, user: str = ADA) -> dict[str, Any]:
    body = slack_requests.view_submission(
        view["callback_id"], user_id=user, team_id=WORKSPACE, view_id=ACTION_VIEW, state_values=values,
        private_metadata=view["private_metadata"],
    )
    response = slack.post(body)
    assert response.status_code == 200
    return response.json() if response.content else {}


def _value(kind: str, **fields: Any) -> dict[str, Any]:
    return {"value": {"type": kind, **fields}}


def _when(moment: datetime, *, override: bool = False, reason: str | None = None) -> dict[str, Any]:
    return {
        "reschedule.when": _value("datetimepicker", selected_date_time=int(moment.timestamp())),
        "reschedule.override": _value("checkboxes", selected_options=[{"value": "override_availability"}] if override else []),
        "reschedule.reason": _value("plain_text_input", value=reason),
    }


def _outcome(slack: SlackClient, count: int = 1) -> str:
    """The submitted modal once its emails and posts went out."""
    updates = [c for c in slack.fake.wait_for("views.update", count) if c.params["view_id"] == ACTION_VIEW]
    assert_valid_view(updates[-1].params["view"])
    return json.dumps(updates[-1].params["view"]["blocks"], ensure_ascii=False)


def _text(view: dict[str, Any]) -> str:
    return json.dumps(view, ensure_ascii=False)


def _sequence(db: Database, interview_id: int) -> tuple[datetime, int, InterviewStatus]:
    with db.transaction() as session:
        interview = session.get(Interview, interview_id)
        return interview.starts_at, interview.ical_sequence, interview.status


# ---------------------------------------------------------------- reschedule


def test_reschedule_from_the_card_moves_the_interview_and_everyone_hears(
    slack: SlackClient, services: Services, seeded: Seed, team_emails: None, worker: OutboxWorker,
    smtp_server: SmtpServer, db: Database,
) -> None:
    interview_id = _book(services, seeded.study_id)
    card = _posted_card(slack, worker, smtp_server)
    uid = _uid(db, interview_id)

    _open(slack, card, A.RESCHEDULE)
    modal = _opened(slack)
    assert modal["title"]["text"] == "Reschedule interview" and modal["callback_id"] == CallbackId.RESCHEDULE
    assert "Europe/Berlin" in _text(modal) and f"<!date^{int(berlin(8, 10).timestamp())}^" in _text(modal)
    picker = next(b["element"] for b in modal["blocks"] if b.get("block_id") == "reschedule.when")
    assert picker["type"] == "datetimepicker" and picker["initial_date_time"] == int(berlin(8, 10).timestamp())
    assert ActionModalState.decode(modal["private_metadata"]).choice.interview_id == interview_id

    ack = _submit(slack, modal, _when(berlin(7, 14), reason="Ada is travelling"))

    assert ack["response_action"] == "update"
    token = f"<!date^{int(berlin(7, 14).timestamp())}^"
    working = _text(ack["view"])
    assert "Rescheduled to *" + token in working and "on their way to Nora Quist and Ada" in working and "Sending" in working
    outcome = _outcome(slack)
    assert "✓ Email to Nora Quist sent" in outcome and "✓ Email to Ada sent" in outcome
    # The card and its thread note follow the answer (they go at Slack's pace per channel).
    [update] = slack.fake.wait_for("chat.update")
    assert update.params["ts"] == _card_ts(db, interview_id) and token in json.dumps(update.params["blocks"])
    [note] = slack.fake.wait_for("chat.postMessage")
    assert note.params["thread_ts"] == _card_ts(db, interview_id)
    assert note.params["text"].startswith(f"<@{ADA}> rescheduled to *{token}") and "“Ada is travelling”" in note.params["text"]

    assert sorted(str(m["To"]) for m in messages(smtp_server)) == ["Ada <ada@example.com>", "Nora Quist <nora@example.com>"]
    for message in messages(smtp_server):
        calendar, event = invite_in(message)
        assert calendar["METHOD"] == "REQUEST" and str(event["UID"]) == uid and int(event["SEQUENCE"]) == 1
        assert event.decoded("DTSTART") == berlin(7, 14)
        assert set(invite_attendees(event)) == {"mailto:nora@example.com"}
    assert "Reason: Ada is travelling" in text_of(messages(smtp_server, to="nora@example.com")[0])

    # The same submission again (a double click, a retry): nothing changes, nothing is sent.
    again = _submit(slack, modal, _when(berlin(7, 14), reason="Ada is travelling"))
    assert "already at *" + token in _text(again["view"]) and "no email was sent" in _text(again["view"])
    assert len(messages(smtp_server)) == 2 and len(slack.fake.calls_to("chat.update")) == 1
    assert _sequence(db, interview_id)[1] == 1


def _uid(db: Database, interview_id: int) -> str:
    with db.transaction() as session:
        return session.get(Interview, interview_id).ical_uid


def test_reschedule_from_the_details_modal_refreshes_it(
    slack: SlackClient, services: Services, seeded: Seed, db: Database,
) -> None:
    interview_id = _book(services, seeded.study_id)
    summary = services.interviews.details(interview_id, CLI).summary
    choice = ActionChoice(action=A.RESCHEDULE, interview_id=interview_id, seen_start=int(summary.starts_at.timestamp()), seen_status=summary.status)
    details = {"id": "V0DETAILS", "type": "modal", "callback_id": "interview_details", "blocks": []}
    slack.action("interview.more", channel=None, action_type="static_select", selected_option_value=choice.encode(), view=details)
    modal = _opened(slack, "views.push")
    assert ActionModalState.decode(modal["private_metadata"]).details_view_id == "V0DETAILS"

    _submit(slack, modal, _when(berlin(7, 14)))

    refreshed = next(c for c in slack.fake.wait_for("views.update", 2) if c.params["view_id"] == "V0DETAILS").params["view"]
    assert refreshed["title"]["text"] == "Interview details"
    assert f"<!date^{int(berlin(7, 14).timestamp())}^" in _text(refreshed) and "rescheduled the interview" in _text(refreshed)
    assert _sequence(db, interview_id)[0] == berlin(7, 14)


def test_reschedule_refusals_appear_next_to_the_time(slack: SlackClient, services: Services, seeded: Seed, db: Database) -> None:
    interview_id = _book(services, seeded.study_id)
    _book(services, seeded.study_id, "otto@example.com", at=berlin(7, 10))  # Ada is busy on Thursday at 10
    summary = services.interviews.details(interview_id, CLI).summary
    choice = ActionChoice(action=A.RESCHEDULE, interview_id=interview_id, seen_start=int(summary.starts_at.timestamp()), seen_status=summary.status)
    modal = {"callback_id": CallbackId.RESCHEDULE, "private_metadata": ActionModalState(choice=choice).encode()}

    past = _submit(slack, modal, _when(berlin(1, 10)))
    outside = _submit(slack, modal, _when(berlin(7, 20)))
    clash = _submit(slack, modal, _when(berlin(7, 10, 30), override=True))
    missing = _submit(slack, modal, {"reschedule.when": _value("datetimepicker", selected_date_time=None)})

    assert past == {"response_action": "errors", "errors": {"reschedule.when": "That time has already passed; choose a time in the future."}}
    assert "outside the study's availability" in outside["errors"]["reschedule.when"]
    assert "already has an interview then" in clash["errors"]["reschedule.when"]
    assert "override does not cover" in clash["errors"]["reschedule.when"]
    assert missing["errors"] == {"reschedule.when": "Pick the new date and time."}
    assert _sequence(db, interview_id) == (berlin(8, 10), 0, InterviewStatus.UPCOMING)
    assert slack.fake.calls_to("views.update") == [] and slack.fake.calls_to("chat.update") == []


def test_reschedule_after_the_participant_canceled_says_so_and_changes_nothing(
    slack: SlackClient, services: Services, seeded: Seed, team_emails: None, worker: OutboxWorker,
    smtp_server: SmtpServer, db: Database,
) -> None:
    interview_id = _book(services, seeded.study_id)
    card = _posted_card(slack, worker, smtp_server)
    _open(slack, card, A.RESCHEDULE)
    modal = _opened(slack)
    services.portal.cancel(_token(services, db, "nora@example.com"), "Something came up")
    after_cancel = _sequence(db, interview_id)

    ack = _submit(slack, modal, _when(berlin(7, 14)))

    assert ack["response_action"] == "update"
    assert "was canceled by Nora Quist since this was shown, so nothing was changed" in _text(ack["view"])
    assert _sequence(db, interview_id) == after_cancel and after_cancel[2] is InterviewStatus.CANCELED
    assert messages(smtp_server) == []


def test_reschedule_after_a_teammate_moved_it_tells_who_and_where(
    slack: SlackClient, services: Services, seeded: Seed, worker: OutboxWorker, smtp_server: SmtpServer, db: Database,
) -> None:
    interview_id = _book(services, seeded.study_id)
    card = _posted_card(slack, worker, smtp_server)
    _open(slack, card, A.RESCHEDULE)
    modal = _opened(slack)
    changes = InterviewChangeService(services.db, services.clock, services.booking.notifier, services.mailer)
    changes.reschedule(interview_id, Actor.slack_user(WORKSPACE, BO), None, starts_at=berlin(7, 11))

    ack = _submit(slack, modal, _when(berlin(7, 15)))

    text = _text(ack["view"])
    assert f"was moved by <@{BO}> to *<!date^{int(berlin(7, 11).timestamp())}^" in text and "nothing was changed" in text
    assert _sequence(db, interview_id)[:2] == (berlin(7, 11), 1)


def _token(services: Services, db: Database, email: str, study_id: int | None = None) -> str:
    with db.transaction() as session:
        query = select(Participant.id).where(Participant.email == email)
        if study_id is not None:
            query = query.where(Participant.study_id == study_id)
        participant_id = session.scalars(query).one()
    return services.participants.scheduling_link(participant_id).rsplit("/", 1)[-1]


def test_outsiders_can_neither_open_nor_submit_a_change(
    slack: SlackClient, services: Services, seeded: Seed, worker: OutboxWorker, smtp_server: SmtpServer, db: Database,
) -> None:
    interview_id = _book(services, seeded.study_id)
    card = _posted_card(slack, worker, smtp_server)
    for action in (A.RESCHEDULE, A.CHANGE_HOST, A.EDIT_DETAILS, A.ADD_GUEST):
        _open(slack, card, action, user=OUTSIDER)
    replies = slack.fake.wait_for("response_url", 4)
    assert all("Only the research team" in r.params["text"] and r.params["response_type"] == "ephemeral" for r in replies)
    assert slack.fake.calls_to("views.open") == []

    # A hand-made submission with a teammate's modal state is refused as well.
    _open(slack, card, A.EDIT_DETAILS)
    modal = _opened(slack)
    crafted = _submit(slack, modal, {"edit_details.description": _value("plain_text_input", value="pwned")}, user=OUTSIDER)
    assert crafted["response_action"] == "update" and "Only the research team" in _text(crafted["view"])
    with db.transaction() as session:
        assert session.get(Interview, interview_id).description is None
    assert messages(smtp_server) == [] and slack.fake.calls_to("chat.update") == []


# ---------------------------------------------------------------- change host


def test_change_host_hands_over_and_keeps_the_organizer(
    slack: SlackClient, services: Services, seeded: Seed, team_emails: None, worker: OutboxWorker,
    smtp_server: SmtpServer, db: Database,
) -> None:
    services.studies.set_host_conferencing(seeded.study_id, BO, "https://meet.example.com/bo")
    interview_id = _book(services, seeded.study_id)
    card = _posted_card(slack, worker, smtp_server)

    _open(slack, card, A.CHANGE_HOST)
    modal = _opened(slack)
    host_select = next(b["element"] for b in modal["blocks"] if b.get("block_id") == "change_host.host")
    assert [o["value"] for o in host_select["options"]] == [BO]
    assert host_select["options"][0]["description"]["text"] == "Has a meeting room in this study"
    assert f"<@{ADA}> stays on the invite as its organizer" in _text(modal)

    ack = _submit(slack, modal, {
        "change_host.host": _value("static_select", selected_option={"value": BO, "text": {"type": "plain_text", "text": "Bo"}}),
        "change_host.link": _value("url_text_input", value="https://meet.example.com/ada"),
    })

    assert f"<@{BO}> is now the host. <@{ADA}> stays on the invite as its organizer." in _text(ack["view"])
    assert "✓ Email to Bo sent" in _outcome(slack)
    blocks = json.dumps(slack.fake.wait_for("chat.update")[0].params["blocks"])
    assert f"Host: <@{BO}>" in blocks and f"Guests: <@{ADA}>" in blocks and "meet.example.com/bo" in blocks
    [note] = slack.fake.wait_for("chat.postMessage")
    assert note.params["text"] == f"<@{ADA}> changed the host to <@{BO}> (was <@{ADA}>)."
    assert note.params["thread_ts"] == _card_ts(db, interview_id)

    assert "Your interview now has a new host: Bo." in text_of(messages(smtp_server, to="nora@example.com")[0])
    assert messages(smtp_server, to="bo@example.com")[0]["Subject"].startswith("You're now hosting")
    for message in messages(smtp_server):
        calendar, event = invite_in(message)
        assert calendar["METHOD"] == "REQUEST" and int(event["SEQUENCE"]) == 1
        assert str(event["ORGANIZER"]).lower() == "mailto:ada@example.com"
        assert set(invite_attendees(event)) == {"mailto:nora@example.com", "mailto:bo@example.com"}
    assert len(messages(smtp_server)) == 3

    again = _submit(slack, modal, {
        "change_host.host": _value("static_select", selected_option={"value": BO, "text": {"type": "plain_text", "text": "Bo"}}),
    })
    assert f"<@{BO}> is already the host" in _text(again["view"]) and len(messages(smtp_server)) == 3


def test_change_host_to_a_busy_teammate_is_refused_next_to_the_choice(
    slack: SlackClient, services: Services, seeded: Seed, db: Database,
) -> None:
    interview_id = _book(services, seeded.study_id)
    _book(services, seeded.study_id, "otto@example.com", at=berlin(8, 10, 30), host=BO)
    choice = ActionChoice(action=A.CHANGE_HOST, interview_id=interview_id)
    modal = {"callback_id": CallbackId.CHANGE_HOST, "private_metadata": ActionModalState(choice=choice).encode()}
    select_bo = _value("static_select", selected_option={"value": BO, "text": {"type": "plain_text", "text": "Bo"}})
    busy = _submit(slack, modal, {"change_host.host": select_bo})
    bad_link = _submit(slack, modal, {"change_host.host": select_bo, "change_host.link": _value("url_text_input", value="ftp://x")})
    nobody = _submit(slack, modal, {"change_host.host": _value("static_select", selected_option=None)})
    assert "already has an interview then" in busy["errors"]["change_host.host"]
    assert "web address" in bad_link["errors"]["change_host.link"]
    assert nobody["errors"] == {"change_host.host": "Choose the new host."}
    assert _sequence(db, interview_id)[1] == 0


# ---------------------------------------------------------------- edit details


def test_edit_details_updates_the_invite_once(
    slack: SlackClient, services: Services, seeded: Seed, team_emails: None, worker: OutboxWorker,
    smtp_server: SmtpServer, db: Database,
) -> None:
    interview_id = _book(services, seeded.study_id)
    card = _posted_card(slack, worker, smtp_server)
    _open(slack, card, A.EDIT_DETAILS)
    modal = _opened(slack)
    inputs = {b["block_id"]: b["element"] for b in modal["blocks"] if b["type"] == "input"}
    assert inputs["edit_details.link"]["initial_value"] == "https://meet.example.com/ada"
    assert inputs["edit_details.password"]["initial_value"] == "s3cret"

    def edit(link: str) -> dict[str, Any]:
        return _submit(slack, modal, {
            "edit_details.description": _value("plain_text_input", value="We look at the new checkout."),
            "edit_details.link": _value("url_text_input", value=link),
            "edit_details.password": _value("plain_text_input", value="s3cret"),
        })

    invalid = edit("javascript:alert(1)")
    assert "web address" in invalid["errors"]["edit_details.link"]
    assert _sequence(db, interview_id)[1] == 0

    ack = edit("https://meet.example.com/room-2")
    assert "Updated the description and meeting link. Updated invites are on their way to Nora Quist and Ada." in _text(ack["view"])
    _outcome(slack)
    assert "meet.example.com/room-2" in json.dumps(slack.fake.wait_for("chat.update")[0].params["blocks"])
    [note] = slack.fake.wait_for("chat.postMessage")
    assert note.params["text"] == f"<@{ADA}> updated description, meeting link; attendees got the updated invite."
    for message in messages(smtp_server):
        calendar, event = invite_in(message)
        assert calendar["METHOD"] == "REQUEST" and int(event["SEQUENCE"]) == 1 and str(event["LOCATION"]) == "https://meet.example.com/room-2"
        assert "We look at the new checkout." in str(event["DESCRIPTION"])
    assert len(messages(smtp_server)) == 2

    again = edit("https://meet.example.com/room-2")
    assert "Nothing to update" in _text(again["view"]) and len(messages(smtp_server)) == 2


# ---------------------------------------------------------------- participant limit


@pytest.fixture
def group_study(services: Services, seeded: Seed) -> int:
    study = services.studies.create(team_ref=seeded.team_id, name="Group sessions", channel_id="C0GROUP",
                                    timezone="Europe/Berlin", duration_minutes=60, host_ids=[ADA], participant_limit=2)
    for name, email in [("Nora Quist", "nora@example.com"), ("Otto Berg", "otto@example.com"), ("Pia", "pia@example.com"), ("Quinn", "quinn@example.com")]:
        services.participants.add(study.id, email, name)
    return study.id


def test_raising_a_group_slots_limit_opens_a_seat_on_the_participant_page(
    slack: SlackClient, services: Services, group_study: int, worker: OutboxWorker, smtp_server: SmtpServer, db: Database,
) -> None:
    interview_id = _book(services, group_study, at=berlin(7, 10))
    _book(services, group_study, "otto@example.com", at=berlin(7, 10))
    worker.drain()
    card = {"blocks": slack.fake.calls_to("chat.update")[-1].params["blocks"]}  # the card, showing both
    slack.fake.reset()
    smtp_server.handler.received.clear()
    pia = _token(services, db, "pia@example.com", group_study)
    seat = f'value="{start_value(berlin(7, 10))}"'
    assert seat not in slack.http.get(f"/s/{pia}").text  # full

    _open(slack, card, A.CHANGE_LIMIT)
    modal = _opened(slack)
    assert modal["title"]["text"] == "Participant limit" and "*2* of *2* seats are booked" in _text(modal)
    one = _submit(slack, modal, {"change_limit.limit": _value("number_input", value="1")})
    assert "one-on-one" in one["errors"]["change_limit.limit"]
    words = _submit(slack, modal, {"change_limit.limit": _value("number_input", value="three")})
    assert words["errors"] == {"change_limit.limit": "Type a whole number, e.g. 6."}

    ack = _submit(slack, modal, {"change_limit.limit": _value("number_input", value="3")})

    assert "The participant limit is now *3* (2 booked, 1 seat free)." in _text(ack["view"])
    [note] = slack.fake.wait_for("chat.postMessage")
    assert note.params["text"] == f"<@{ADA}> changed the participant limit to 3 (was 2)."
    assert slack.fake.wait_for("chat.update")[0].params["channel"] == "C0GROUP"
    assert messages(smtp_server) == []  # the attendees are as they were: no invite to send
    page = slack.http.get(f"/s/{pia}")
    assert seat in page.text
    booked = slack.http.post(f"/s/{pia}/book", data={"start": start_value(berlin(7, 10)), "tz": "Europe/Berlin"})
    assert booked.status_code == 303
    with db.transaction() as session:
        assert len([a for a in session.get(Interview, interview_id).attendees if a.participant_id]) == 3

    # Moving a group slot moves everyone in it, and the reschedule modal says so.
    _open(slack, card, A.RESCHEDULE)
    assert "moving it moves everyone booked in it (Nora Quist, Otto Berg, Pia)" in _text(_opened(slack))

    lower = _submit(slack, modal, {"change_limit.limit": _value("number_input", value="2")})
    assert lower["errors"] == {"change_limit.limit": "3 participants are already booked, so the limit can't be lower than 3."}
    again = _submit(slack, modal, {"change_limit.limit": _value("number_input", value="3")})
    assert "already 3" in _text(again["view"])


# ---------------------------------------------------------------- add a guest


def test_add_a_guest_from_slack_or_by_address(
    slack: SlackClient, services: Services, seeded: Seed, team_emails: None, worker: OutboxWorker,
    smtp_server: SmtpServer, db: Database,
) -> None:
    interview_id = _book(services, seeded.study_id)
    card = _posted_card(slack, worker, smtp_server)
    slack.fake.add_user("U0CARL", real_name="Carl Bauer", email="Carl@Example.com")
    _open(slack, card, A.ADD_GUEST)
    modal = _opened(slack)
    assert modal["title"]["text"] == "Add a guest"

    both = _submit(slack, modal, {"add_guest.user": _value("users_select", selected_user="U0CARL"),
                                  "add_guest.email": _value("email_text_input", value="x@example.com")})
    bad = _submit(slack, modal, {"add_guest.email": _value("email_text_input", value="not an address")})
    assert "one of the two" in both["errors"]["add_guest.user"]
    assert "not a valid email" in bad["errors"]["add_guest.email"]

    ack = _submit(slack, modal, {"add_guest.user": _value("users_select", selected_user="U0CARL")})

    assert "Added <@U0CARL> as a guest. Updated invites are on their way to Nora Quist, Ada and Carl Bauer." in _text(ack["view"])
    assert "✓ Email to Carl Bauer sent" in _outcome(slack)
    assert slack.fake.calls_to("users.info")[0].params["user"] == "U0CARL"
    assert "Guests: <@U0CARL>" in json.dumps(slack.fake.wait_for("chat.update")[0].params["blocks"])
    assert slack.fake.wait_for("chat.postMessage")[0].params["text"] == f"<@{ADA}> added <@U0CARL> as a guest."
    [to_carl] = messages(smtp_server, to="carl@example.com")
    assert "You're invited as a guest" in text_of(to_carl)
    for message in messages(smtp_server):
        _, event = invite_in(message)
        assert int(event["SEQUENCE"]) == 1
        assert set(invite_attendees(event)) == {"mailto:nora@example.com", "mailto:carl@example.com"}

    again = _submit(slack, modal, {"add_guest.user": _value("users_select", selected_user="U0CARL")})
    assert "<@U0CARL> is already on the invite, so nothing was sent." in _text(again["view"])
    assert len(messages(smtp_server)) == 3

    by_address = _submit(slack, modal, {"add_guest.email": _value("email_text_input", value="stakeholder@example.com")})
    assert "Added stakeholder@example.com as a guest." in _text(by_address["view"])
    _outcome(slack, 2)
    assert "You're invited as a guest" in text_of(messages(smtp_server, to="stakeholder@example.com")[0])
    assert _sequence(db, interview_id)[1] == 2


def test_the_card_offers_only_the_changes_that_apply(
    slack: SlackClient, services: Services, seeded: Seed, worker: OutboxWorker, smtp_server: SmtpServer,
) -> None:
    _book(services, seeded.study_id)
    card = _posted_card(slack, worker, smtp_server)
    for action in (A.RESCHEDULE, A.CHANGE_HOST, A.EDIT_DETAILS, A.ADD_GUEST):
        _control(card["blocks"], action)
    with pytest.raises(AssertionError, match="not offered"):
        _control(card["blocks"], A.CHANGE_LIMIT)  # a one-on-one has no limit
    assert CHANNEL == card["channel"]
