"""`ComposedEmailService`: prefills, placeholders, what is queued and when it is written to the
timeline, and every refusal."""

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.actions import InterviewAction
from bot.domain import Actor
from bot.integrations.email import FileTransport
from bot.jobs.deliverers import EmailDeliverer
from bot.jobs.outbox_worker import OutboxWorker
from bot.services import Services
from bot.services.composed_emails import (
    ComposedEmailService,
    EmailDraft,
    InvalidField,
    text_to_html,
)
from bot.services.errors import Conflict, NotAllowed
from bot.services.interview_actions import Seen, StaleView
from bot.services.notifications import Notifier
from storage.db import Database
from storage.enums import ActivityKind, ActorKind, InterviewStatus, OutboxKind, OutboxStatus
from storage.models import Interview, Participant, Study
from tests.bot.records import (
    AS_ADA,
    book,
    booked_with_ada_known,
    events_of,
    participant_id,
    written_emails,
)
from tests.conftest import ADA, OUTSIDER, WORKSPACE, MovableClock, Seed, berlin

A = InterviewAction
NORA_WHEN = "Wed 6 March 2030, 10:00–10:45 (Europe/Berlin)"


@pytest.fixture
def composed(services: Services) -> ComposedEmailService:
    return ComposedEmailService(services.db, services.clock, Notifier(services.mailer), services.mailer)


@pytest.fixture
def interview_id(services: Services, seeded: Seed) -> int:
    return booked_with_ada_known(services, seeded)


def _draft(kind: InterviewAction = A.CUSTOM_EMAIL, subject: str = "Hello {name}", body: str = "Hi {name}, see you {time}.", **kw: Any) -> EmailDraft:
    return EmailDraft(kind=kind, subject=subject, body=body, **kw)


# ---------------------------------------------------------------- prefills


def test_reminder_prefill_names_the_time_the_meeting_link_and_how_to_change_it(composed: ComposedEmailService, interview_id: int) -> None:
    form = composed.compose_form(interview_id, AS_ADA, A.REMINDER_EMAIL)
    assert form.subject == "Reminder: your {study} interview, {time}"
    for placeholder in ("{name}", "{time}", "{meeting_link}", "{manage_link}"):
        assert placeholder in form.body
    assert "Ada Lovelace, for the {study} team" in form.body
    assert form.reply_to == "Ada Lovelace <ada@example.com>"
    assert form.study_name == "Checkout redesign" and form.interview.id == interview_id


def test_reschedule_request_prefill_asks_for_a_new_time_through_their_link(composed: ComposedEmailService, interview_id: int) -> None:
    form = composed.compose_form(interview_id, AS_ADA, A.RESCHEDULE_EMAIL)
    assert "{scheduling_link}" in form.body and "We need to move" in form.body
    assert "new time" in form.subject


def test_reminder_prefill_leaves_out_the_meeting_link_when_there_is_none(composed: ComposedEmailService, interview_id: int, db: Database) -> None:
    with db.transaction() as session:
        session.get(Interview, interview_id).conferencing_url = None
    body = composed.compose_form(interview_id, AS_ADA, A.REMINDER_EMAIL).body
    assert "{meeting_link}" not in body and "{manage_link}" in body


# ---------------------------------------------------------------- sending


def test_send_queues_one_plain_email_with_placeholders_filled_and_reply_to_the_teammate(
    composed: ComposedEmailService, interview_id: int, db: Database, services: Services,
) -> None:
    body = "Hi {name},\n\nYour {study} interview: {time}\nJoin: {meeting_link}\nNew time? {scheduling_link}\n<b>not bold</b> & more"
    result = composed.send(interview_id, AS_ADA, _draft(body=body), request_id="V1")

    assert result.changed and len(result.outbox_ids) == 1
    [item] = written_emails(db, interview_id)
    payload = item.payload
    assert payload["to"] == [["Nora Quist", "nora@example.com"]]
    assert payload["subject"] == "Hello Nora Quist"
    assert payload["sender"] == ["Checkout redesign team", "interviews@example.com"]
    assert payload["reply_to"] == ["Ada Lovelace", "ada@example.com"]
    assert "invite" not in payload
    text = payload["text"]
    assert "Hi Nora Quist," in text and f"Your Checkout redesign interview: {NORA_WHEN}" in text
    assert "Join: https://meet.example.com/ada" in text
    link = text.split("New time? ")[1].split()[0]
    assert services.portal.state(link.rsplit("/", 1)[-1]).participant_name == "Nora Quist"
    assert "&lt;b&gt;not bold&lt;/b&gt; &amp; more" in payload["html"] and "<b>" not in payload["html"]
    assert f'<a href="{link}"' in payload["html"] and '<a href="https://meet.example.com/ada"' in payload["html"]
    assert payload["timeline"] == {
        "kind": "email_sent", "details": {"template": "custom_email", "subject": "Hello Nora Quist", "to": "Nora Quist"},
        "actor_kind": "member", "actor_slack_user_id": ADA, "actor_name": None,
    }


