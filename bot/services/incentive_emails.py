"""The incentive after a completed interview: the team confirms the amount and currency, gives a
code and/or a claim link and edits a message prefilled from
``bot/templates/email/composed_incentive_prefill``; the participant gets one email, and their
seat records what was sent.

It is a team-written email like those of ``bot/services/composed_emails.py``, and uses that
module's placeholders, checks and Reply-To. A second incentive to the same participant for the
same interview needs the person to confirm it, having seen the first (``IncentiveAlreadySent``).
The idempotency key names the interview, the participant and the modal that sent it (Slack's
view id): a double submission or a Slack retry sends nothing twice.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.domain import Actor, InterviewSummary
from bot.integrations.email import Mailbox
from bot.integrations.templates import environment, render_email
from bot.services import validation
from bot.services.composed_emails import (
    MAX_BODY,
    checked_request_id,
    checked_text,
    fill,
    one_line,
    participant_seats,
    placeholder_values,
    reply_address,
    text_to_html,
    tidy,
)
from bot.services.errors import Conflict, InvalidField, InvalidInput
from bot.services.interview_actions import ActionResult, Seen, load_for_action, result
from bot.services.interviews import summary
from bot.services.notifications import Mailer, Notifier
from storage.db import Database
from storage.enums import ActivityKind, InterviewStatus
from storage.models import Attendee, Interview, OutboxItem

MAX_CODE = 200
MAX_AMOUNT = Decimal("1000000")
_CURRENCY = re.compile(r"^[A-Z]{3}$")


@dataclass(frozen=True)
class SentIncentive:
    participant_id: int
    name: str
    sent_at: datetime
    details: Mapping[str, str]  # {"amount", "currency", "code" and/or "claim_url"}


@dataclass(frozen=True)
class IncentiveForm:
    interview: InterviewSummary
    study_name: str
    amount: str | None  # the study's incentive, to prefill
    currency: str | None
    message: str
    sent: tuple[SentIncentive, ...]  # participants of this interview who already have one


@dataclass(frozen=True)
class IncentiveDraft:
    participant_id: int | None  # None: the one participant of a one-on-one
    amount: str
    currency: str
    code: str | None
    claim_url: str | None
    message: str


@dataclass(frozen=True)
class Confirmation:
    """The person saw ``sent_at``'s incentive to this participant and chose to send another."""

    participant_id: int
    sent_at: int  # Unix seconds


class IncentiveAlreadySent(Exception):  # noqa: N818 (a question for the person, not an error)
    """This participant already has an incentive for this interview: nothing was sent, and the
    person must confirm a second one, having seen ``previous``."""

    def __init__(self, previous: SentIncentive) -> None:
        super().__init__(f"{previous.name} already has an incentive for this interview")
        self.previous = previous


class IncentiveEmailService:
    def __init__(self, db: Database, clock: Clock, notifier: Notifier, mailer: Mailer) -> None:
        self.db = db
        self.clock = clock
        self.notifier = notifier
        self.mailer = mailer

    def incentive_form(self, interview_id: int, actor: Actor, seen: Seen | None = None) -> IncentiveForm:
        now = self.clock()
        with self.db.transaction() as session:
            interview = load_for_action(session, interview_id, actor, now, seen)
            _require_completed(interview)
            study = interview.study
            message = environment().get_template("email/composed_incentive_prefill.txt.j2").render()
            return IncentiveForm(
                interview=summary(interview, now), study_name=study.name,
                amount=f"{study.incentive_amount:.2f}" if study.incentive_amount is not None else None,
                currency=study.incentive_currency, message=tidy(message),
                sent=tuple(_sent(a) for a in participant_seats(interview) if a.incentive_sent_at is not None),
            )

    def send_incentive(
        self, interview_id: int, actor: Actor, draft: IncentiveDraft, *, request_id: str,
        seen: Seen | None = None, confirmed: Confirmation | None = None,
    ) -> ActionResult:
        """Email the participant their incentive and mark it sent on their seat.

        A second incentive for the same participant and interview needs ``confirmed``, naming
        the one the person was shown; otherwise ``IncentiveAlreadySent`` (nothing is sent).
        """
        request_id = checked_request_id(request_id)
        now = self.clock()
        with self.db.transaction(write_lock=True) as session:
            interview = load_for_action(session, interview_id, actor, now, seen)
            _require_completed(interview)
            seat = _seat(interview, draft.participant_id)
            participant = seat.participant
            assert participant is not None
            key = f"email:incentive:{interview.id}:p{participant.id}:{request_id}"
            if _queued(session, key):  # this very submission again (double click, Slack retry)
                return result(session, interview, now, changed=False)
            reward = _reward(draft)
            message = checked_text("message", draft.message, MAX_BODY, "message", interview)
            if seat.incentive_sent_at is not None and not _confirms(confirmed, seat):
                raise IncentiveAlreadySent(_sent(seat))
            values = placeholder_values(self.mailer, interview, participant)
            filled = fill(message, values)
            rendered = render_email(
                "composed_incentive", message=filled, message_html=text_to_html(filled), study_name=interview.study.name,
                team_name=None, amount=reward["amount"], currency=reward["currency"],
                code=reward.get("code"), claim_url=reward.get("claim_url"),
            )
            self.notifier.queue_email(
                session, key, interview, interview.study, rendered, to=Mailbox(participant.name, participant.email),
                now=now, invite=None, actor=actor, timeline_kind=ActivityKind.INCENTIVE_SENT,
                timeline={"to": participant.name, "amount": reward["amount"], "currency": reward["currency"]},
                reply_to=reply_address(session, interview.study, actor),
            )
            seat.incentive_sent_at = now
            seat.incentive = reward
            by = {"by": actor.slack_user_id} if actor.slack_user_id else {"who": "Interview Desk"}
            note = {"kind": "incentive_sent", **by, "to": participant.name}
            self.notifier.card(session, interview, now, f"incentive:p{participant.id}:{request_id}", note=note)
            return result(session, interview, now)


