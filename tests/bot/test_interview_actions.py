"""What every action shares: who may act, and noticing an action taken on an old view."""

from datetime import timedelta

import pytest

from blocks.stale import stale_message
from bot.domain import Actor
from bot.services import Services
from bot.services.errors import NotAllowed, NotFound
from bot.services.interview_actions import Seen, StaleView, load_for_action, result
from storage.enums import InterviewStatus
from tests.conftest import ADA, BO, CLI, OUTSIDER, WORKSPACE, Seed, berlin

ADA_ACTS = Actor.slack_user(WORKSPACE, ADA)


def _book(services: Services, seed: Seed) -> tuple[int, Seen]:
    booked = services.booking.book(study_ref=seed.study_id, participant_email="nora@example.com", starts_at=berlin(8, 10), host_id=ADA, actor=CLI)
    return booked.interview_id, Seen(booked.starts_at, InterviewStatus.UPCOMING)


def _load(services: Services, interview_id: int, seen: Seen | None, actor: Actor = ADA_ACTS) -> None:
    with services.db.transaction() as session:
        load_for_action(session, interview_id, actor, services.clock(), seen)


def _nora_token(services: Services, seed: Seed) -> str:
    nora = next(p for p in services.participants.list(seed.study_id) if p.email == "nora@example.com")
    return services.participants.scheduling_link(nora.id).rsplit("/", 1)[-1]


def test_a_current_view_may_act(services: Services, seeded: Seed) -> None:
    interview_id, seen = _book(services, seeded)
    _load(services, interview_id, seen)


def test_only_the_research_team_may_act(services: Services, seeded: Seed) -> None:
    interview_id, seen = _book(services, seeded)
    with pytest.raises(NotAllowed):
        _load(services, interview_id, seen, Actor.slack_user(WORKSPACE, OUTSIDER))
    with pytest.raises(NotAllowed):  # the same user id in another workspace is someone else
        _load(services, interview_id, seen, Actor.slack_user("T0OTHER", ADA))
    with pytest.raises(NotFound):
        _load(services, 999, seen)


def test_a_cancellation_since_the_view_is_explained_with_who_did_it(services: Services, seeded: Seed) -> None:
    interview_id, seen = _book(services, seeded)
    services.portal.cancel(_nora_token(services, seeded), "Sick")
    with pytest.raises(StaleView) as caught:
        _load(services, interview_id, seen)
    error = caught.value
    assert error.current.status is InterviewStatus.CANCELED
    assert error.changed_by is not None and error.changed_by.name == "Nora Quist"
    message = stale_message(error.current, seen_start_changed=False, seen_status_changed=True,
                            changed_by=(error.changed_by.slack_user_id, error.changed_by.name, error.changed_by.kind))
    assert message.startswith("This interview was canceled by Nora Quist since this was shown, so nothing was changed.")


def test_a_move_since_the_view_names_the_new_time(services: Services, seeded: Seed) -> None:
    interview_id, seen = _book(services, seeded)
    token = _nora_token(services, seeded)
    new_start = services.portal.slots(token)[3].start
    services.portal.reschedule(token, new_start, "Europe/Berlin", None)
    with pytest.raises(StaleView) as caught:
        _load(services, interview_id, seen)
    message = stale_message(caught.value.current, seen_start_changed=True, seen_status_changed=False,
                            changed_by=(None, "Nora Quist", caught.value.changed_by.kind if caught.value.changed_by else None))
    assert f"<!date^{int(new_start.timestamp())}^" in message and "was moved by Nora Quist" in message


def test_changes_that_do_not_touch_time_or_status_are_not_stale(services: Services, seeded: Seed) -> None:
    interview_id, seen = _book(services, seeded)
    with services.db.transaction() as session:
        interview = load_for_action(session, interview_id, ADA_ACTS, services.clock(), seen)
        interview.description = "New agenda"
    _load(services, interview_id, seen)


def test_result_reports_the_side_effects_of_its_transaction(services: Services, seeded: Seed) -> None:
    interview_id, seen = _book(services, seeded)
    with services.db.transaction() as session:
        interview = load_for_action(session, interview_id, Actor.slack_user(WORKSPACE, BO), services.clock() + timedelta(minutes=1), seen)
        assert services.booking.notifier is not None
        services.booking.notifier.card(session, interview, services.clock(), "test")
        done = result(session, interview, services.clock())
    assert done.changed and len(done.outbox_ids) == 1 and done.interview.id == interview_id
