"""`interview-desk demo`: a fresh database with a believable study to look around in.

Interviews are booked through the real booking service, with the clock moved back for the ones
in the past; their outcomes and RSVPs are then recorded the way they would have happened.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.cli.runtime import Runtime
from bot.domain import Actor
from bot.services import Services, activity
from bot.services.booking import BookingService
from bot.settings import Settings
from storage.enums import (
    ActivityKind,
    ActorKind,
    AttendeeRole,
    InterviewStatus,
    InviteStatus,
    ParticipantStatus,
)
from storage.models import Interview

ZONE = ZoneInfo("Europe/Berlin")
COLLEAGUE = "U0DEMOBO"
PEOPLE = [
    ("Nora Quist", "nora.quist@example.com"),
    ("Otto Berg", "otto.berg@example.com"),
    ("Amara Okafor", "amara.okafor@example.com"),
    ("Jun Watanabe", "jun.watanabe@example.com"),
    ("Lucía Fernández", "lucia.fernandez@example.com"),
    ("Mateo Rossi", "mateo.rossi@example.com"),
    ("Ingrid Holm", "ingrid.holm@example.com"),
    ("Sami Haddad", "sami.haddad@example.com"),
    ("Priya Nair", "priya.nair@example.com"),
    ("Tom Becker", "tom.becker@example.com"),
]
STILL_TO_BOOK = [("Kai Moreno", "kai.moreno@example.com"), ("Lena Vogel", "lena.vogel@example.com")]
# (participant index, working days from today, local hour, outcome or RSVP)
PAST = [(0, -9, 10, "completed"), (1, -7, 14, "no_show"), (2, -5, 11, "completed"), (3, -3, 15, "canceled"), (4, -1, 10, "ended")]
UPCOMING = [(5, 1, 10, "confirmed"), (6, 1, 14, "accepted"), (7, 2, 11, "tentative"), (8, 3, 15, "declined"), (9, 4, 10, "awaiting")]


@dataclass(frozen=True)
class DemoSummary:
    path: str
    team_id: int
    study_id: int
    workspace_id: str
    channel_id: str
    interviews: int
    invited_links: tuple[tuple[str, str], ...]  # (name, scheduling link) of people still to book

    def instructions(self, settings: Settings, *, host: str | None, port: int | None, serving: bool) -> str:
        base = f"http://{host or settings.host}:{port or settings.port}"
        db = f"--database-url sqlite:///{self.path}"
        slack = (
            "Slack is connected: type /interviews in the study channel."
            if not settings.missing_slack_credentials()
            else "Slack: set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (README, \"Create the Slack app\"),\n"
            "  then run `interview-desk demo --workspace T… --channel C… --member U…` with your IDs\n"
            "  and type /interviews in that channel. Until then /slack/events answers 503."
        )
        lines = [
            f"Demo database {self.path}: team {self.team_id}, study {self.study_id} "
            f"'Checkout redesign' in channel {self.channel_id} ({self.interviews} interviews).",
            "",
            "Try:",
            f"  curl {base}/healthz" if serving else "  interview-desk demo   (serves it; --no-serve only creates it)",
            f"  interview-desk {db} interview list --study {self.study_id}",
            f"  interview-desk {db} interview list --study {self.study_id} --past --json",
            f"  interview-desk {db} study list",
            "",
            "Book as a participant (personal links of people still to book):",
            *[f"  {name}: {link}" for name, link in self.invited_links],
            "",
            slack,
        ]
        if serving:
            lines += ["", f"Serving on {base} (Ctrl+C to stop)."]
        return "\n".join(lines)


def _working_day(today: date, offset: int) -> date:
    """``offset`` working days (Mon–Fri) from ``today``; negative goes back."""
    step = 1 if offset >= 0 else -1
    day, left = today, abs(offset)
    while left:
        day += timedelta(days=step)
        if day.weekday() < 5:
            left -= 1
    return day


def _at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), ZONE).astimezone(UTC)


def _remove_database(path: str) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(path + suffix).unlink(missing_ok=True)


def create_demo(path: str, runtime: Runtime, *, workspace_id: str, channel_id: str, member_id: str) -> DemoSummary:
    _remove_database(path)
    services = runtime.services
    team = services.teams.create("Demo Research", workspace_id, [member_id, COLLEAGUE])
    study = services.studies.create(
        team_ref=team.id, name="Checkout redesign", channel_id=channel_id, timezone="Europe/Berlin",
        duration_minutes=45, host_ids=[member_id, COLLEAGUE], session_name="Checkout redesign — 1:1 interview",
    )
    services.studies.set_host_conferencing(study.id, member_id, "https://meet.example.com/ada-room", "checkout")
    services.studies.set_host_conferencing(study.id, COLLEAGUE, "https://meet.example.com/bo-room")
    for name, email in PEOPLE:
        services.participants.add(study.id, email, name)

    now = services.clock()
    today = now.astimezone(ZONE).date()
    booked: list[tuple[int, str, datetime]] = []
    for index, day_offset, hour, state in PAST + UPCOMING:
        start = _at(_working_day(today, day_offset), hour)
        # Book as if it were a week before the interview, so past ones are valid bookings.
        booking_time = min(now, start - timedelta(days=7))
        # Nobody is emailed about demo bookings.
        booker = BookingService(services.db, lambda t=booking_time: t, notifier=None)
        host = member_id if index % 2 == 0 else COLLEAGUE
        result = booker.book(
            study_ref=study.id, participant_email=PEOPLE[index][1], starts_at=start, host_id=host,
            actor=Actor.slack_user(workspace_id, host), override_availability=True,
        )
        booked.append((result.interview_id, state, booking_time))
    _play_out(services, booked, now)
    invited = []
    for name, email in STILL_TO_BOOK:
        person = services.participants.add(study.id, email, name)
        invited.append((name, services.participants.scheduling_link(person.id)))
    return DemoSummary(path, team.id, study.id, workspace_id, channel_id, len(booked), tuple(invited))


def _play_out(services: Services, booked: list[tuple[int, str, datetime]], now: datetime) -> None:
    """Give each demo interview the RSVPs and outcome its state describes, with timeline events."""
    system = Actor.system("Interview Desk")
    with services.db.transaction() as session:
        for interview_id, state, booked_at in booked:
            interview = session.get(Interview, interview_id)
            assert interview is not None
            person = next(a for a in interview.attendees if a.role is AttendeeRole.PARTICIPANT)
            who = Actor(ActorKind.PARTICIPANT, name=person.display_name)
            replied = booked_at + timedelta(hours=3)
            rsvp = {"confirmed": InviteStatus.ACCEPTED, "declined": InviteStatus.DECLINED, "tentative": InviteStatus.TENTATIVE, "awaiting": InviteStatus.AWAITING}.get(state, InviteStatus.ACCEPTED)
            if rsvp is not InviteStatus.AWAITING:
                person.invite_status = rsvp
                activity.record(session, interview, ActivityKind.RSVP_CHANGED, who, replied, attendee=person.display_name, status=rsvp.value)
            for host in (a for a in interview.attendees if a.role is AttendeeRole.HOST):
                host.invite_status = InviteStatus.ACCEPTED
            activity.record(session, interview, ActivityKind.EMAIL_SENT, system, booked_at, template="confirmation", to=person.display_name)
            if state in ("confirmed", "completed"):
                person.attendance_confirmed_at = min(now, interview.starts_at - timedelta(hours=20))
                activity.record(session, interview, ActivityKind.REMINDER_SENT, system, interview.starts_at - timedelta(hours=24), template="reminder_24h", to=person.display_name)
                activity.record(session, interview, ActivityKind.ATTENDANCE_CONFIRMED, who, person.attendance_confirmed_at, attendee=person.display_name)
            if state == "completed":
                interview.status, interview.rating, person.attended = InterviewStatus.COMPLETED, 4, True
                interview.outcome_at = interview.ends_at + timedelta(minutes=30)
                person.participant.status = ParticipantStatus.COMPLETED
                activity.record(session, interview, ActivityKind.COMPLETED, system, interview.outcome_at)
            elif state == "no_show":
                interview.status, person.attended = InterviewStatus.NO_SHOW, False
                interview.outcome_at = interview.starts_at + timedelta(minutes=15)
                person.participant.status = ParticipantStatus.NO_SHOW
                activity.record(session, interview, ActivityKind.NO_SHOW, Actor.slack_user("", COLLEAGUE), interview.outcome_at)
            elif state == "canceled":
                interview.status, interview.outcome_note = InterviewStatus.CANCELED, "Participant is travelling that week."
                interview.outcome_at = interview.starts_at - timedelta(days=2)
                person.participant.status = ParticipantStatus.CANCELED_INTERVIEW
                activity.record(session, interview, ActivityKind.CANCELED, who, interview.outcome_at, reason=interview.outcome_note)
