"""The App Home's reading: a user's own upcoming interviews as host or guest, across studies."""

from datetime import timedelta

from bot.services import Services
from bot.services.home import HomeService
from storage.db import Database
from storage.enums import AttendeeRole, InterviewStatus
from storage.models import Attendee, Interview
from tests.conftest import ADA, BO, CLI, WORKSPACE, MovableClock, Seed, berlin

ZED = "U0ZED"


def _book(services: Services, study_id: int, email: str, day: int, hour: int, host: str = ADA) -> int:
    return services.booking.book(study_ref=study_id, participant_email=email, starts_at=berlin(day, hour), host_id=host, actor=CLI).interview_id


def _add_guest(db: Database, interview_id: int, user: str) -> None:
    with db.transaction() as session:
        interview = session.get(Interview, interview_id)
        interview.attendees.append(Attendee(role=AttendeeRole.GUEST, slack_user_id=user, display_name=user))


def _other_study(services: Services, *, workspace: str = WORKSPACE, channel: str = "C0PRICING", host: str = ZED) -> int:
    team = services.teams.create(f"Team {channel}", workspace, [host])
    study = services.studies.create(team_ref=team.id, name=f"Pricing {channel}", channel_id=channel, timezone="Europe/Berlin", duration_minutes=30, host_ids=[host])
    services.participants.add(study.id, "pia@example.com", "Pia Lund")
    return study.id


def test_hosts_and_guests_see_their_own_interviews_soonest_first(services: Services, seeded: Seed, db: Database) -> None:
    later = _book(services, seeded.study_id, "otto@example.com", 7, 14)
    sooner = _book(services, seeded.study_id, "nora@example.com", 6, 10)
    pricing = _book(services, _other_study(services), "pia@example.com", 6, 9, host=ZED)
    _add_guest(db, later, BO)
    _add_guest(db, pricing, BO)
    home = HomeService(db, services.clock)

    ada = home.upcoming_for(WORKSPACE, ADA)
    assert [i.summary.id for i in ada.items] == [sooner, later] and not ada.has_more
    assert all(i.role is AttendeeRole.HOST and i.can_act for i in ada.items)
    assert ada.items[0].study.name == "Checkout redesign" and ada.items[0].summary.participants[0].name == "Nora Quist"

    bo = home.upcoming_for(WORKSPACE, BO)
    assert [(i.summary.id, i.role, i.can_act) for i in bo.items] == [
        (pricing, AttendeeRole.GUEST, False),  # a guest of another team's study: shown, no actions
        (later, AttendeeRole.GUEST, True),
    ]
    assert home.upcoming_for(WORKSPACE, "U0NOBODY").items == ()


def test_only_live_upcoming_interviews_of_this_workspace(services: Services, seeded: Seed, db: Database, clock: MovableClock) -> None:
    running = _book(services, seeded.study_id, "nora@example.com", 6, 10)
    canceled = _book(services, seeded.study_id, "otto@example.com", 8, 10)
    with db.transaction() as session:
        interview = session.get(Interview, canceled)
        interview.status = InterviewStatus.CANCELED
    elsewhere = _book(services, _other_study(services, workspace="T0ELSE", channel="C0ELSE", host=ADA), "pia@example.com", 7, 10)
    home = HomeService(db, services.clock)

    clock.now = berlin(6, 10, 15)
    assert [i.summary.id for i in home.upcoming_for(WORKSPACE, ADA).items] == [running]  # under way: still there
    assert [i.summary.id for i in home.upcoming_for("T0ELSE", ADA).items] == [elsewhere]
    clock.now = berlin(6, 10) + timedelta(minutes=45)
    assert home.upcoming_for(WORKSPACE, ADA).items == ()


def test_the_tab_is_capped_and_says_there_is_more(services: Services, seeded: Seed, db: Database) -> None:
    services.participants.add(seeded.study_id, "pia@example.com", "Pia Lund")
    ids = [_book(services, seeded.study_id, email, 6 + n, 10) for n, email in enumerate(["nora@example.com", "otto@example.com", "pia@example.com"])]
    home = HomeService(db, services.clock)

    page = home.upcoming_for(WORKSPACE, ADA, limit=2)

    assert [i.summary.id for i in page.items] == ids[:2] and page.has_more and page.limit == 2
    assert home.upcoming_for("", ADA).items == () and home.upcoming_for(WORKSPACE, "").items == ()


def test_a_guest_from_outside_the_team_sees_the_interview_without_actions(services: Services, seeded: Seed, db: Database) -> None:
    interview_id = _book(services, seeded.study_id, "nora@example.com", 6, 10)
    _add_guest(db, interview_id, "U0GUEST")  # a colleague from outside the research team

    [item] = HomeService(db, services.clock).upcoming_for(WORKSPACE, "U0GUEST").items

    assert item.summary.id == interview_id and item.role is AttendeeRole.GUEST and not item.can_act
