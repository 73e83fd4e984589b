"""Seeding for the acknowledgement benchmark: one study (one channel) per kind of request, each
with interviews in the state that request needs, organized by a host whose Google Calendar is
connected, each interview's event already in that calendar.

Everything is inserted in bulk (plain INSERTs), so thousands of interviews take seconds. The
studies switch off what time alone would do during the run (reminders, the automatic
"completed" after the grace, the unconfirmed-attendance warning), so the only work the server
does is what the benchmark's requests cause.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from itertools import count

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from bot.services import Services
from storage.enums import (
    AttendeeRole,
    CalendarProvider,
    InterviewStatus,
    InviteStatus,
    ParticipantStatus,
    TeamRole,
)
from storage.models import (
    Attendee,
    Interview,
    Participant,
    ResearchTeam,
    Study,
    StudyHost,
    TeamMember,
)
from tests.support.fake_google import FakeGoogle
from tests.support.google import connect

WORKSPACE = "T0ACK"
HOST, COHOST = "U0ACKHOST", "U0ACKCOHOST"
HOST_EMAIL, COHOST_EMAIL = "host@bench.example.com", "cohost@bench.example.com"
ZONE = "Europe/Berlin"
DURATION = timedelta(minutes=45)
SCREENER = [{"id": "q1", "question": "How often do you shop online?", "choices": ["Weekly", "Rarely"],
             "qualifying": ["Weekly"]}]
ANSWERS = {"q1": {"question": SCREENER[0]["question"], "answer": "Weekly", "position": 0}}
NEVER = 10 * 365 * 24 * 60  # minutes: a grace that keeps ended interviews waiting for the team


class Pool(StrEnum):
    """The state a request needs its interview in."""

    UPCOMING = "upcoming"  # ahead, one participant who has not answered the invite yet
    DECLINED = "declined"  # ahead, the participant declined (the thread's "Ask to reschedule")
    GROUP = "group"  # ahead, a group slot seating 3 with one participant
    ENDED = "ended"  # over, nobody has said how it went
    COMPLETED = "completed"  # completed by the system, not rated, the incentive not sent


@dataclass(frozen=True)
class StudySpec:
    channel_id: str
    pool: Pool
    interviews: int


@dataclass(frozen=True)
class Seeded:
    """One interview, as the buttons showing it would describe it."""

    id: int
    starts_at: datetime
    status: InterviewStatus
    conferencing_url: str


def seed(
    services: Services, google: FakeGoogle, studies: Sequence[StudySpec], *, notetaker_url: str,
    now: datetime | None = None,
) -> dict[str, list[Seeded]]:
    """The team, its connected host and every study of ``studies``; returns each channel's
    interviews in order."""
    now = (now or datetime.now(UTC)).replace(minute=0, second=0, microsecond=0)
    db = services.db
    with db.transaction() as session:
        team = ResearchTeam(slack_workspace_id=WORKSPACE, name=f"Bench {uuid.uuid4().hex[:6]}")
        session.add_all([
            team,
            TeamMember(team=team, slack_user_id=HOST, display_name="Hana Host", email=HOST_EMAIL,
                       role=TeamRole.ADMIN),
            TeamMember(team=team, slack_user_id=COHOST, display_name="Cole Cohost", email=COHOST_EMAIL),
        ])
    connect(services, google, HOST, HOST_EMAIL)
    ahead, behind = count(), count()  # one hour apart each, so no two of the host's interviews clash
    seeded: dict[str, list[Seeded]] = {}
    with db.transaction() as session:
        team = session.scalars(select(ResearchTeam).where(ResearchTeam.slack_workspace_id == WORKSPACE)).one()
        members = {m.slack_user_id: m for m in team.members}
        for spec in studies:
            study = _study(team, members, spec, notetaker_url)
            session.add(study)
            session.flush()
            starts = [
                now + timedelta(days=2, hours=next(ahead)) if _ahead(spec.pool) else now - timedelta(hours=2 + next(behind))
                for _ in range(spec.interviews)
            ]
            seeded[spec.channel_id] = _interviews(session, google, study, members[HOST].id, spec.pool, starts, now)
    return seeded


def _ahead(pool: Pool) -> bool:
    return pool in (Pool.UPCOMING, Pool.DECLINED, Pool.GROUP)


def _study(team: ResearchTeam, members: dict[str, TeamMember], spec: StudySpec, notetaker_url: str) -> Study:
    study = Study(
        team=team, slack_workspace_id=WORKSPACE, slack_channel_id=spec.channel_id, name=f"Study {spec.channel_id}",
        session_name="Bench interview", timezone=ZONE, duration_minutes=45,
        participant_limit=3 if spec.pool is Pool.GROUP else 1,
        availability=[{"weekday": d, "start": "09:00", "end": "17:00"} for d in range(5)],
        observer_url="https://observe.example.com/room", notetaker_url=notetaker_url, screener=SCREENER,
        reminder_offsets_minutes=[], completion_grace_minutes=NEVER, unconfirmed_warning_hours=None,
        incentive_amount=Decimal("25.00"), incentive_currency="EUR",
    )
    study.hosts = [
        StudyHost(member=members[user], conferencing_url=f"https://meet.example.com/{user.lower()}")
        for user in (HOST, COHOST)
    ]
    return study


def _interviews(
    session: Session, google: FakeGoogle, study: Study, organizer_id: int, pool: Pool,
    starts: list[datetime], now: datetime,
) -> list[Seeded]:
    tag = uuid.uuid4().hex[:8]
    emails = [f"p{n}-{tag}@bench.example.com" for n in range(len(starts))]
    session.execute(insert(Participant), [
        {"study_id": study.id, "name": f"Participant {n}", "email": email, "token_nonce": uuid.uuid4().hex,
         "screener_answers": ANSWERS, "created_at": now, "updated_at": now,
         "status": ParticipantStatus.COMPLETED if pool is Pool.COMPLETED else ParticipantStatus.SCHEDULED}
        for n, email in enumerate(emails)
    ])
    participant_ids = session.scalars(
        select(Participant.id).where(Participant.study_id == study.id).order_by(Participant.id)).all()
    status = InterviewStatus.COMPLETED if pool is Pool.COMPLETED else InterviewStatus.UPCOMING
    room = f"https://meet.example.com/{HOST.lower()}"
    session.execute(insert(Interview), [
        {"study_id": study.id, "starts_at": start, "ends_at": start + DURATION, "session_name": "Bench interview",
         "status": status, "participant_limit": study.participant_limit, "conferencing_url": room,
         "ical_uid": f"{uuid.uuid4()}@bench", "organizer_member_id": organizer_id,
         "calendar_provider": CalendarProvider.GOOGLE,
         # The event is already in the host's calendar, so a change is a write to it.
         "google_event_id": google.add_event(HOST_EMAIL, start, start + DURATION, summary="Bench interview"),
         "outcome_at": start + DURATION if status is InterviewStatus.COMPLETED else None,
         "timed_at": now - timedelta(days=7), "created_at": now, "updated_at": now}
        for start in starts
    ])
    rows = session.execute(
        select(Interview.id, Interview.starts_at).where(Interview.study_id == study.id).order_by(Interview.id)).all()
    answer = InviteStatus.DECLINED if pool is Pool.DECLINED else InviteStatus.AWAITING
    attendees = []
    for n, ((interview_id, _), participant_id, email) in enumerate(zip(rows, participant_ids, emails, strict=True)):
        attendees.append({"interview_id": interview_id, "role": AttendeeRole.HOST, "slack_user_id": HOST,
                          "email": HOST_EMAIL, "display_name": "Hana Host", "is_organizer": True,
                          "invite_status": InviteStatus.ACCEPTED, "created_at": now, "updated_at": now})
        attendees.append({"interview_id": interview_id, "role": AttendeeRole.PARTICIPANT,
                          "participant_id": participant_id, "email": email, "display_name": f"Participant {n}",
                          "invite_status": answer, "created_at": now, "updated_at": now})
    session.execute(insert(Attendee), attendees)
    return [Seeded(interview_id, start, status, room) for interview_id, start in rows]
