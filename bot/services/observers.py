"""Watching an interview without running it: the study's observer room, the notetaker's bot,
and the participants' screener answers (to prepare).

Sending the observer bot queues one signed webhook to the study's notetaker service
(``bot/integrations/notetaker.py``, delivered by ``bot/jobs/notetaker_deliverer.py``), keyed by
the interview and its meeting link: a double click, or a second click for the same meeting,
finds the first request instead of sending another. A new meeting link is a new meeting, and
may get its own bot.
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.domain import Actor, InterviewScreener, ScreenerAnswer, ScreenerResponses
from bot.services.access import require_team_member
from bot.services.errors import Conflict, DomainError, NotFound
from bot.services.interview_actions import Seen, load_for_action
from storage import outbox, queries
from storage.db import Database
from storage.enums import (
    ActivityKind,
    AttendeeRole,
    InterviewStatus,
    OutboxKind,
    OutboxStatus,
    ParticipantStatus,
)
from storage.models import Interview, OutboxItem, Participant, Study


class NotConfigured(DomainError):
    """Something the action needs has not been set up; the message says who sets it and how."""


@dataclass(frozen=True)
class ObserverRoom:
    study_id: int
    study_name: str
    url: str | None  # None: the study has no observer room


class BotRequestState(StrEnum):
    QUEUED = "queued"  # a new request, to deliver now
    QUEUED_AGAIN = "queued_again"  # the last request for this meeting failed; asking again
    ALREADY_SENT = "already_sent"  # the notetaker took a request for this meeting already
    ON_ITS_WAY = "on_its_way"  # a request for this meeting is being delivered or retried


@dataclass(frozen=True)
class BotRequest:
    state: BotRequestState
    outbox_id: int | None  # what to deliver now; None when nothing was queued
    meeting_url: str
    session_name: str
    starts_at: datetime
    at: datetime | None = None  # when it was sent (ALREADY_SENT) or first queued (ON_ITS_WAY)
    last_error: str | None = None  # why it is waiting for a retry (ON_ITS_WAY)




class NotetakerJob(BaseModel):
    """An outbox item of kind NOTETAKER: where to send what, and what to check first."""

    model_config = ConfigDict(frozen=True, extra="ignore")  # "timeline" is the worker's

    url: str  # the study's notetaker webhook
    key: str  # the outbox idempotency key, also the delivery id the notetaker can dedupe on
    interview_id: int
    meeting_url: str  # the bot is only sent while this is still the interview's link
    ends_at: datetime  # ... and before the interview has ended
    asked_by: str | None  # Slack user id
    workspace_id: str | None
    body: dict[str, Any]  # the JSON posted to the notetaker


def bot_request_key(interview_id: int, meeting_url: str) -> str:
    digest = hashlib.sha256(meeting_url.encode()).hexdigest()[:16]
    return f"notetaker:{interview_id}:{digest}"


class ObserverService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def observer_room(self, interview_id: int, actor: Actor) -> ObserverRoom:
        with self.db.transaction() as session:
            study = _study_of(session, interview_id, actor)
            return ObserverRoom(study.id, study.name, study.observer_url or None)

    def send_bot(self, interview_id: int, actor: Actor, *, seen: Seen | None, notetaker_ready: bool) -> BotRequest:
        """Queue the request for the notetaker's bot to join this interview's meeting, once.

        ``notetaker_ready``: this server can sign and send notetaker requests (NOTETAKER_SECRET).
        """
        now = self.clock()
        with self.db.transaction(write_lock=True) as session:
            interview = load_for_action(session, interview_id, actor, now, seen)
            study = interview.study
            if interview.status is not InterviewStatus.UPCOMING or interview.ends_at <= now:
                raise Conflict("This interview is over, so there is no meeting to send the observer bot to.")
            if not interview.conferencing_url:
                raise Conflict("This interview has no meeting link yet. Add one with *Edit details*, then send the observer bot.")
            if not study.notetaker_url:
                raise NotConfigured(
                    f"No notetaker is set up for *{study.name}*, so there is no bot to send. An admin sets the "
                    f"notetaker's webhook with `interview-desk study update --study {study.id} --notetaker-url URL`."
                )
            if not notetaker_ready:
                raise NotConfigured(
                    "Interview Desk can't sign requests to the notetaker yet: an admin sets `NOTETAKER_SECRET` "
                    "(the secret shared with the notetaker service) on the server and restarts it."
                )
            key = bot_request_key(interview.id, interview.conferencing_url)
            request = _request(interview)
            existing = session.scalars(select(OutboxItem).where(OutboxItem.idempotency_key == key)).one_or_none()
            if existing is not None:
                return _repeat(session, existing, request, now)
            job = NotetakerJob(
                url=study.notetaker_url, key=key, interview_id=interview.id, meeting_url=interview.conferencing_url,
                ends_at=interview.ends_at, asked_by=actor.slack_user_id, workspace_id=actor.slack_workspace_id,
                body=_body(session, interview, actor, key),
            )
            payload = job.model_dump(mode="json") | {"timeline": _timeline(actor)}
            if not outbox.enqueue(session, key=key, kind=OutboxKind.NOTETAKER, payload=payload, now=now,
                                  interview_id=interview.id):
                return BotRequest(BotRequestState.ON_ITS_WAY, None, **request, at=now)  # queued a moment ago
            return BotRequest(BotRequestState.QUEUED, outbox.added_in(session)[-1], **request)

    def screener_responses(self, interview_id: int, actor: Actor) -> InterviewScreener:
        """Each participant's screener answers, in the order asked, for the research team."""
        with self.db.transaction() as session:
            interview = queries.interview_with_attendees(session, interview_id)
            if interview is None:
                raise NotFound("That interview no longer exists.")
            require_team_member(session, interview.study, actor)
            ids = [a.participant_id for a in interview.attendees if a.role is AttendeeRole.PARTICIPANT and a.participant_id]
            people = {p.id: p for p in session.scalars(select(Participant).where(Participant.id.in_(ids)))} if ids else {}
            return InterviewScreener(
                interview_id=interview.id, study_name=interview.study.name, session_name=interview.session_name,
                starts_at=interview.starts_at,
                participants=tuple(_responses(people[i]) for i in ids if i in people),
            )


