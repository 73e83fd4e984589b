"""`services.interviews`: the Upcoming/Past lists and the details view, and who may read them."""

from datetime import UTC, timedelta

import pytest

from bot.domain import Actor, InterviewPage, ListTab
from bot.services import Services
from bot.services.access import FOREIGN_REFUSAL
from bot.services.errors import InvalidInput, NotAllowed, NotFound
from bot.services.interviews import NoStudyHere
from storage.db import Database
from storage.enums import (
    ActivityKind,
    ActorKind,
    AttendeeRole,
    InterviewStatus,
    InviteStatus,
)
from tests.conftest import (
    ADA,
    BO,
    CHANNEL,
    CLI,
    OUTSIDER,
    T0,
    WORKSPACE,
    MovableClock,
    Seed,
    berlin,
)
from tests.storage.factories import add_event, add_interview

ADA_IN_SLACK = Actor.slack_user(WORKSPACE, ADA)


def book_nora(services: Services, seeded: Seed) -> int:
    return services.booking.book(
        study_ref=seeded.study_id, participant_email="nora@example.com", starts_at=berlin(6, 10),
        host_id=ADA, actor=ADA_IN_SLACK,
    ).interview_id


def add_interviews(db: Database, study_id: int, hours_from_t0: list[int], **options: object) -> list[int]:
    with db.transaction() as session:
        return [add_interview(session, study_id, T0 + timedelta(hours=h), **options).id for h in hours_from_t0]  # type: ignore[arg-type]


def ids(page: InterviewPage) -> list[int]:
    return [item.id for item in page.items]


# ---------------------------------------------------------------- lists


def test_list_page_by_channel_shows_the_booked_interview(services: Services, seeded: Seed) -> None:
    interview_id = book_nora(services, seeded)

    page = services.interviews.list_page(actor=ADA_IN_SLACK, tab=ListTab.UPCOMING, workspace_id=WORKSPACE, channel_id=CHANNEL)

    assert (page.study.id, page.study.name, page.study.timezone, page.study.slack_channel_id) == (
        seeded.study_id, "Checkout redesign", "Europe/Berlin", CHANNEL
    )
    assert (page.tab, page.upcoming_count, page.past_count, page.total) == (ListTab.UPCOMING, 1, 0, 1)
    assert (page.has_previous, page.has_next, page.offset) == (False, False, 0)
    [item] = page.items
    assert item.id == interview_id
    assert (item.starts_at, item.duration_minutes, item.status, item.has_ended) == (berlin(6, 10), 45, InterviewStatus.UPCOMING, False)
    assert item.conferencing_url == "https://meet.example.com/ada"
    assert [(a.role, a.name, a.is_organizer, a.invite_status) for a in item.attendees] == [
        (AttendeeRole.HOST, ADA, True, InviteStatus.AWAITING),
        (AttendeeRole.PARTICIPANT, "Nora Quist", False, InviteStatus.AWAITING),
    ]
    assert [a.email for a in item.participants] == ["nora@example.com"]


def test_list_page_by_study_id_gives_the_same_page(services: Services, seeded: Seed) -> None:
    book_nora(services, seeded)
    by_channel = services.interviews.list_page(actor=ADA_IN_SLACK, tab=ListTab.UPCOMING, workspace_id=WORKSPACE, channel_id=CHANNEL)
    by_id = services.interviews.list_page(actor=CLI, tab=ListTab.UPCOMING, study_id=seeded.study_id)
    assert by_id == by_channel