def _require_completed(interview: Interview) -> None:
    if interview.status is not InterviewStatus.COMPLETED:
        raise Conflict("Incentives are sent after a completed interview. Mark it completed first.")


def _seat(interview: Interview, participant_id: int | None) -> Attendee:
    seats = participant_seats(interview)
    if participant_id is None:
        if len(seats) != 1:
            raise InvalidField("participant", "Please choose the participant.")
        return seats[0]
    seat = next((a for a in seats if a.participant_id == participant_id), None)
    if seat is None:
        raise InvalidField("participant", "That person is not a participant of this interview.")
    return seat


def _sent(seat: Attendee) -> SentIncentive:
    assert seat.incentive_sent_at is not None
    return SentIncentive(seat.participant_id or 0, seat.display_name, seat.incentive_sent_at, dict(seat.incentive or {}))


def _confirms(confirmed: Confirmation | None, seat: Attendee) -> bool:
    """The person confirmed a second incentive having seen the one this seat has now."""
    return (
        confirmed is not None
        and seat.incentive_sent_at is not None
        and confirmed.participant_id == seat.participant_id
        and confirmed.sent_at == int(seat.incentive_sent_at.timestamp())
    )


def _queued(session: Session, key: str) -> bool:
    return session.scalar(select(OutboxItem.id).where(OutboxItem.idempotency_key == key)) is not None


def _reward(draft: IncentiveDraft) -> dict[str, Any]:
    """The incentive as stored on the seat: {"amount", "currency", "code" and/or "claim_url"}."""
    raw = (draft.amount or "").strip().replace(" ", "")
    if raw.count(",") == 1 and "." not in raw:
        raw = raw.replace(",", ".")  # "12,50" as written in much of Europe
    try:
        amount = Decimal(raw)
    except InvalidOperation:
        raise InvalidField("amount", "Please give the amount as a number, e.g. 25 or 12.50.") from None
    if not amount.is_finite() or amount <= 0:
        raise InvalidField("amount", "The amount must be more than zero.")
    if amount >= MAX_AMOUNT or amount != amount.quantize(Decimal("0.01")):
        raise InvalidField("amount", "Please give the amount with at most two decimals, e.g. 12.50.")
    currency = (draft.currency or "").strip().upper()
    if not _CURRENCY.match(currency):
        raise InvalidField("currency", "Please give the currency as its three-letter code, e.g. EUR, USD or GBP.")
    reward: dict[str, Any] = {"amount": f"{amount:.2f}", "currency": currency}
    code = one_line(draft.code or "")
    if len(code) > MAX_CODE:
        raise InvalidField("code", f"Please keep the code under {MAX_CODE} characters.")
    if code:
        reward["code"] = code
    link = (draft.claim_url or "").strip()
    if link:
        try:
            reward["claim_url"] = validation.web_url(link, what="The claim link")
        except InvalidInput as error:
            raise InvalidField("claim_url", error.message) from None
    if not code and not link:
        raise InvalidField("code", "Please give a code or a claim link, so they can collect it.")
    return reward
