"""Participants of a study."""

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.domain import Actor, ParticipantInfo
from bot.services import validation
from bot.services.access import require_team_member
from bot.services.errors import Conflict, NotFound
from bot.services.links import LinkSigner, hash_token, new_nonce
from bot.services.studies import find_study
from storage.db import Database
from storage.models import Interview, Participant, Study


def participant_info(p: Participant) -> ParticipantInfo:
    return ParticipantInfo(id=p.id, study_id=p.study_id, name=p.name, email=p.email, status=p.status)


def find_participant(session: Session, study: Study, email: str) -> Participant:
    address = validation.email(email)
    participant = session.scalars(
        select(Participant).where(Participant.study_id == study.id, Participant.email == address)
    ).one_or_none()
    if participant is None:
        raise NotFound(f"{address} is not a participant of {study.name!r}.")
    return participant


class ParticipantService:
    def __init__(self, db: Database, links: LinkSigner) -> None:
        self.db = db
        self.links = links

    def add(self, study_ref: str | int, email: str, name: str | None = None) -> ParticipantInfo:
        address = validation.email(email)
        display = validation.name(name or address.split("@")[0], what="Participant name")
        try:
            with self.db.transaction() as session:
                study = find_study(session, study_ref)
                participant = Participant(study=study, email=address, name=display)
                session.add(participant)
                session.flush()
                self._new_link(participant)
                return participant_info(participant)
        except IntegrityError:
            raise Conflict(f"{address} is already a participant of this study.") from None

    def links_for_interview(self, interview_id: int, actor: Actor) -> list[tuple[str, str]]:
        """(name, personal scheduling link) of each participant of an interview, for its team."""
        with self.db.transaction() as session:
            interview = session.get(Interview, interview_id)
            if interview is None:
                raise NotFound("That interview no longer exists.")
            require_team_member(session, interview.study, actor)
            people = [a.participant for a in interview.attendees if a.participant is not None]
            return [(p.name, self._link(p)) for p in people]

    def new_link(self, study_ref: str | int, email: str) -> tuple[str, str]:
        """Revoke a participant's link (e.g. forwarded by mistake) and return their new one."""
        with self.db.transaction() as session:
            participant = find_participant(session, find_study(session, study_ref), email)
            self._new_link(participant)
            return participant.name, self._link(participant)

    def link_by_email(self, study_ref: str | int, email: str) -> tuple[str, str]:
        with self.db.transaction() as session:
            participant = find_participant(session, find_study(session, study_ref), email)
            return participant.name, self._link(participant)

    def _link(self, participant: Participant) -> str:
        if participant.token_nonce is None:
            self._new_link(participant)
        return self.links.scheduling_url(self.links.token(participant.id, participant.token_nonce or ""))

    def scheduling_link(self, participant_id: int) -> str:
        """The participant's personal scheduling link (the same one their emails carry)."""
        with self.db.transaction() as session:
            participant = session.get(Participant, participant_id)
            if participant is None:
                raise NotFound("That participant no longer exists.")
            return self._link(participant)

    def _new_link(self, participant: Participant) -> None:
        participant.token_nonce = new_nonce()
        participant.scheduling_token_hash = hash_token(self.links.token(participant.id, participant.token_nonce))

    def list(self, study_ref: str | int) -> list[ParticipantInfo]:
        with self.db.transaction() as session:
            study = find_study(session, study_ref)
            rows = session.scalars(
                select(Participant).where(Participant.study_id == study.id).order_by(Participant.id)
            )
            return [participant_info(p) for p in rows]
