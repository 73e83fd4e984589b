"""Teams, studies and participants, as the admin CLI manages them."""

from typing import Any

import pytest
from sqlalchemy import func, select

from bot.services import Services
from bot.services.errors import Conflict, InvalidInput, NotFound
from bot.services.studies import DEFAULT_AVAILABILITY, find_study
from bot.services.teams import find_team
from storage.db import Database
from storage.enums import ParticipantStatus, TeamRole
from storage.models import Participant, ResearchTeam, Study, StudyHost, TeamMember
from tests.conftest import ADA, BO, CHANNEL, CLI, OUTSIDER, WORKSPACE, Seed, berlin


def count(db: Database, model: type[Any]) -> int:
    with db.transaction() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def create_study(services: Services, team_ref: str | int, **overrides: Any) -> Any:
    arguments: dict[str, Any] = {
        "team_ref": team_ref, "name": "Onboarding", "channel_id": "C0OTHER",
        "timezone": "America/New_York", "duration_minutes": 30, "host_ids": [ADA],
    }
    return services.studies.create(**{**arguments, **overrides})


# ---------------------------------------------------------------- teams


def test_create_team_makes_the_first_member_its_admin(db: Database, services: Services) -> None:
    team = services.teams.create("  UX   Research ", WORKSPACE, [ADA, f"<@{BO}>", ADA, f" {BO} "])

    assert (team.name, team.slack_workspace_id, team.member_slack_user_ids) == ("UX Research", WORKSPACE, (ADA, BO))
    with db.transaction() as session:
        roles = session.execute(
            select(TeamMember.slack_user_id, TeamMember.role).where(TeamMember.team_id == team.id).order_by(TeamMember.id)
        ).all()
    assert [tuple(r) for r in roles] == [(ADA, TeamRole.ADMIN), (BO, TeamRole.MEMBER)]


def test_team_names_are_unique_within_a_workspace_only(db: Database, services: Services) -> None:
    services.teams.create("UX Research", WORKSPACE, [ADA])

    with pytest.raises(Conflict, match="already has a team named 'UX Research'"):
        services.teams.create("UX Research", WORKSPACE, [BO])
    other = services.teams.create("UX Research", "T0OTHER", [ADA])

    assert other.slack_workspace_id == "T0OTHER"
    assert count(db, ResearchTeam) == 2
    assert count(db, TeamMember) == 2


