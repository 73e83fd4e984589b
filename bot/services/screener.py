"""The screener of Immediate Scheduling: who must answer it, checking answers, keeping them.

A study screens when Immediate Scheduling is on and it has questions, stored as
``study_settings`` writes them: ``{"id", "question", "choices", "qualifying"}``. A participant
who has not answered is asked before any time is offered. Their answers are kept on the
participant as ``{question id: {"question", "answer", "position"}}``, with each question's text
as it was asked, so the team can still read them after the screener is edited. Qualified
participants (every question that has qualifying answers answered with one of them) go on to
choose a time; the others become ``NOT_QUALIFIED`` and ``require_qualified`` refuses their
booking.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy.orm import Session

from bot.domain import Actor, ScreenerAnswer, ScreenerResponses
from bot.services import portal
from bot.services.access import require_team_member
from bot.services.errors import Conflict, InvalidInput, NotAllowed, NotFound
from bot.services.participants import find_participant
from bot.services.studies import find_study
from storage.db import Database
from storage.enums import ParticipantStatus, StudyStatus
from storage.models import Participant, Study

MAX_ANSWER = 1000  # characters of a free-text answer


class ScreenerStep(StrEnum):
    """Where a participant stands with their study's screener."""

    ANSWER = "answer"  # the study screens and they have not answered yet
    OPEN = "open"  # they may choose a time: they qualified, or the study does not screen
    NOT_QUALIFIED = "not_qualified"


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    choices: tuple[str, ...]  # empty: the answer is free text
    qualifying: tuple[str, ...]  # empty: any answer qualifies


@dataclass(frozen=True)
class ScreenerState:
    step: ScreenerStep
    questions: tuple[Question, ...]  # what to ask; empty unless ``step`` is ANSWER






class AnswersInvalid(InvalidInput):
    """Problems keyed by question id, with the questions to ask again."""

    def __init__(self, errors: dict[str, str], questions: tuple[Question, ...]) -> None:
        super().__init__(" ".join(errors.values()))
        self.errors = errors
        self.questions = questions


class NotQualified(NotAllowed):
    def __init__(self) -> None:
        super().__init__(
            "Thank you for your answers — this study is looking for a different profile right "
            "now, so we can't book an interview with you."
        )


class ScreenerRequired(NotAllowed):
    def __init__(self) -> None:
        super().__init__("Please answer a few short questions before choosing a time.")


def questions_of(study: Study) -> tuple[Question, ...]:
    return tuple(
        Question(
            str(q["id"]),
            str(q["question"]),
            tuple(q.get("choices") or ()),
            tuple(q.get("qualifying") or ()),
        )
        for q in study.screener or []
    )


def step_of(participant: Participant) -> ScreenerStep:
    study = participant.study
    if not (study.immediate_scheduling and study.screener):
        return ScreenerStep.OPEN
    if participant.status is ParticipantStatus.NOT_QUALIFIED:
        return ScreenerStep.NOT_QUALIFIED
    return ScreenerStep.ANSWER if participant.screener_answers is None else ScreenerStep.OPEN


def require_qualified(participant: Participant) -> None:
    """Refuse a booking by someone the study's screener has not let through."""
    step = step_of(participant)
    if step is ScreenerStep.NOT_QUALIFIED:
        raise NotQualified()
    if step is ScreenerStep.ANSWER:
        raise ScreenerRequired()


def checked_answers(questions: tuple[Question, ...], form: Mapping[str, str]) -> dict[str, str]:
    """One valid answer per question, or ``AnswersInvalid`` naming every problem."""
    answers: dict[str, str] = {}
    errors: dict[str, str] = {}
    for q in questions:
        typed = (form.get(q.id) or "").strip()
        if not typed:
            errors[q.id] = (
                "Please choose an answer." if q.choices else "Please answer this question."
            )
        elif q.choices and typed not in q.choices:
            errors[q.id] = "Please choose one of the answers shown."
        elif len(typed) > MAX_ANSWER:
            errors[q.id] = f"Please keep your answer to at most {MAX_ANSWER:,} characters."
        else:
            answers[q.id] = typed
    if errors:
        raise AnswersInvalid(errors, questions)
    return answers


def qualifies(questions: tuple[Question, ...], answers: Mapping[str, str]) -> bool:
    return all(answers.get(q.id) in q.qualifying for q in questions if q.qualifying)


class ScreenerService:
    def __init__(self, db: Database) -> None:
        self.db = db

    def state(self, token: str) -> ScreenerState:
        """What the link's participant has to do about the screener before choosing a time."""
        with self.db.transaction() as session:
            participant = portal._participant(session, token)
            step = step_of(participant)
            questions = questions_of(participant.study) if step is ScreenerStep.ANSWER else ()
            return ScreenerState(step, questions)

    def submit(self, token: str, form: Mapping[str, str]) -> ScreenerStep:
        """Check and keep the answers (one field per question id); the step they lead to.

        Answers are taken once: a second submission changes nothing and gets the same step.
        """
        with self.db.transaction(write_lock=True) as session:
            participant = portal._participant(session, token)
            session.refresh(participant, with_for_update=True)  # a racing submit waits here
            step = step_of(participant)
            if step is not ScreenerStep.ANSWER:
                return step
            study = participant.study
            if study.status is not StudyStatus.ACTIVE:
                raise NotAllowed(
                    "This study is closed and is not booking interviews any more. Thank you for your interest."
                )
            if participant.status is ParticipantStatus.SCHEDULED:
                raise Conflict(
                    "You already have an interview booked. You can see it from your link."
                )
            questions = questions_of(study)
            answers = checked_answers(questions, form)
            participant.screener_answers = {
                q.id: {"question": q.text, "answer": answers[q.id], "position": n}
                for n, q in enumerate(questions)
            }
            if qualifies(questions, answers):
                return ScreenerStep.OPEN
            participant.status = ParticipantStatus.NOT_QUALIFIED
            return ScreenerStep.NOT_QUALIFIED

    def responses(
        self, participant_ref: str | int, study_ref: str | int, actor: Actor
    ) -> ScreenerResponses:
        """A participant's answers (by email or id), for the study's research team."""
        with self.db.transaction() as session:
            study = find_study(session, study_ref)
            require_team_member(session, study, actor)
            participant = _participant_of(session, study, participant_ref)
            stored: dict[str, Any] = participant.screener_answers or {}
            ordered = sorted(stored.items(), key=lambda item: (item[1].get("position", 0), item[0]))
            return ScreenerResponses(
                participant_id=participant.id,
                name=participant.name,
                email=participant.email,
                status=participant.status,
                qualified=_qualified(participant),
                answers=tuple(
                    ScreenerAnswer(qid, str(a["question"]), str(a["answer"])) for qid, a in ordered
                ),
            )


def _qualified(participant: Participant) -> bool | None:
    if participant.status is ParticipantStatus.NOT_QUALIFIED:
        return False
    return None if participant.screener_answers is None else True


def _participant_of(session: Session, study: Study, ref: str | int) -> Participant:
    if isinstance(ref, int) or ref.strip().isdigit():
        participant = session.get(Participant, int(ref))
        if participant is None or participant.study_id != study.id:
            raise NotFound(f"There is no participant with ID {ref} in {study.name!r}.")
        return participant
    return find_participant(session, study, ref)
