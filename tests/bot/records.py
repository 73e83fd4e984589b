"""Shared by the service tests: booking the interview a test starts from, delivering its emails,
and reading back what a service wrote (outbox items, timeline events, thread notes)."""

from datetime import datetime
from typing import Any

from sqlalchemy import or_, select

from bot.domain import Actor, MemberProfile
from bot.integrations.email import SmtpTransport
from bot.jobs.deliverers import EmailDeliverer
from bot.jobs.outbox_worker import OutboxWorker
from bot.services import Services
from storage.db import Database
from storage.enums import ActivityKind, OutboxKind
from storage.models import ActivityEvent, Interview, OutboxItem, Participant, TeamMember
from tests.conftest import ADA, BO, CLI, WORKSPACE, MovableClock, Seed, berlin
from tests.support.smtp_servers import SmtpServer

AS_ADA = Actor.slack_user(WORKSPACE, ADA)


def book(services: Services, seed: Seed, email: str = "nora@example.com", at: datetime | None = None,
         host: str = ADA) -> int:
    """An interview booked from the command line (Wednesday 10:00 in Berlin unless ``at``)."""
    return services.booking.book(
        study_ref=seed.study_id, participant_email=email, starts_at=at or berlin(6, 10), host_id=host, actor=CLI,
    ).interview_id


def booked_with_ada_known(services: Services, seed: Seed) -> int:
    """Nora's interview with Ada, whose address Slack told us (replies to emails go to her)."""
    services.profiles.remember(WORKSPACE, {ADA: MemberProfile("Ada Lovelace", "ada@example.com")})
    return book(services, seed, "nora@example.com")


def give_team_emails(db: Database) -> None:
    """Ada and Bo as Slack would describe them, so they get their invites."""
    with db.transaction() as session:
        for member in session.scalars(select(TeamMember)):
            member.display_name, member.email = {ADA: ("Ada", "ada@example.com"), BO: ("Bo", "bo@example.com")}[member.slack_user_id]


def load_interview(db: Database, interview_id: int) -> Interview:
    """The interview with its attendees, their participants and its study, usable after the session."""
    with db.transaction() as session:
        interview = session.get(Interview, interview_id)
        assert interview is not None
        interview.attendees, interview.study  # noqa: B018 (loaded for use after the session)
        for a in interview.attendees:
            a.participant  # noqa: B018
        return interview


def participant_id(db: Database, email: str) -> int:
    with db.transaction() as session:
        return session.scalars(select(Participant.id).where(Participant.email == email)).one()


def outbox_of(db: Database, interview_id: int) -> list[OutboxItem]:
    """The interview's outbox items, in the order they were queued."""
    with db.transaction() as session:
        return list(session.scalars(select(OutboxItem).where(OutboxItem.interview_id == interview_id).order_by(OutboxItem.id)))


def events_of(db: Database, interview_id: int, kind: ActivityKind) -> list[ActivityEvent]:
    """The interview's timeline events of ``kind``, oldest first."""
    with db.transaction() as session:
        return list(session.scalars(
            select(ActivityEvent).where(ActivityEvent.interview_id == interview_id, ActivityEvent.kind == kind).order_by(ActivityEvent.id)
        ))


def notes_of(db: Database, interview_id: int) -> list[dict[str, Any]]:
    """The thread notes queued for the interview's card."""
    return [i.payload["note"] for i in outbox_of(db, interview_id) if i.kind is OutboxKind.SLACK_POST and "note" in i.payload]


def written_emails(db: Database, interview_id: int) -> list[OutboxItem]:
    """The emails a teammate composed or sent as an incentive for the interview, in order."""
    with db.transaction() as session:
        return list(session.scalars(
            select(OutboxItem).where(
                OutboxItem.interview_id == interview_id, OutboxItem.kind == OutboxKind.EMAIL,
                or_(OutboxItem.idempotency_key.like("email:composed:%"), OutboxItem.idempotency_key.like("email:incentive:%")),
            ).order_by(OutboxItem.id)
        ))


def deliver_emails(services: Services, clock: MovableClock, smtp: SmtpServer) -> None:
    """Send the queued emails through the real SMTP server (channel posts wait for a Slack worker)."""
    transport = SmtpTransport(smtp.host, smtp.port, starttls=False, timeout=5)
    result = OutboxWorker(services.db, clock, {OutboxKind.EMAIL: EmailDeliverer(transport)}).drain()
    assert result.failed == 0