def test_the_timeline_event_is_written_when_the_email_has_left(
    composed: ComposedEmailService, interview_id: int, db: Database, clock: MovableClock, tmp_path: Path,
) -> None:
    result = composed.send(interview_id, AS_ADA, _draft(A.REMINDER_EMAIL, subject="Soon: {time}"), request_id="V1")
    assert events_of(db, interview_id, ActivityKind.REMINDER_SENT) == []

    worker = OutboxWorker(db, clock, {OutboxKind.EMAIL: EmailDeliverer(FileTransport(tmp_path))})
    [state] = worker.deliver_now(result.outbox_ids)

    assert state.status is OutboxStatus.SENT and len(list(tmp_path.glob("*.eml"))) == 1
    [event] = events_of(db, interview_id, ActivityKind.REMINDER_SENT)
    assert event.actor_kind is ActorKind.MEMBER and event.actor_slack_user_id == ADA
    assert event.details == {"template": "reminder", "subject": f"Soon: {NORA_WHEN}", "to": "Nora Quist"}


def test_a_repeated_submission_sends_nothing_twice(composed: ComposedEmailService, interview_id: int, db: Database) -> None:
    first = composed.send(interview_id, AS_ADA, _draft(), request_id="V1")
    again = composed.send(interview_id, AS_ADA, _draft(), request_id="V1")
    assert first.changed and not again.changed and again.outbox_ids == ()
    assert len(written_emails(db, interview_id)) == 1
    assert composed.send(interview_id, AS_ADA, _draft(), request_id="V2").changed  # a new modal is a new email
    assert len(written_emails(db, interview_id)) == 2


def test_time_is_in_the_participants_own_zone_with_the_zone_named(composed: ComposedEmailService, interview_id: int, db: Database) -> None:
    with db.transaction() as session:
        session.scalars(select(Participant).where(Participant.email == "nora@example.com")).one().timezone = "America/New_York"
    preview = composed.preview(interview_id, AS_ADA, _draft(body="{time}"))
    assert preview.text == "Wed 6 March 2030, 04:00–04:45 (America/New_York)"
    assert (preview.name, preview.address, preview.subject) == ("Nora Quist", "nora@example.com", "Hello Nora Quist")


def test_without_a_known_teammate_address_there_is_no_reply_to(composed: ComposedEmailService, services: Services, seeded: Seed, db: Database) -> None:
    interview_id = book(services, seeded, "otto@example.com")
    composed.send(interview_id, Actor.slack_user(WORKSPACE, "U0BO"), _draft(), request_id="V1")
    [item] = written_emails(db, interview_id)
    assert "reply_to" not in item.payload


def test_group_slot_emails_each_chosen_participant_their_own_copy(
    composed: ComposedEmailService, services: Services, seeded: Seed, db: Database,
) -> None:
    with db.transaction() as session:
        session.get(Study, seeded.study_id).participant_limit = 3
    interview_id = book(services, seeded, "nora@example.com")
    assert book(services, seeded, "otto@example.com") == interview_id
    nora, otto = participant_id(db, "nora@example.com"), participant_id(db, "otto@example.com")

    composed.send(interview_id, AS_ADA, _draft(recipients=(otto, nora)), request_id="V1")
    sent = {tuple(map(tuple, i.payload["to"])): i.payload["text"] for i in written_emails(db, interview_id)}
    assert sent == {
        (("Otto Berg", "otto@example.com"),): f"Hi Otto Berg, see you {NORA_WHEN}.\n",
        (("Nora Quist", "nora@example.com"),): f"Hi Nora Quist, see you {NORA_WHEN}.\n",
    }
    with pytest.raises(InvalidField) as none:
        composed.send(interview_id, AS_ADA, _draft(recipients=()), request_id="V2")
    with pytest.raises(InvalidField) as unchosen:
        composed.send(interview_id, AS_ADA, _draft(recipients=None), request_id="V3")
    assert none.value.field == unchosen.value.field == "recipients"


