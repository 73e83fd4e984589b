"""The screener of Immediate Scheduling on both databases: who is asked, checking and keeping the
answers, who may book afterwards, and the team reading the answers (service and CLI)."""

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from click.testing import CliRunner

from bot.cli.admin import participant as participant_commands
from bot.cli.runtime import Runtime
from bot.domain import Actor
from bot.services import Services
from bot.services.errors import Conflict, NotAllowed, NotFound
from bot.services.screener import (
    AnswersInvalid,
    NotQualified,
    Question,
    ScreenerAnswer,
    ScreenerRequired,
    ScreenerStep,
)
from bot.services.study_settings import SettingsForm, StudySettingsService
from storage.db import Database
from storage.enums import ParticipantStatus, StudyStatus
from storage.models import Participant, Study
from tests.conftest import ADA, CLI, OUTSIDER, WORKSPACE, Seed

SCREENER = "Do you shop online? | Weekly* | Monthly* | Never\nOwn a car? | yes | no*"
QUALIFYING = {"q1": "Weekly", "q2": "no"}
NOT_QUALIFYING = {"q1": "Never", "q2": "no"}
ZONE = "Europe/Berlin"


def update_study(db: Database, study_id: int, **changes: Any) -> None:
    StudySettingsService(db).update(study_id, SettingsForm(**changes), CLI)  # type: ignore[typeddict-item]


def set_study(db: Database, study_id: int, **values: Any) -> None:
    with db.transaction() as session:
        study = session.get(Study, study_id)
        assert study is not None
        for name, value in values.items():
            setattr(study, name, value)


def stored(db: Database, participant_id: int) -> tuple[ParticipantStatus, dict[str, Any] | None]:
    with db.transaction() as session:
        participant = session.get(Participant, participant_id)
        assert participant is not None
        return participant.status, participant.screener_answers


def token_of(services: Services, participant_id: int) -> str:
    return services.participants.scheduling_link(participant_id).rsplit("/", 1)[-1]


@pytest.fixture
def screened(services: Services, seeded: Seed, db: Database) -> Seed:
    """The seeded study with Immediate Scheduling on and two questions (q1, q2)."""
    update_study(db, seeded.study_id, immediate_scheduling=True, screener=SCREENER)
    return seeded


@pytest.fixture
def nora(services: Services, screened: Seed) -> tuple[int, str]:
    participant_id = services.participants.list(screened.study_id)[0].id
    return participant_id, token_of(services, participant_id)


def test_a_participant_is_asked_first_and_qualifying_answers_open_booking(
    services: Services, db: Database, nora: tuple[int, str]
) -> None:
    participant_id, token = nora
    state = services.screener.state(token)
    assert state.step is ScreenerStep.ANSWER
    assert state.questions == (
        Question("q1", "Do you shop online?", ("Weekly", "Monthly", "Never"), ("Weekly", "Monthly")),
        Question("q2", "Own a car?", ("yes", "no"), ("no",)),
    )
    slot = services.portal.slots(token)[0]
    with pytest.raises(ScreenerRequired):
        services.portal.book(token, slot.start, ZONE)

    assert services.screener.submit(token, {**QUALIFYING, "q1": " Weekly ", "other": "x"}) is ScreenerStep.OPEN

    assert stored(db, participant_id) == (
        ParticipantStatus.INVITED,
        {
            "q1": {"question": "Do you shop online?", "answer": "Weekly", "position": 0},
            "q2": {"question": "Own a car?", "answer": "no", "position": 1},
        },
    )
    assert services.screener.state(token).step is ScreenerStep.OPEN
    services.portal.book(token, slot.start, ZONE)
    assert stored(db, participant_id)[0] is ParticipantStatus.SCHEDULED


def test_answers_that_do_not_qualify_end_at_not_qualified_and_booking_is_refused(
    services: Services, db: Database, nora: tuple[int, str]
) -> None:
    participant_id, token = nora
    assert services.screener.submit(token, NOT_QUALIFYING) is ScreenerStep.NOT_QUALIFIED

    status, answers = stored(db, participant_id)
    assert status is ParticipantStatus.NOT_QUALIFIED
    assert answers is not None and answers["q1"]["answer"] == "Never"
    state = services.screener.state(token)
    assert (state.step, state.questions) == (ScreenerStep.NOT_QUALIFIED, ())
    with pytest.raises(NotQualified) as refused:
        services.portal.book(token, services.portal.slots(token)[0].start, ZONE)
    assert isinstance(refused.value, NotAllowed)
    assert "looking for a different profile" in refused.value.message


