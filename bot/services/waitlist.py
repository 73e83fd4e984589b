"""The waitlist: participants told by email when a time opens, and the offers themselves.

A participant who found nothing free (or lost a time to someone faster) can ask to be told when
a time opens (``Participant.wants_openings_at``). When an interview is canceled, or a seat in a
group slot frees up, the cancel path calls ``offer_freed_time`` inside its own transaction: if
the freed time is still one the booking page offers, the study's invited participants who have
not booked, and those on the waitlist, get an email with a link to that exact time. The link
leads to the normal booking, whose locks make it first come, first served, never overbooked.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import and_, case, exists, func, or_, select
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.integrations.email import Mailbox
from bot.integrations.templates import render_email
from bot.services import portal, screener
from bot.services.errors import Conflict, NotAllowed
from bot.services.notifications import Mailer, when
from bot.services.slots import OpenSlot
from storage import outbox
from storage.db import Database
from storage.enums import InterviewStatus, OutboxKind, ParticipantStatus, StudyStatus
from storage.models import Attendee, Interview, Participant, Study

log = logging.getLogger(__name__)

# Recipients per freed time. One time can only be booked by one person (or a group slot's few),
# so fifty is plenty to fill it, and a cancellation never mass-mails a study of thousands.
# Those who asked come first (earliest ask first), then invited people (oldest invite first).
MAX_OFFERS = 50

# Whose explicit ask still stands: not someone booked or done with the study, nor screened out.
_MAY_WAIT = (ParticipantStatus.INVITED, ParticipantStatus.CANCELED_INTERVIEW, ParticipantStatus.NO_SHOW)


@dataclass(frozen=True)
class WaitlistState:
    waiting: bool  # on the list: will be emailed when a time opens
    since: datetime | None  # when they asked


class WaitlistService:
    """Joining and leaving the waitlist through a participant's personal link."""

    def __init__(self, db: Database, clock: Clock, mailer: Mailer) -> None:
        self.db = db
        self.clock = clock
        self.mailer = mailer

    def state(self, token: str) -> WaitlistState:
        with self.db.transaction() as session:
            return _state(portal._participant(session, token))

    def join(self, token: str) -> WaitlistState:
        """Ask to be told when a time opens; asking again keeps the place of the first ask."""
        now = self.clock()
        with self.db.transaction(write_lock=True) as session:
            participant = portal._participant(session, token, lock=True)
            if participant.study.status is not StudyStatus.ACTIVE:
                raise NotAllowed("This study is closed and is not booking interviews any more. Thank you for your interest.")
            if participant.status is ParticipantStatus.NOT_QUALIFIED:
                raise screener.NotQualified()
            if portal._upcoming_interview(session, participant, now) is not None:
                raise Conflict("You already have an interview booked, so there is nothing to wait for.")
            if participant.wants_openings_at is None:
                participant.wants_openings_at = now
            return _state(participant)

    def leave(self, token: str) -> WaitlistState:
        """Stop the emails about open times (also when the study has closed since)."""
        with self.db.transaction(write_lock=True) as session:
            participant = portal._participant(session, token, lock=True)
            participant.wants_openings_at = None
            return _state(participant)


def _state(participant: Participant) -> WaitlistState:
    return WaitlistState(participant.wants_openings_at is not None, participant.wants_openings_at)


# ------------------------------------------------------------------ offers


def offer_freed_time(
    session: Session, interview: Interview, now: datetime, mailer: Mailer, *, left: Participant | None = None,
) -> int:
    """Offer the time ``interview`` had, if it is bookable again; the number of emails queued.

    Call in the cancel's transaction after the change (the interview canceled, or ``left``'s
    seat removed), so the offers exist exactly when the cancel is committed. Nobody on the
    interview, nor ``left``, is offered its time back.
    """
    study = interview.study
    if study.status is not StudyStatus.ACTIVE or interview.starts_at <= now:
        return 0
    session.flush()
    slot = freed_slot(session, study, interview.starts_at, now)
    if slot is None:
        return 0
    skip = {a.participant_id for a in interview.attendees if a.participant_id is not None}
    if left is not None:
        skip.add(left.id)
    queued = 0
    with _delivered_by_the_tick(session):
        for participant in recipients(session, study, now, skip):
            queued += _queue_offer(session, mailer, interview, slot, participant, now)
    # Ids and counts only: who was offered what is in the outbox, not in the logs.
    log.info("interview %s freed a time; offered to %d participants", interview.id, queued)
    return queued


