"""Studies: a research project bound to one Slack channel, with its scheduling settings."""

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.domain import Actor, StudyInfo
from bot.services import validation
from bot.services.access import require_team_member
from bot.services.errors import Conflict, InvalidInput, NotFound
from bot.services.lookup import find_one
from bot.services.teams import find_team
from storage.db import Database
from storage.models import Study, StudyHost
from storage.queries import study_by_channel

# Weekdays 09:00-17:00 in the study's zone until the team sets its own windows.
DEFAULT_AVAILABILITY = [{"weekday": day, "start": "09:00", "end": "17:00"} for day in range(5)]


class NoStudyHere(NotFound):
    """The channel has no study: the reply tells the user how to create one."""

    def __init__(self, channel_id: str) -> None:
        super().__init__(
            "This channel has no study yet. `/interviews setup` creates one here "
            f"(or, from the command line, `interview-desk study create --channel {channel_id} …`)."
        )


def study_in_channel(session: Session, workspace_id: str, channel_id: str, actor: Actor) -> Study:
    """The study bound to a channel, for someone on its research team (the Slack entry point)."""
    study = study_by_channel(session, workspace_id, channel_id)
    if study is None:
        raise NoStudyHere(channel_id)
    require_team_member(session, study, actor)
    return study


def study_info(study: Study) -> StudyInfo:
    return StudyInfo(
        id=study.id,
        name=study.name,
        team_id=study.team_id,
        slack_workspace_id=study.slack_workspace_id,
        slack_channel_id=study.slack_channel_id,
        timezone=study.timezone,
        duration_minutes=study.duration_minutes,
        session_name=study.session_name,
        host_slack_user_ids=tuple(h.member.slack_user_id for h in study.hosts),
    )


def find_study(session: Session, ref: str | int) -> Study:
    """A study by ID, by its name, or by its Slack channel ID."""
    matches = (Study.name == str(ref)) | (Study.slack_channel_id == str(ref))
    return find_one(session, Study, ref, what="study", matches=matches)


class StudyService:
    def __init__(self, db: Database) -> None:
        self.db = db

    def create(
        self,
        *,
        team_ref: str | int,
        name: str,
        channel_id: str,
        timezone: str,
        duration_minutes: int,
        host_ids: list[str],
        session_name: str | None = None,
        participant_limit: int = 1,
    ) -> StudyInfo:
        name = validation.name(name, what="Study name")
        channel_id = validation.slack_channel_id(channel_id)
        timezone = validation.timezone(timezone)
        duration_minutes = validation.duration_minutes(duration_minutes)
        session_name = validation.name(session_name or f"{name} interview", what="Session name")
        hosts = list(dict.fromkeys(validation.slack_user_id(h) for h in host_ids))
        if not hosts:
            raise InvalidInput("A study needs at least one host (--host U…).")
        if not 1 <= participant_limit <= 50:
            raise InvalidInput("The participant limit per slot is 1 to 50.")
        with self.db.transaction() as session:
            team = find_team(session, team_ref)
            existing = study_by_channel(session, team.slack_workspace_id, channel_id)
            if existing is not None:
                raise Conflict(f"Channel {channel_id} already has the study {existing.name!r}.")
            members = {m.slack_user_id: m for m in team.members}
            outsiders = [h for h in hosts if h not in members]
            if outsiders:
                raise InvalidInput(
                    f"Hosts must be members of the team {team.name!r}: "
                    f"{', '.join(outsiders)} {'is' if len(outsiders) == 1 else 'are'} not."
                )
            cannot_host = [h for h in hosts if not members[h].can_host]
            if cannot_host:
                raise InvalidInput(f"{', '.join(cannot_host)} can't host interviews.")
            study = Study(
                team=team,
                slack_workspace_id=team.slack_workspace_id,
                slack_channel_id=channel_id,
                name=name,
                session_name=session_name,
                timezone=timezone,
                duration_minutes=duration_minutes,
                participant_limit=participant_limit,
                availability=DEFAULT_AVAILABILITY,
                hosts=[StudyHost(member=members[h]) for h in hosts],
            )
            session.add(study)
            try:
                session.flush()
            except IntegrityError:  # another request bound the channel a moment ago
                raise Conflict(f"Channel {channel_id} already has a study.") from None
            return study_info(study)

    def set_host_conferencing(
        self, study_ref: str | int, host_id: str, url: str, password: str | None = None
    ) -> StudyInfo:
        """Set the meeting room a host uses for this study's interviews booked from now on."""
        host_id = validation.slack_user_id(host_id)
        url = validation.web_url(url, what="Meeting link")
        with self.db.transaction() as session:
            study = find_study(session, study_ref)
            host = next((h for h in study.hosts if h.member.slack_user_id == host_id), None)
            if host is None:
                raise NotFound(f"{host_id} is not a host of {study.name!r}.")
            host.conferencing_url = url
            host.conferencing_password = (password or "").strip() or None
            session.flush()
            return study_info(study)

    def list(self) -> list[StudyInfo]:
        with self.db.transaction() as session:
            return [study_info(s) for s in session.scalars(select(Study).order_by(Study.id))]

    def get(self, ref: str | int) -> StudyInfo:
        with self.db.transaction() as session:
            return study_info(find_study(session, ref))
