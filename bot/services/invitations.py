"""Inviting participants: add them from pasted lines or a CSV file, and email their links.

Bad lines are named and the good ones still added; people already in the study are not added
twice. The scheduler email goes through the outbox, keyed by the participant's link, so it is
sent once per link however often the same people are invited.
"""

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from email.utils import parseaddr

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.domain import Actor
from bot.integrations.email import Mailbox
from bot.integrations.templates import RenderedEmail, render_email
from bot.services import validation
from bot.services.access import require_team_member
from bot.services.errors import InvalidInput
from bot.services.links import hash_token, new_nonce
from bot.services.notifications import Mailer
from bot.services.studies import find_study, study_in_channel
from storage import outbox
from storage.db import Database
from storage.enums import OutboxKind, ParticipantStatus
from storage.models import Participant, Study

MAX_INVITES = 500  # one paste or file; larger lists go in several


@dataclass(frozen=True)
class Invitee:
    line: int
    name: str | None
    email: str


@dataclass(frozen=True)
class BadLine:
    line: int
    text: str
    reason: str


@dataclass(frozen=True)
class InviteResult:
    study_name: str
    added: tuple[str, ...]  # emails
    already_in_study: tuple[str, ...]
    emailed: int
    bad_lines: tuple[BadLine, ...]


def parse_lines(text: str) -> tuple[list[Invitee], list[BadLine]]:
    """One person per line: ``Name <email>``, ``email``, or ``Name, email`` (CSV-style)."""
    people, bad = [], []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, address = parseaddr(line) if "<" in line else ("", line)
        if "," in line and "<" not in line:
            first, _, rest = line.partition(",")
            name, address = (first, rest) if "@" in rest else (rest, first)
        try:
            people.append(Invitee(number, name.strip() or None, validation.email(address)))
        except InvalidInput as problem:
            bad.append(BadLine(number, line[:200], problem.message))
    return people, bad


def parse_csv(content: str) -> tuple[list[Invitee], list[BadLine]]:
    """A CSV file with an ``email`` column and optionally a ``name`` column (any order, any case)."""
    reader = csv.DictReader(io.StringIO(content))
    columns = {c.strip().lower(): c for c in (reader.fieldnames or [])}
    if "email" not in columns:
        raise InvalidInput("The CSV file needs a header row with an 'email' column (and optionally 'name').")
    people, bad = [], []
    for number, row in enumerate(reader, start=2):  # line 1 is the header
        address = (row.get(columns["email"]) or "").strip()
        name = (row.get(columns["name"]) or "").strip() if "name" in columns else ""
        try:
            people.append(Invitee(number, name or None, validation.email(address)))
        except InvalidInput as problem:
            bad.append(BadLine(number, address[:200] or "(empty)", problem.message))
    return people, bad


class InvitationService:
    def __init__(self, db: Database, clock: Clock, mailer: Mailer) -> None:
        self.db = db
        self.clock = clock
        self.mailer = mailer

    def invite(
        self, *, actor: Actor, people: list[Invitee], bad_lines: list[BadLine], send_email: bool,
        study_ref: str | int | None = None, workspace_id: str | None = None, channel_id: str | None = None,
    ) -> InviteResult:
        if len(people) > MAX_INVITES:
            raise InvalidInput(f"Please invite at most {MAX_INVITES} people at a time ({len(people)} given).")
        now = self.clock()
        with self.db.transaction() as session:
            if study_ref is not None:
                study = find_study(session, study_ref)
                require_team_member(session, study, actor)
            else:
                study = study_in_channel(session, workspace_id or "", channel_id or "", actor)
            existing = {
                p.email: p for p in session.scalars(select(Participant).where(Participant.study_id == study.id))
            }
            added, already, emailed, bad = [], [], 0, list(bad_lines)
            for person in people:
                participant = existing.get(person.email)
                if participant is None:
                    try:
                        name = validation.name(person.name or person.email.split("@")[0], what="Name")
                    except InvalidInput as problem:
                        bad.append(BadLine(person.line, person.email, problem.message))
                        continue
                    participant = Participant(study=study, email=person.email, name=name)
                    session.add(participant)
                    session.flush()
                    participant.token_nonce = new_nonce()
                    participant.scheduling_token_hash = hash_token(self.mailer.links.token(participant.id, participant.token_nonce))
                    existing[person.email] = participant
                    added.append(person.email)
                elif person.email not in already:
                    already.append(person.email)
                if send_email and participant.status is ParticipantStatus.INVITED:
                    emailed += self._email_link(session, study, participant, now)
            return InviteResult(study.name, tuple(added), tuple(already), emailed, tuple(bad))

    def preview(self, *, workspace_id: str, channel_id: str, actor: Actor) -> tuple[str, RenderedEmail]:
        """The study's name, and its scheduler email as a participant named Alex would get it."""
        with self.db.transaction() as session:
            study = study_in_channel(session, workspace_id, channel_id, actor)
            return study.name, self._render(study, "Alex", f"{self.mailer.links.base_url}/s/…")

    def _email_link(self, session: Session, study: Study, participant: Participant, now: datetime) -> int:
        """Queue the scheduler email; 0 if this link was already emailed."""
        token = self.mailer.links.token(participant.id, participant.token_nonce or "")
        key = f"email:scheduler:p{participant.id}:{participant.token_nonce}"
        rendered = self._render(study, participant.name, self.mailer.links.scheduling_url(token))
        payload = self.mailer.email_payload(study, Mailbox(participant.name, participant.email), rendered, key)
        queued = outbox.enqueue(session, key=key, kind=OutboxKind.EMAIL, payload=payload, now=now)
        if queued:
            participant.invited_at = now
        return int(queued)

    def _render(self, study: Study, name: str, url: str) -> RenderedEmail:
        return render_email(
            "scheduler", study_name=study.name, participant_name=name, team_name=f"The {study.name} team",
            scheduling_url=url, duration_minutes=study.duration_minutes,
        )