@pytest.mark.parametrize(
    ("form", "errors"),
    [
        ({}, {"q1": "Please choose an answer.", "q2": "Please choose an answer."}),
        ({"q1": "Weekly"}, {"q2": "Please choose an answer."}),
        ({"q1": "   ", "q2": "no"}, {"q1": "Please choose an answer."}),
        ({"q1": "Daily", "q2": "no"}, {"q1": "Please choose one of the answers shown."}),
        ({"q1": "weekly", "q2": "NO"}, {"q1": "Please choose one of the answers shown.", "q2": "Please choose one of the answers shown."}),
    ],
    ids=["nothing", "one-missing", "blank", "not-a-choice", "wrong-case"],
)
def test_bad_answers_are_named_by_question_and_nothing_is_saved(
    services: Services, db: Database, nora: tuple[int, str], form: dict[str, str], errors: dict[str, str]
) -> None:
    participant_id, token = nora
    with pytest.raises(AnswersInvalid) as invalid:
        services.screener.submit(token, form)
    assert invalid.value.errors == errors
    assert [q.id for q in invalid.value.questions] == ["q1", "q2"]
    assert stored(db, participant_id) == (ParticipantStatus.INVITED, None)
    assert services.screener.state(token).step is ScreenerStep.ANSWER


def test_a_question_stored_without_choices_takes_trimmed_text_of_at_most_1000_characters(
    services: Services, db: Database, screened: Seed, nora: tuple[int, str]
) -> None:
    participant_id, token = nora
    with db.transaction() as session:
        study = session.get(Study, screened.study_id)
        assert study is not None
        study.screener = [*study.screener, {"id": "q3", "question": "What do you buy?", "choices": [], "qualifying": []}]

    with pytest.raises(AnswersInvalid) as invalid:
        services.screener.submit(token, {**QUALIFYING, "q3": "x" * 1001})
    assert invalid.value.errors == {"q3": "Please keep your answer to at most 1,000 characters."}
    with pytest.raises(AnswersInvalid) as blank:
        services.screener.submit(token, {**QUALIFYING, "q3": " \n "})
    assert blank.value.errors == {"q3": "Please answer this question."}
    assert stored(db, participant_id)[1] is None

    text = "  Shoes, " + "b" * 991 + "  "
    assert services.screener.submit(token, {**QUALIFYING, "q3": text}) is ScreenerStep.OPEN
    answers = stored(db, participant_id)[1]
    assert answers is not None and answers["q3"]["answer"] == text.strip()


def test_a_second_submission_changes_nothing_and_gets_the_same_step(
    services: Services, db: Database, screened: Seed, nora: tuple[int, str]
) -> None:
    participant_id, token = nora
    assert services.screener.submit(token, QUALIFYING) is ScreenerStep.OPEN
    first = stored(db, participant_id)
    assert services.screener.submit(token, QUALIFYING) is ScreenerStep.OPEN
    assert services.screener.submit(token, NOT_QUALIFYING) is ScreenerStep.OPEN  # answers are taken once
    assert services.screener.submit(token, {}) is ScreenerStep.OPEN
    assert stored(db, participant_id) == first

    otto = services.participants.list(screened.study_id)[1].id
    otto_token = token_of(services, otto)
    assert services.screener.submit(otto_token, NOT_QUALIFYING) is ScreenerStep.NOT_QUALIFIED
    assert services.screener.submit(otto_token, QUALIFYING) is ScreenerStep.NOT_QUALIFIED
    status, answers = stored(db, otto)
    assert status is ParticipantStatus.NOT_QUALIFIED and answers is not None and answers["q1"]["answer"] == "Never"


def test_racing_submissions_keep_exactly_one_set_of_answers(
    services: Services, db: Database, nora: tuple[int, str]
) -> None:
    participant_id, token = nora
    forms = [QUALIFYING if i % 2 else NOT_QUALIFYING for i in range(8)]
    with ThreadPoolExecutor(len(forms)) as pool:
        steps = list(pool.map(lambda form: services.screener.submit(token, form), forms))

    assert len(set(steps)) == 1
    status, answers = stored(db, participant_id)
    assert answers is not None
    kept = {qid: a["answer"] for qid, a in answers.items()}
    assert (kept == QUALIFYING) == (steps[0] is ScreenerStep.OPEN)
    assert (status is ParticipantStatus.NOT_QUALIFIED) == (steps[0] is ScreenerStep.NOT_QUALIFIED)


def test_answers_keep_the_questions_as_asked_after_the_screener_is_edited(
    services: Services, db: Database, screened: Seed, nora: tuple[int, str]
) -> None:
    participant_id, token = nora
    services.screener.submit(token, QUALIFYING)

    update_study(db, screened.study_id, screener="Which car do you drive? | none* | electric | petrol\nDo you shop online? | Weekly* | Never")

    found = services.screener.responses("nora@example.com", screened.study_id, CLI)
    assert found.answers == (
        ScreenerAnswer("q1", "Do you shop online?", "Weekly"),
        ScreenerAnswer("q2", "Own a car?", "no"),
    )
    assert (found.participant_id, found.name, found.qualified) == (participant_id, "Nora Quist", True)
    assert services.screener.state(token).step is ScreenerStep.OPEN  # not asked again