@pytest.mark.parametrize(
    ("name", "workspace", "members", "message"),
    [
        ("UX", "X0TEST", [ADA], "not a Slack workspace ID"),
        ("UX", "T0", [ADA], "not a Slack workspace ID"),
        ("UX", WORKSPACE, ["ada"], "not a Slack user ID"),
        ("UX", WORKSPACE, ["C0STUDY"], "not a Slack user ID"),
        ("UX", WORKSPACE, [], "at least one member"),
        ("   ", WORKSPACE, [ADA], "Team name can't be empty"),
        ("x" * 201, WORKSPACE, [ADA], "too long"),
    ],
    ids=["workspace-prefix", "workspace-short", "user-lowercase", "user-is-channel", "no-members", "blank-name", "long-name"],
)
def test_create_team_refuses_bad_input(
    db: Database, services: Services, name: str, workspace: str, members: list[str], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        services.teams.create(name, workspace, members)
    assert count(db, ResearchTeam) == 0


def test_add_members_is_idempotent(db: Database, services: Services) -> None:
    team = services.teams.create("UX Research", WORKSPACE, [ADA])

    first = services.teams.add_members(team.id, [BO, "U0CY", BO])
    again = services.teams.add_members(team.id, [ADA, "U0CY", f"<@{BO}>"])

    assert first.member_slack_user_ids == again.member_slack_user_ids == (ADA, BO, "U0CY")
    assert count(db, TeamMember) == 3
    with db.transaction() as session:
        roles = dict(session.execute(select(TeamMember.slack_user_id, TeamMember.role)).all())
    assert roles == {ADA: TeamRole.ADMIN, BO: TeamRole.MEMBER, "U0CY": TeamRole.MEMBER}


def test_add_members_refuses_a_bad_id_and_adds_no_one(db: Database, services: Services) -> None:
    team = services.teams.create("UX Research", WORKSPACE, [ADA])
    with pytest.raises(InvalidInput):
        services.teams.add_members(team.id, [BO, "bob"])
    assert count(db, TeamMember) == 1


def test_teams_are_found_by_id_or_name(db: Database, services: Services) -> None:
    team = services.teams.create("UX Research", WORKSPACE, [ADA])
    services.teams.create("Growth", WORKSPACE, [BO])

    assert services.teams.add_members("UX Research", [BO]).id == team.id
    assert services.teams.add_members(str(team.id), ["U0CY"]).member_slack_user_ids == (ADA, BO, "U0CY")
    with db.transaction() as session:
        assert find_team(session, team.id).name == "UX Research"
        with pytest.raises(NotFound, match="no team named 'Design'"):
            find_team(session, "Design")
        with pytest.raises(NotFound, match="no team with ID 99"):
            find_team(session, 99)


def test_a_team_name_used_in_two_workspaces_needs_its_id(db: Database, services: Services) -> None:
    services.teams.create("UX Research", WORKSPACE, [ADA])
    services.teams.create("UX Research", "T0OTHER", [ADA])
    with pytest.raises(Conflict, match="use its ID"):
        services.teams.add_members("UX Research", [BO])
    assert count(db, TeamMember) == 2


def test_list_teams(services: Services) -> None:
    ux = services.teams.create("UX Research", WORKSPACE, [ADA])
    growth = services.teams.create("Growth", WORKSPACE, [BO])
    assert [t.id for t in services.teams.list()] == [ux.id, growth.id]


# ---------------------------------------------------------------- studies


def test_create_study_binds_the_channel_with_default_settings(db: Database, services: Services, seeded: Seed) -> None:
    study = create_study(services, "UX Research", host_ids=[BO, f"<@{ADA}>", BO])

    assert study.team_id == seeded.team_id
    assert (study.slack_workspace_id, study.slack_channel_id) == (WORKSPACE, "C0OTHER")
    assert (study.timezone, study.duration_minutes) == ("America/New_York", 30)
    assert study.session_name == "Onboarding interview"
    assert study.host_slack_user_ids == (BO, ADA)
    with db.transaction() as session:
        row = session.get_one(Study, study.id)
        assert row.availability == DEFAULT_AVAILABILITY
        assert [w["weekday"] for w in row.availability] == [0, 1, 2, 3, 4]
        assert {(w["start"], w["end"]) for w in row.availability} == {("09:00", "17:00")}
        assert row.participant_limit == 1 and row.buffer_minutes == 0
    assert services.studies.get("C0OTHER") == study
    assert services.studies.get("Onboarding") == study


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"timezone": "Mars/Olympus"}, "not a time zone"),
        ({"timezone": "CEST+2"}, "not a time zone"),
        ({"timezone": "../etc/passwd"}, "not a time zone"),
        ({"channel_id": "general"}, "not a Slack channel ID"),
        ({"channel_id": "U0ADA"}, "not a Slack channel ID"),
        ({"duration_minutes": 4}, "5 to 480 minutes, not 4"),
        ({"duration_minutes": 481}, "5 to 480 minutes, not 481"),
        ({"duration_minutes": 0}, "5 to 480"),
        ({"host_ids": []}, "at least one host"),
        ({"host_ids": ["ada"]}, "not a Slack user ID"),
        ({"host_ids": [ADA, OUTSIDER]}, f"members of the team 'UX Research': {OUTSIDER} is not"),
        ({"host_ids": [OUTSIDER, "U0ZED"]}, f"{OUTSIDER}, U0ZED are not"),
        ({"name": " "}, "Study name can't be empty"),
        ({"participant_limit": 0}, "1 to 50"),
        ({"participant_limit": 51}, "1 to 50"),
    ],
)
def test_create_study_refuses_bad_input(
    db: Database, services: Services, seeded: Seed, overrides: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        create_study(services, seeded.team_id, **overrides)
    assert count(db, Study) == 1


@pytest.mark.parametrize("minutes", [5, 480])
def test_create_study_accepts_the_duration_bounds(services: Services, seeded: Seed, minutes: int) -> None:
    assert create_study(services, seeded.team_id, duration_minutes=minutes).duration_minutes == minutes


def test_create_study_refuses_a_member_who_cannot_host(db: Database, services: Services, seeded: Seed) -> None:
    with db.transaction() as session:
        session.scalars(select(TeamMember).where(TeamMember.slack_user_id == BO)).one().can_host = False
    with pytest.raises(InvalidInput, match=f"{BO} can't host"):
        create_study(services, seeded.team_id, host_ids=[ADA, BO])
    assert count(db, Study) == 1


def test_a_channel_holds_one_study_per_workspace(db: Database, services: Services, seeded: Seed) -> None:
    with pytest.raises(Conflict, match=f"Channel {CHANNEL} already has the study 'Checkout redesign'"):
        create_study(services, seeded.team_id, channel_id=CHANNEL)
    assert count(db, Study) == 1

    elsewhere = services.teams.create("UX Research", "T0OTHER", [ADA])
    other = create_study(services, elsewhere.id, channel_id=CHANNEL)
    assert (other.slack_workspace_id, other.slack_channel_id) == ("T0OTHER", CHANNEL)


def test_create_study_for_an_unknown_team(db: Database, services: Services) -> None:
    with pytest.raises(NotFound, match="no team named 'Nobody'"):
        create_study(services, "Nobody")
    assert count(db, Study) == 0


def test_set_host_conferencing_sets_that_hosts_room(db: Database, services: Services, seeded: Seed) -> None:
    services.studies.set_host_conferencing(seeded.study_id, f"<@{BO}>", " https://zoom.example.com/j/1 ", "  ")

    with db.transaction() as session:
        rooms = {
            h.member.slack_user_id: (h.conferencing_url, h.conferencing_password)
            for h in session.scalars(select(StudyHost).where(StudyHost.study_id == seeded.study_id))
        }
    assert rooms == {
        ADA: ("https://meet.example.com/ada", "s3cret"),
        BO: ("https://zoom.example.com/j/1", None),
    }


def test_a_new_room_applies_to_interviews_booked_afterwards(services: Services, seeded: Seed) -> None:
    before = services.booking.book(
        study_ref=seeded.study_id, participant_email="nora@example.com", starts_at=berlin(6, 10), host_id=ADA, actor=CLI
    )
    services.studies.set_host_conferencing(seeded.study_id, ADA, "https://meet.example.com/ada-2")
    after = services.booking.book(
        study_ref=seeded.study_id, participant_email="otto@example.com", starts_at=berlin(6, 11), host_id=ADA, actor=CLI
    )

    old = services.interviews.details(before.interview_id, CLI)
    new = services.interviews.details(after.interview_id, CLI)
    assert (old.summary.conferencing_url, old.conferencing_password) == ("https://meet.example.com/ada", "s3cret")
    assert (new.summary.conferencing_url, new.conferencing_password) == ("https://meet.example.com/ada-2", None)


@pytest.mark.parametrize(
    "url", ["meet.example.com/ada", "ftp://meet.example.com/ada", "javascript:alert(1)", "https://", "https://x.example/" + "a" * 2000]
)
def test_set_host_conferencing_refuses_a_non_web_link(db: Database, services: Services, seeded: Seed, url: str) -> None:
    with pytest.raises(InvalidInput, match="Meeting link must be a web address"):
        services.studies.set_host_conferencing(seeded.study_id, BO, url)
    with db.transaction() as session:
        assert session.scalars(select(StudyHost.conferencing_url).order_by(StudyHost.id)).all() == [
            "https://meet.example.com/ada", None
        ]


def test_set_host_conferencing_for_someone_not_hosting(services: Services, seeded: Seed) -> None:
    with pytest.raises(NotFound, match=f"{OUTSIDER} is not a host of 'Checkout redesign'"):
        services.studies.set_host_conferencing(seeded.study_id, OUTSIDER, "https://meet.example.com/eve")
    with pytest.raises(InvalidInput, match="not a Slack user ID"):
        services.studies.set_host_conferencing(seeded.study_id, "eve", "https://meet.example.com/eve")
    with pytest.raises(NotFound, match="no study with ID 99"):
        services.studies.set_host_conferencing(99, ADA, "https://meet.example.com/ada")


def test_a_study_name_used_twice_needs_its_id(db: Database, services: Services, seeded: Seed) -> None:
    create_study(services, seeded.team_id, name="Checkout redesign")
    with db.transaction() as session, pytest.raises(Conflict, match="use its ID"):
        find_study(session, "Checkout redesign")
    assert services.studies.get(CHANNEL).id == seeded.study_id


# ---------------------------------------------------------------- participants


def test_participant_email_is_stored_in_lower_case(db: Database, services: Services, seeded: Seed) -> None:
    added = services.participants.add(seeded.study_id, "  Pia.Lund@Example.COM ", "  Pia   Lund ")

    assert (added.email, added.name, added.status) == ("pia.lund@example.com", "Pia Lund", ParticipantStatus.INVITED)
    with db.transaction() as session:
        stored = session.get_one(Participant, added.id)
        assert (stored.email, stored.study_id) == ("pia.lund@example.com", seeded.study_id)


def test_participant_name_defaults_to_the_mailbox(services: Services, seeded: Seed) -> None:
    assert services.participants.add(seeded.study_id, "Pia@example.com").name == "pia"


@pytest.mark.parametrize("email", ["nora@example.com", "NORA@example.com", " Nora@EXAMPLE.com"])
def test_a_participant_is_added_once_per_study(db: Database, services: Services, seeded: Seed, email: str) -> None:
    with pytest.raises(Conflict, match="nora@example.com is already a participant"):
        services.participants.add(seeded.study_id, email, "Nora Again")
    assert count(db, Participant) == 2


def test_the_same_person_may_join_another_study(services: Services, seeded: Seed) -> None:
    other = create_study(services, seeded.team_id)
    added = services.participants.add(other.id, "nora@example.com", "Nora Quist")
    assert added.study_id == other.id
    assert [p.email for p in services.participants.list(other.id)] == ["nora@example.com"]
    assert [p.email for p in services.participants.list(seeded.study_id)] == ["nora@example.com", "otto@example.com"]


@pytest.mark.parametrize(
    ("email", "reason"),
    [
        ("nora.example.com", "must have an @-sign"),
        ("nora@", "something after the @-sign"),
        ("nora@@example.com", "after the @-sign contains invalid characters"),
        ("nora @example.com", "invalid characters before the @-sign: SPACE"),
        ("nora@example", "should have a period"),
        ("", "must have an @-sign"),
    ],
)
def test_an_invalid_email_is_refused_with_the_reason(
    db: Database, services: Services, seeded: Seed, email: str, reason: str
) -> None:
    with pytest.raises(InvalidInput) as raised:
        services.participants.add(seeded.study_id, email, "Someone")

    message = raised.value.message
    assert message.startswith(f"{email!r} is not a valid email address: ")
    assert reason in message
    assert "\n" not in message
    assert count(db, Participant) == 2


def test_adding_a_participant_to_an_unknown_study(db: Database, services: Services, seeded: Seed) -> None:
    with pytest.raises(NotFound, match="no study named 'Nope'"):
        services.participants.add("Nope", "pia@example.com")
    assert count(db, Participant) == 2