def freed_slot(session: Session, study: Study, start: datetime, now: datetime) -> OpenSlot | None:
    """The open time starting at ``start``, if the booking page offers it now.

    The portal's own computation, the one booking re-checks under its locks: an offer is never
    for a time that could not be booked (the host got another interview, the window changed, it
    is too soon).
    """
    offered = portal.open_times(session, study, now)
    return next((s for s in offered if s.start == start), None)


def recipients(session: Session, study: Study, now: datetime, skip: Collection[int]) -> list[Participant]:
    """Who is offered a freed time: without an upcoming interview, either on the waitlist or
    invited by email (the team never emailed those it only added), at most ``MAX_OFFERS``."""
    upcoming = exists().where(
        Attendee.participant_id == Participant.id,
        Attendee.interview_id == Interview.id,
        Interview.status == InterviewStatus.UPCOMING,
        Interview.ends_at > now,
    )
    waiting = and_(Participant.wants_openings_at.is_not(None), Participant.status.in_(_MAY_WAIT))
    invited = and_(Participant.status == ParticipantStatus.INVITED, Participant.invited_at.is_not(None))
    query = (
        select(Participant)
        .where(Participant.study_id == study.id, or_(waiting, invited), ~upcoming,
               Participant.id.not_in(sorted(skip)), Participant.token_nonce.is_not(None))
        .order_by(case((waiting, 0), else_=1),
                  func.coalesce(Participant.wants_openings_at, Participant.invited_at), Participant.id)
        .limit(MAX_OFFERS)
    )
    return list(session.scalars(query))


def _queue_offer(
    session: Session, mailer: Mailer, interview: Interview, slot: OpenSlot, participant: Participant, now: datetime,
) -> int:
    study = interview.study
    token = mailer.links.token(participant.id, participant.token_nonce or "")
    start = unix(slot.start)
    rendered = render_email(
        "slot_opened", participant_name=participant.name, study_name=study.name,
        when=when(slot.start, slot.end, _zone(participant, study)),
        opening_url=opening_url(mailer, token, slot.start),
        waitlist_url=waitlist_url(mailer, token) if participant.wants_openings_at is not None else None,
    )
    key = f"opening:{interview.id}:{start}:{participant.id}"
    payload = mailer.email_payload(study, Mailbox(participant.name, participant.email), rendered, key)
    # Not tied to the canceled interview: nothing that settles its own emails touches these.
    return int(outbox.enqueue(session, key=key, kind=OutboxKind.EMAIL, payload=payload, now=now))


@contextmanager
def _delivered_by_the_tick(session: Session) -> Iterator[None]:
    """Leave the offers out of what this transaction reports as queued.

    A teammate's cancel delivers what it queued while they watch ("✓ Email to Nora sent"); the
    offers are to other people, up to ``MAX_OFFERS`` of them, and the outbox tick sends them.
    """
    before = list(outbox.added_in(session))
    try:
        yield
    finally:
        session.info[outbox._NEW_IDS] = before


def _zone(participant: Participant, study: Study) -> str:
    """The participant's own zone for the time in their email, else the study's."""
    if participant.timezone:
        try:
            ZoneInfo(participant.timezone)
            return participant.timezone
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return study.timezone


# ------------------------------------------------------------------ links


def unix(moment: datetime) -> int:
    return int(moment.astimezone(UTC).timestamp())


def opening_url(mailer: Mailer, token: str, start: datetime) -> str:
    """The one-click link to book exactly ``start`` (a confirm page that posts to booking)."""
    return f"{mailer.links.scheduling_url(token)}/opening?start={unix(start)}"


def waitlist_url(mailer: Mailer, token: str) -> str:
    """The waitlist page, where a participant leaves the list (or joins it again)."""
    return f"{mailer.links.scheduling_url(token)}/waitlist"
