"""`IncentiveEmailService`: the form prefilled with the study's incentive, what is emailed and
recorded on the seat, the confirmation a second incentive needs, and every refusal."""

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from bot.domain import Actor
from bot.services import Services
from bot.services.errors import Conflict, InvalidField, NotAllowed
from bot.services.incentive_emails import (
    Confirmation,
    IncentiveAlreadySent,
    IncentiveDraft,
    IncentiveEmailService,
)
from bot.services.notifications import Notifier
from storage.db import Database
from storage.enums import InterviewStatus, OutboxKind
from storage.models import Attendee, Interview, OutboxItem, Study
from tests.bot.records import AS_ADA, book, booked_with_ada_known, participant_id, written_emails
from tests.conftest import ADA, OUTSIDER, WORKSPACE, MovableClock, Seed


@pytest.fixture
def incentives(services: Services) -> IncentiveEmailService:
    return IncentiveEmailService(services.db, services.clock, Notifier(services.mailer), services.mailer)


@pytest.fixture
def interview_id(services: Services, seeded: Seed) -> int:
    return booked_with_ada_known(services, seeded)


@pytest.fixture
def completed_id(interview_id: int, db: Database, seeded: Seed, clock: MovableClock) -> int:
    with db.transaction() as session:
        study = session.get(Study, seeded.study_id)
        study.incentive_amount, study.incentive_currency = Decimal("25"), "EUR"
        session.get(Interview, interview_id).status = InterviewStatus.COMPLETED
    clock.advance(days=2)
    return interview_id


def _incentive(**kw: Any) -> IncentiveDraft:
    values: dict[str, Any] = dict(participant_id=None, amount="25.00", currency="eur", code="THANKS-42", claim_url=None,
                                  message="Hi {name}, thank you for {study}!")
    values.update(kw)
    return IncentiveDraft(**values)


def _seat(db: Database, interview_id: int) -> Attendee:
    with db.transaction() as session:
        return session.scalars(select(Attendee).where(Attendee.interview_id == interview_id, Attendee.participant_id.is_not(None))).one()


def test_incentive_form_prefills_the_studys_incentive(incentives: IncentiveEmailService, completed_id: int) -> None:
    form = incentives.incentive_form(completed_id, AS_ADA)
    assert (form.amount, form.currency, form.sent) == ("25.00", "EUR", ())
    assert "{name}" in form.message and "thank" in form.message.lower()


def test_incentive_is_emailed_marked_on_the_seat_and_told_in_the_cards_thread(
    incentives: IncentiveEmailService, completed_id: int, db: Database, clock: MovableClock,
) -> None:
    result = incentives.send_incentive(completed_id, AS_ADA, _incentive(claim_url="https://gift.example/claim/9"), request_id="V1")

    assert result.changed and [p.incentive_sent for p in result.interview.participants] == [True]
    seat = _seat(db, completed_id)
    assert seat.incentive_sent_at == clock()
    assert seat.incentive == {"amount": "25.00", "currency": "EUR", "code": "THANKS-42", "claim_url": "https://gift.example/claim/9"}
    [email] = written_emails(db, completed_id)
    payload = email.payload
    assert payload["subject"] == "Your thank-you for the Checkout redesign interview"
    assert payload["text"].startswith("Hi Nora Quist, thank you for Checkout redesign!")
    assert "Amount: 25.00 EUR" in payload["text"] and "Code: THANKS-42" in payload["text"]
    assert 'href="https://gift.example/claim/9"' in payload["html"]
    assert payload["timeline"]["kind"] == "incentive_sent"
    assert payload["timeline"]["details"] == {"to": "Nora Quist", "amount": "25.00", "currency": "EUR"}
    with db.transaction() as session:
        posts = [i.payload for i in session.scalars(select(OutboxItem).where(OutboxItem.kind == OutboxKind.SLACK_POST, OutboxItem.id.in_(result.outbox_ids)))]
    assert {"card": completed_id} in posts
    assert {"note": {"kind": "incentive_sent", "by": ADA, "to": "Nora Quist"}, "interview_id": completed_id} in posts