def _study_of(session: Session, interview_id: int, actor: Actor) -> Study:
    interview = session.get(Interview, interview_id)
    if interview is None:
        raise NotFound("That interview no longer exists.")
    require_team_member(session, interview.study, actor)
    return interview.study


def _request(interview: Interview) -> dict[str, Any]:
    return {"meeting_url": interview.conferencing_url, "session_name": interview.session_name,
            "starts_at": interview.starts_at}


def _repeat(session: Session, item: OutboxItem, request: dict[str, Any], now: datetime) -> BotRequest:
    """A second click for the same meeting: say where the first request is; after a failure,
    ask again (a failed item holds no lease, so nothing else is delivering it)."""
    if item.status is OutboxStatus.SENT:
        return BotRequest(BotRequestState.ALREADY_SENT, None, **request, at=item.sent_at)
    if item.status is OutboxStatus.FAILED and outbox.retry_now(session, item.id, now=now):
        return BotRequest(BotRequestState.QUEUED_AGAIN, item.id, **request)
    return BotRequest(BotRequestState.ON_ITS_WAY, None, **request, at=item.created_at, last_error=item.last_error)


def _body(session: Session, interview: Interview, actor: Actor, key: str) -> dict[str, Any]:
    """What the notetaker is told: the meeting and the interview, participants by name only."""
    asker = None
    if actor.slack_user_id:
        member = queries.team_member(session, interview.study.team_id, actor.slack_user_id)
        asker = member.display_name if member else None
    return {
        "type": "observer_bot.requested",
        "delivery_id": key,
        "meeting_url": interview.conferencing_url,
        "interview": {
            "id": interview.id,
            "study": interview.study.name,
            "session": interview.session_name,
            "starts_at": interview.starts_at.isoformat(),
            "ends_at": interview.ends_at.isoformat(),
            "participants": [a.display_name for a in interview.attendees if a.role is AttendeeRole.PARTICIPANT],
        },
        "requested_by": {
            "slack_user_id": actor.slack_user_id, "slack_workspace_id": actor.slack_workspace_id,
            "name": asker or actor.name,
        },
    }


def _timeline(actor: Actor) -> dict[str, Any]:
    """The event the outbox worker writes when the notetaker took the request."""
    return {
        "kind": ActivityKind.OBSERVER_BOT_SENT.value, "actor_kind": actor.kind.value,
        "actor_slack_user_id": actor.slack_user_id, "actor_name": actor.name, "details": {"ok": True},
    }


def _qualified(participant: Participant) -> bool | None:
    if participant.status is ParticipantStatus.NOT_QUALIFIED:
        return False
    return None if participant.screener_answers is None else True


def _responses(participant: Participant) -> ScreenerResponses:
    stored: dict[str, Any] = participant.screener_answers or {}
    ordered = sorted(stored.items(), key=lambda item: (item[1].get("position", 0), item[0]))
    return ScreenerResponses(
        participant_id=participant.id, name=participant.name, email=participant.email, status=participant.status,
        qualified=_qualified(participant),
        answers=tuple(ScreenerAnswer(qid, str(a.get("question", "")), str(a.get("answer", ""))) for qid, a in ordered),
    )