@pytest.mark.parametrize(("subject", "body", "field", "words"), [
    ("Hi", "Dear {nmae}", "body", "{nmae} is not a placeholder"),
    ("Hi {Name}", "Hello", "subject", "{Name} is not a placeholder"),
    ("Hi", "   \n ", "body", "Please write a message"),
    ("", "Hello", "subject", "Please write a subject"),
    ("Two\nlines", "Hello", "subject", "one line"),
    ("x" * 201, "Hello", "subject", "under 200 characters"),
    ("Hi", "x" * 5001, "body", "under 5,000 characters"),
])
def test_bad_drafts_name_the_field_and_queue_nothing(
    composed: ComposedEmailService, interview_id: int, db: Database, subject: str, body: str, field: str, words: str,
) -> None:
    with pytest.raises(InvalidField) as refused:
        composed.send(interview_id, AS_ADA, _draft(subject=subject, body=body), request_id="V1")
    assert refused.value.field == field and words in refused.value.message
    assert written_emails(db, interview_id) == []


def test_a_body_of_exactly_5000_characters_and_unknown_braces_that_are_not_placeholders_are_fine(composed: ComposedEmailService, interview_id: int) -> None:
    assert composed.send(interview_id, AS_ADA, _draft(body="{ not one } {} " + "x" * 4985), request_id="V1").changed


def test_meeting_link_placeholder_needs_a_meeting_link(composed: ComposedEmailService, interview_id: int, db: Database) -> None:
    with db.transaction() as session:
        session.get(Interview, interview_id).conferencing_url = None
    with pytest.raises(InvalidField, match="no meeting link"):
        composed.preview(interview_id, AS_ADA, _draft(body="Join {meeting_link}"))


def test_a_reminder_for_an_interview_that_is_over_is_refused(composed: ComposedEmailService, interview_id: int, clock: MovableClock) -> None:
    clock.advance(days=2)
    with pytest.raises(Conflict, match="reminder"):
        composed.compose_form(interview_id, AS_ADA, A.REMINDER_EMAIL)
    missed = composed.compose_form(interview_id, AS_ADA, A.RESCHEDULE_EMAIL)
    assert "We missed you" in missed.body and "{scheduling_link}" in missed.body


def test_outsiders_and_stale_views_are_refused(composed: ComposedEmailService, interview_id: int, db: Database) -> None:
    with pytest.raises(NotAllowed):
        composed.send(interview_id, Actor.slack_user(WORKSPACE, OUTSIDER), _draft(), request_id="V1")
    with pytest.raises(StaleView):
        composed.send(interview_id, AS_ADA, _draft(), request_id="V1", seen=Seen(berlin(7, 10), InterviewStatus.UPCOMING))
    assert written_emails(db, interview_id) == []


def test_text_to_html_escapes_and_links_without_trailing_punctuation() -> None:
    html = str(text_to_html("Hi <Nora> & co,\nsee https://x.example/a?b=1&c=2.\n\n(http://y.example/p)"))
    assert html == (
        '<p style="margin:0 0 16px 0;">Hi &lt;Nora&gt; &amp; co,<br>\n'
        'see <a href="https://x.example/a?b=1&amp;c=2" style="color:#1d4ed8;">https://x.example/a?b=1&amp;c=2</a>.</p>\n'
        '<p style="margin:0 0 16px 0;">(<a href="http://y.example/p" style="color:#1d4ed8;">http://y.example/p</a>)</p>'
    )
    assert "<a" not in str(text_to_html("javascript:alert(1) <a href=x>"))