def test_list_pages_through_both_tabs_with_counts_and_flags(db: Database, services: Services, seeded: Seed) -> None:
    upcoming = add_interviews(db, seeded.study_id, list(range(25, 12, -1)))  # 13, inserted latest first
    past = add_interviews(db, seeded.study_id, [-3, -2, -1])
    canceled = add_interviews(db, seeded.study_id, [40], status=InterviewStatus.CANCELED)

    def page(tab: ListTab, **kwargs: object) -> InterviewPage:
        return services.interviews.list_page(actor=CLI, tab=tab, study_id=seeded.study_id, **kwargs)  # type: ignore[arg-type]

    first = page(ListTab.UPCOMING)
    assert ids(first) == upcoming[::-1][:10]
    assert (first.upcoming_count, first.past_count) == (13, 4)
    assert (first.has_previous, first.has_next) == (False, True)

    second = page(ListTab.UPCOMING, key=first.last_key, direction="after", offset=10)
    assert ids(second) == upcoming[::-1][10:]
    assert (second.has_previous, second.has_next, second.offset) == (True, False, 10)

    back = page(ListTab.UPCOMING, key=second.first_key, direction="before", offset=0)
    assert ids(back) == ids(first)
    assert (back.has_previous, back.has_next) == (False, True)

    past_page = page(ListTab.PAST)
    assert ids(past_page) == canceled + past[::-1]
    assert (past_page.total, past_page.has_next) == (4, False)
    assert all(item.has_ended for item in past_page.items[1:]) and not past_page.items[0].has_ended


def test_list_page_for_a_study_with_more_than_a_page_of_history(db: Database, services: Services, seeded: Seed) -> None:
    add_interviews(db, seeded.study_id, list(range(-30, 0)))
    page = services.interviews.list_page(actor=CLI, tab=ListTab.PAST, study_id=seeded.study_id)
    assert (len(page.items), page.past_count, page.upcoming_count, page.has_next) == (10, 30, 0, True)
    assert [item.starts_at for item in page.items] == sorted((item.starts_at for item in page.items), reverse=True)


def test_a_channel_without_a_study_says_how_to_create_one(services: Services, seeded: Seed) -> None:
    with pytest.raises(NoStudyHere) as raised:
        services.interviews.list_page(actor=ADA_IN_SLACK, tab=ListTab.UPCOMING, workspace_id=WORKSPACE, channel_id="C0EMPTY")

    assert isinstance(raised.value, NotFound)
    assert "This channel has no study yet" in raised.value.message
    assert "--channel C0EMPTY" in raised.value.message


def test_the_same_channel_id_in_another_workspace_has_no_study(services: Services, seeded: Seed) -> None:
    with pytest.raises(NoStudyHere):
        services.interviews.list_page(
            actor=Actor.slack_user("T0OTHER", ADA), tab=ListTab.UPCOMING, workspace_id="T0OTHER", channel_id=CHANNEL
        )


def test_list_page_refuses_people_outside_the_team(services: Services, seeded: Seed) -> None:
    """A teammate-to-be in the study's workspace is told whom to ask."""
    book_nora(services, seeded)
    with pytest.raises(NotAllowed) as raised:
        services.interviews.list_page(actor=Actor.slack_user(WORKSPACE, OUTSIDER), tab=ListTab.UPCOMING,
                                      workspace_id=WORKSPACE, channel_id=CHANNEL)
    assert "Only the research team of *Checkout redesign*" in raised.value.message
    assert f"team add-member {seeded.team_id}" in raised.value.message


def test_list_page_refuses_a_participant_naming_nothing(services: Services, seeded: Seed) -> None:
    """Someone who is not a Slack user of the study's workspace learns nothing about it."""
    book_nora(services, seeded)
    with pytest.raises(NotAllowed) as raised:
        services.interviews.list_page(actor=Actor(ActorKind.PARTICIPANT, name="Nora Quist"), tab=ListTab.UPCOMING,
                                      workspace_id=WORKSPACE, channel_id=CHANNEL)
    assert raised.value.message == FOREIGN_REFUSAL


def test_list_page_refuses_a_member_calling_from_another_workspace(services: Services, seeded: Seed) -> None:
    with pytest.raises(NotAllowed):
        services.interviews.list_page(actor=Actor.slack_user("T0OTHER", ADA), tab=ListTab.PAST, study_id=seeded.study_id)


