"""Bulk-seeding a study with many interviews, fast enough for benchmarks (plain INSERTs)."""

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select

from storage.db import Database
from storage.enums import (
    ActivityKind,
    ActorKind,
    AttendeeRole,
    InterviewStatus,
    InviteStatus,
)
from storage.models import (
    ActivityEvent,
    Attendee,
    Interview,
    Participant,
    ResearchTeam,
    Study,
    StudyHost,
    TeamMember,
)

WORKSPACE, CHANNEL, HOST = "T0BENCH", "C0BENCH", "U0BENCHHOST"
STATUSES = [InterviewStatus.COMPLETED, InterviewStatus.COMPLETED, InterviewStatus.NO_SHOW, InterviewStatus.CANCELED]
RSVPS = list(InviteStatus)


def seed_study(db: Database, interviews: int, *, now: datetime | None = None) -> dict[str, int]:
    """A team, a study in CHANNEL and ``interviews`` interviews, half past and half upcoming."""
    now = (now or datetime.now(UTC)).replace(second=0, microsecond=0)
    with db.transaction() as session:
        team = ResearchTeam(slack_workspace_id=WORKSPACE, name=f"Bench {uuid.uuid4().hex[:6]}")
        member = TeamMember(team=team, slack_user_id=HOST, display_name="Host", email="host@example.com")
        study = Study(
            team=team, slack_workspace_id=WORKSPACE, slack_channel_id=CHANNEL, name="Bench study",
            session_name="Bench interview", timezone="Europe/Berlin", duration_minutes=45,
        )
        session.add_all([team, member, study, StudyHost(study=study, member=member, conferencing_url="https://meet.example.com/x")])
        session.flush()
        study_id, member_id = study.id, member.id
        session.execute(
            insert(Participant),
            [{"study_id": study_id, "name": f"Participant {i}", "email": f"p{i}@example.com"} for i in range(interviews)],
        )
        participant_ids = session.scalars(select(Participant.id).where(Participant.study_id == study_id).order_by(Participant.id)).all()
        half = interviews // 2
        rows = []
        for i in range(interviews):
            # The first half every hour back from now, the second half every hour ahead.
            hours = -(i + 1) if i < half else i - half + 1
            start = now + timedelta(hours=hours)
            status = InterviewStatus.UPCOMING if start > now else STATUSES[i % len(STATUSES)]
            rows.append({
                "study_id": study_id, "starts_at": start, "ends_at": start + timedelta(minutes=45),
                "session_name": "Bench interview", "status": status, "participant_limit": 1,
                "conferencing_url": "https://meet.example.com/x", "ical_uid": f"{uuid.uuid4()}@bench",
                "organizer_member_id": member_id,
            })
        session.execute(insert(Interview), rows)
        interview_ids = session.scalars(select(Interview.id).where(Interview.study_id == study_id).order_by(Interview.id)).all()
        attendees, events = [], []
        for i, (interview_id, participant_id) in enumerate(zip(interview_ids, participant_ids, strict=True)):
            attendees.append({"interview_id": interview_id, "role": AttendeeRole.HOST, "slack_user_id": HOST, "display_name": "Host", "is_organizer": True, "invite_status": InviteStatus.ACCEPTED})
            attendees.append({"interview_id": interview_id, "role": AttendeeRole.PARTICIPANT, "participant_id": participant_id, "email": f"p{i}@example.com", "display_name": f"Participant {i}", "invite_status": RSVPS[i % len(RSVPS)]})
            for k in range(1 + i % 3):
                events.append({"interview_id": interview_id, "kind": ActivityKind.EMAIL_SENT, "actor_kind": ActorKind.SYSTEM, "occurred_at": now - timedelta(days=30, minutes=k), "details": {"template": "confirmation", "to": f"Participant {i}"}})
        session.execute(insert(Attendee), attendees)
        session.execute(insert(ActivityEvent), events)
    if db.backend == "postgresql":
        # What autovacuum would do after a bulk load: give the planner real statistics.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("ANALYZE")
    return {"study_id": study_id, "first_interview_id": interview_ids[0], "middle_interview_id": interview_ids[len(interview_ids) // 2]}


def seed_due_reminders(db: Database, count: int, *, starts_at: datetime, studies: int, now: datetime) -> list[str]:
    """``count`` one-to-one interviews, spread over ``studies`` studies (each its own channel),
    all starting at ``starts_at`` with a single reminder 24 hours before. The participant is the
    only attendee with an email, so each interview owes exactly one reminder email. Returns the
    participants' addresses."""
    with db.transaction() as session:
        team = ResearchTeam(slack_workspace_id=WORKSPACE, name=f"Bench {uuid.uuid4().hex[:6]}")
        member = TeamMember(team=team, slack_user_id=HOST, display_name="Host")
        session.add_all([team, member])
        session.flush()
        study_ids = []
        for n in range(studies):
            study = Study(
                team=team, slack_workspace_id=WORKSPACE, slack_channel_id=f"C0BENCH{n:04d}", name=f"Bench study {n}",
                session_name="Bench interview", timezone="Europe/Berlin", duration_minutes=45,
                reminder_offsets_minutes=[24 * 60],
            )
            session.add_all([study, StudyHost(study=study, member=member, conferencing_url="https://meet.example.com/x")])
            session.flush()
            study_ids.append(study.id)
        emails = [f"participant-{i}@example.com" for i in range(count)]
        session.execute(insert(Participant), [
            {"study_id": study_ids[i % studies], "name": f"Participant {i}", "email": emails[i],
             "token_nonce": uuid.uuid4().hex, "created_at": now, "updated_at": now}
            for i in range(count)
        ])
        participant_ids = session.scalars(select(Participant.id).where(Participant.email.in_(emails)).order_by(Participant.id)).all()
        session.execute(insert(Interview), [
            {"study_id": study_ids[i % studies], "starts_at": starts_at, "ends_at": starts_at + timedelta(minutes=45),
             "session_name": "Bench interview", "status": InterviewStatus.UPCOMING, "participant_limit": 1,
             "conferencing_url": "https://meet.example.com/x", "ical_uid": f"{uuid.uuid4()}@bench",
             "organizer_member_id": member.id, "timed_at": now, "created_at": now, "updated_at": now}
            for i in range(count)
        ])
        interview_ids = session.scalars(select(Interview.id).where(Interview.study_id.in_(study_ids)).order_by(Interview.id)).all()
        attendees = []
        for i, (interview_id, participant_id) in enumerate(zip(interview_ids, participant_ids, strict=True)):
            attendees.append({"interview_id": interview_id, "role": AttendeeRole.HOST, "slack_user_id": HOST,
                              "display_name": "Host", "is_organizer": True, "invite_status": InviteStatus.ACCEPTED,
                              "created_at": now, "updated_at": now})
            attendees.append({"interview_id": interview_id, "role": AttendeeRole.PARTICIPANT, "participant_id": participant_id,
                              "email": emails[i], "display_name": f"Participant {i}", "invite_status": InviteStatus.ACCEPTED,
                              "created_at": now, "updated_at": now})
        session.execute(insert(Attendee), attendees)
    if db.backend == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("ANALYZE")
    return emails