def test_a_second_incentive_needs_the_confirmation_of_the_one_shown(
    incentives: IncentiveEmailService, completed_id: int, db: Database, clock: MovableClock,
) -> None:
    incentives.send_incentive(completed_id, AS_ADA, _incentive(), request_id="V1")
    first_sent = _seat(db, completed_id).incentive_sent_at
    assert first_sent is not None
    with pytest.raises(IncentiveAlreadySent) as asked:
        incentives.send_incentive(completed_id, AS_ADA, _incentive(code="AGAIN"), request_id="V2")
    assert asked.value.previous.sent_at == first_sent and asked.value.previous.details["code"] == "THANKS-42"
    assert len(written_emails(db, completed_id)) == 1

    participant = participant_id(db, "nora@example.com")
    stale = Confirmation(participant, int(first_sent.timestamp()) - 60)  # confirmed some other incentive
    with pytest.raises(IncentiveAlreadySent):
        incentives.send_incentive(completed_id, AS_ADA, _incentive(code="AGAIN"), request_id="V2", confirmed=stale)

    clock.advance(minutes=5)
    confirmed = Confirmation(participant, int(first_sent.timestamp()))
    second = incentives.send_incentive(completed_id, AS_ADA, _incentive(code="AGAIN"), request_id="V2", confirmed=confirmed)
    again = incentives.send_incentive(completed_id, AS_ADA, _incentive(code="AGAIN"), request_id="V2", confirmed=confirmed)
    assert second.changed and not again.changed and again.outbox_ids == ()
    assert len(written_emails(db, completed_id)) == 2
    assert _seat(db, completed_id).incentive == {"amount": "25.00", "currency": "EUR", "code": "AGAIN"}


def test_a_repeated_first_incentive_submission_is_not_taken_for_a_second_incentive(incentives: IncentiveEmailService, completed_id: int, db: Database) -> None:
    incentives.send_incentive(completed_id, AS_ADA, _incentive(), request_id="V1")
    assert not incentives.send_incentive(completed_id, AS_ADA, _incentive(), request_id="V1").changed
    assert len(written_emails(db, completed_id)) == 1


@pytest.mark.parametrize(("changes", "field", "words"), [
    ({"amount": "abc"}, "amount", "as a number"),
    ({"amount": "0"}, "amount", "more than zero"),
    ({"amount": "-5"}, "amount", "more than zero"),
    ({"amount": "1.234"}, "amount", "two decimals"),
    ({"amount": "NaN"}, "amount", "more than zero"),
    ({"currency": "EURO"}, "currency", "three-letter code"),
    ({"currency": "€"}, "currency", "three-letter code"),
    ({"code": None}, "code", "a code or a claim link"),
    ({"code": None, "claim_url": "ftp://gift.example/x"}, "claim_url", "https://"),
    ({"message": " "}, "message", "Please write a message"),
    ({"message": "Hi {first_name}"}, "message", "{first_name} is not a placeholder"),
])
def test_bad_incentives_name_the_field_and_change_nothing(
    incentives: IncentiveEmailService, completed_id: int, db: Database, changes: dict[str, Any], field: str, words: str,
) -> None:
    with pytest.raises(InvalidField) as refused:
        incentives.send_incentive(completed_id, AS_ADA, _incentive(**changes), request_id="V1")
    assert refused.value.field == field and words in refused.value.message
    assert written_emails(db, completed_id) == [] and _seat(db, completed_id).incentive_sent_at is None


def test_amounts_are_read_as_people_write_them(incentives: IncentiveEmailService, completed_id: int, db: Database) -> None:
    incentives.send_incentive(completed_id, AS_ADA, _incentive(amount=" 12,5 ", currency=" usd", code=None, claim_url="https://gift.example/c"), request_id="V1")
    assert _seat(db, completed_id).incentive == {"amount": "12.50", "currency": "USD", "claim_url": "https://gift.example/c"}


def test_incentive_only_after_a_completed_interview(incentives: IncentiveEmailService, interview_id: int, db: Database) -> None:
    with pytest.raises(Conflict, match="completed"):
        incentives.send_incentive(interview_id, AS_ADA, _incentive(), request_id="V1")
    with pytest.raises(NotAllowed):
        incentives.incentive_form(interview_id, Actor.slack_user(WORKSPACE, OUTSIDER))
    assert written_emails(db, interview_id) == []


def test_group_incentive_goes_to_the_chosen_participant_only(incentives: IncentiveEmailService, services: Services, seeded: Seed, db: Database, clock: MovableClock) -> None:
    with db.transaction() as session:
        session.get(Study, seeded.study_id).participant_limit = 3
    interview_id = book(services, seeded, "nora@example.com")
    book(services, seeded, "otto@example.com")
    with db.transaction() as session:
        session.get(Interview, interview_id).status = InterviewStatus.COMPLETED
    clock.advance(days=2)
    otto = participant_id(db, "otto@example.com")

    with pytest.raises(InvalidField) as unchosen:
        incentives.send_incentive(interview_id, AS_ADA, _incentive(), request_id="V1")
    assert unchosen.value.field == "participant"
    incentives.send_incentive(interview_id, AS_ADA, _incentive(participant_id=otto), request_id="V1")

    [email] = written_emails(db, interview_id)
    assert email.payload["to"] == [["Otto Berg", "otto@example.com"]]
    form = incentives.incentive_form(interview_id, AS_ADA)
    assert [(s.participant_id, s.name) for s in form.sent] == [(otto, "Otto Berg")]
    assert clock() - timedelta(seconds=1) < form.sent[0].sent_at <= clock()