def test_list_page_needs_an_existing_study(services: Services, seeded: Seed) -> None:
    with pytest.raises(NotFound, match="no study with ID 99"):
        services.interviews.list_page(actor=CLI, tab=ListTab.UPCOMING, study_id=99)
    with pytest.raises(InvalidInput, match="Say which study"):
        services.interviews.list_page(actor=CLI, tab=ListTab.UPCOMING, workspace_id=WORKSPACE)


# ---------------------------------------------------------------- details


def test_details_show_attendees_room_and_study(services: Services, seeded: Seed, clock: MovableClock) -> None:
    interview_id = book_nora(services, seeded)

    details = services.interviews.details(interview_id, Actor.slack_user(WORKSPACE, BO))

    assert details.summary.id == interview_id
    assert details.study.id == seeded.study_id
    assert details.summary.conferencing_url == "https://meet.example.com/ada"
    assert details.conferencing_password == "s3cret"
    assert details.participant_limit == 1
    assert (details.rating, details.outcome_note, details.description) == (None, None, None)
    assert [a.slack_user_id or a.email for a in details.summary.attendees] == [ADA, "nora@example.com"]
    assert [a.name for a in details.summary.hosts] == [ADA]
    assert details.summary.has_ended is False

    clock.now = berlin(6, 10, 45).astimezone(UTC)
    assert services.interviews.details(interview_id, CLI).summary.has_ended is True


def test_details_timeline_is_newest_first_ten_at_a_time(db: Database, services: Services, seeded: Seed) -> None:
    interview_id = book_nora(services, seeded)  # its BOOKED event happens at T0
    with db.transaction() as session:
        for n in range(1, 15):
            add_event(session, interview_id, T0 + timedelta(minutes=n), n=n)

    newest = services.interviews.details(interview_id, ADA_IN_SLACK)
    oldest = services.interviews.details(interview_id, ADA_IN_SLACK, activity_offset=10)

    assert [e.details["n"] for e in newest.activity.items] == list(range(14, 4, -1))
    assert (newest.activity.total, newest.activity.offset, newest.activity.has_newer, newest.activity.has_older) == (15, 0, False, True)
    assert [e.details.get("n") for e in oldest.activity.items] == [4, 3, 2, 1, None]
    assert (oldest.activity.total, oldest.activity.has_newer, oldest.activity.has_older) == (15, True, False)
    booked = oldest.activity.items[-1]
    assert (booked.kind, booked.actor_kind, booked.actor_slack_user_id, booked.occurred_at) == (
        ActivityKind.BOOKED, ActorKind.MEMBER, ADA, T0
    )
    assert booked.details["participant"] == "Nora Quist"


def test_details_treat_a_negative_timeline_offset_as_the_start(services: Services, seeded: Seed) -> None:
    interview_id = book_nora(services, seeded)
    details = services.interviews.details(interview_id, CLI, activity_offset=-5)
    assert (details.activity.offset, len(details.activity.items), details.activity.total) == (0, 1, 1)


def test_details_of_a_missing_interview(services: Services, seeded: Seed) -> None:
    with pytest.raises(NotFound, match="no longer exists"):
        services.interviews.details(12345, CLI)


@pytest.mark.parametrize(
    ("actor", "names_the_study"),
    [(Actor.slack_user(WORKSPACE, OUTSIDER), True), (Actor.slack_user("T0OTHER", ADA), False)],
    ids=["outsider", "other-workspace"],
)
def test_details_refuse_people_outside_the_team(services: Services, seeded: Seed, actor: Actor, names_the_study: bool) -> None:
    interview_id = book_nora(services, seeded)
    with pytest.raises(NotAllowed) as raised:
        services.interviews.details(interview_id, actor)
    assert ("Checkout redesign" in raised.value.message) is names_the_study