def test_answers_are_for_the_research_team_only(
    services: Services, screened: Seed, nora: tuple[int, str]
) -> None:
    participant_id, token = nora
    services.screener.submit(token, NOT_QUALIFYING)
    ada = Actor.slack_user(WORKSPACE, ADA)

    by_email = services.screener.responses("Nora@Example.com", "Checkout redesign", ada)
    by_id = services.screener.responses(str(participant_id), screened.study_id, ada)
    assert by_email == by_id
    assert (by_email.status, by_email.qualified) == (ParticipantStatus.NOT_QUALIFIED, False)
    assert [(a.question, a.answer) for a in by_email.answers] == [("Do you shop online?", "Never"), ("Own a car?", "no")]

    for outsider in (Actor.slack_user(WORKSPACE, OUTSIDER), Actor.slack_user("T0OTHER", ADA)):
        with pytest.raises(NotAllowed):
            services.screener.responses("nora@example.com", screened.study_id, outsider)
    with pytest.raises(NotAllowed):  # an outsider learns nothing, not even who takes part
        services.screener.responses("nobody@example.com", screened.study_id, Actor.slack_user(WORKSPACE, OUTSIDER))
    with pytest.raises(NotFound):
        services.screener.responses("nobody@example.com", screened.study_id, ada)

    other = services.studies.create(
        team_ref=screened.team_id, name="Other", channel_id="C0OTHER", timezone=ZONE, duration_minutes=30, host_ids=[ADA]
    )
    stranger = services.participants.add(other.id, "sam@example.com", "Sam")
    with pytest.raises(NotFound):
        services.screener.responses(stranger.id, screened.study_id, ada)

    otto = services.screener.responses("otto@example.com", screened.study_id, ada)
    assert (otto.qualified, otto.answers) == (None, ())


def test_without_immediate_scheduling_nobody_is_asked(
    services: Services, db: Database, seeded: Seed
) -> None:
    update_study(db, seeded.study_id, immediate_scheduling=False, screener=SCREENER)
    participant_id = services.participants.list(seeded.study_id)[0].id
    token = token_of(services, participant_id)

    assert services.screener.state(token).step is ScreenerStep.OPEN
    assert services.screener.submit(token, NOT_QUALIFYING) is ScreenerStep.OPEN
    assert stored(db, participant_id) == (ParticipantStatus.INVITED, None)
    services.portal.book(token, services.portal.slots(token)[0].start, ZONE)
    assert stored(db, participant_id)[0] is ParticipantStatus.SCHEDULED


def test_a_closed_study_or_an_existing_booking_takes_no_answers(
    services: Services, db: Database, seeded: Seed
) -> None:
    nora_id, otto_id = (p.id for p in services.participants.list(seeded.study_id))
    nora, otto = token_of(services, nora_id), token_of(services, otto_id)
    services.portal.book(nora, services.portal.slots(nora)[0].start, ZONE)  # before the screener
    update_study(db, seeded.study_id, immediate_scheduling=True, screener=SCREENER)

    with pytest.raises(Conflict):
        services.screener.submit(nora, NOT_QUALIFYING)
    assert stored(db, nora_id)[0] is ParticipantStatus.SCHEDULED

    set_study(db, seeded.study_id, status=StudyStatus.CLOSED)
    with pytest.raises(NotAllowed, match="closed"):
        services.screener.submit(otto, QUALIFYING)
    assert stored(db, otto_id) == (ParticipantStatus.INVITED, None)


def test_cli_prints_the_answers_as_text_and_json(
    services: Services, screened: Seed, nora: tuple[int, str]
) -> None:
    runtime = Runtime()
    runtime.__dict__["services"] = services  # the test's services instead of building from settings
    run = CliRunner()
    args = ["answers", "--study", str(screened.study_id), "--email", "nora@example.com"]

    before = run.invoke(participant_commands, args, obj=runtime)
    assert before.exit_code == 0, before.output
    assert before.output == "Nora Quist <nora@example.com> · not answered yet\n"

    services.screener.submit(nora[1], QUALIFYING)
    text = run.invoke(participant_commands, args, obj=runtime)
    assert text.output.splitlines() == [
        "Nora Quist <nora@example.com> · qualified",
        "Do you shop online?\tWeekly",
        "Own a car?\tno",
    ]
    data = json.loads(run.invoke(participant_commands, [*args, "--json"], obj=runtime).output)
    assert (data["email"], data["status"], data["qualified"]) == ("nora@example.com", "invited", True)
    assert data["answers"] == [
        {"question_id": "q1", "question": "Do you shop online?", "answer": "Weekly"},
        {"question_id": "q2", "question": "Own a car?", "answer": "no"},
    ]

    missing = run.invoke(participant_commands, ["answers", "--study", str(screened.study_id), "--email", "x@example.com"], obj=runtime)
    assert isinstance(missing.exception, NotFound)
