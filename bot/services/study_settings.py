"""A study's settings: one validated shape for the Slack setup modal and `study update`.

Every rule about a study's settings is applied here, so Slack and the CLI refuse the same input
with the same words. ``StudySettings.from_form`` collects every problem at once, keyed by form
field, so the modal can show each beside its input and the CLI can print them on one line; the
service then checks what needs the database (teams, hosts, the channel's study) and saves.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from typing import Any, TypedDict, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from bot.domain import Actor, StudyInfo, TeamInfo
from bot.services import study_settings_text as fmt
from bot.services import validation
from bot.services.access import require_team_member
from bot.services.availability import Window, windows
from bot.services.errors import Conflict, InvalidInput
from bot.services.studies import find_study, study_info
from bot.services.study_settings_text import HostForm, HostRoom, Incentive, ScreenerQuestion
from bot.services.teams import team_info
from storage.db import Database
from storage.enums import ActorKind, CalendarConflicts, Conferencing, TeamRole
from storage.models import ResearchTeam, Study, StudyHost, TeamMember
from storage.queries import study_by_channel

MAX_TEAMS = 100  # a static select holds 100 options
T = TypeVar("T")


class SettingsInvalid(InvalidInput):
    """Problems keyed by form field; a host's room uses ``host_url:U…`` / ``host_password:U…``."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(" ".join(errors.values()))
        self.errors = errors


class SettingsForm(TypedDict, total=False):
    """The input form: values as a person typed them; numbers may still be text."""

    name: str
    team_id: int | None
    new_team_name: str
    hosts: list[HostForm]
    session_name: str  # empty: "<study name> interview"
    duration_minutes: int | str
    timezone: str
    availability: str | list[dict[str, Any]]  # text, or [{"weekday": 0, "start", "end"}]
    buffer_minutes: int | str
    min_notice_hours: int | str
    horizon_days: int | str
    participant_limit: int | str
    participants_can_reschedule: bool
    change_cutoff_hours: int | str
    incentive: str  # "50 EUR"; empty for none
    observer_url: str
    notetaker_url: str
    immediate_scheduling: bool
    screener: str  # one question per line: Question? | answer A* | answer B
    reminders: str  # "24h, 1h"; "none" for no reminders (missing: the default schedule)
    completion_grace_minutes: int | str
    unconfirmed_warning_hours: int | str | None  # empty: no warning
    conferencing: str  # "link" (each host's room) or "google_meet"
    calendar_conflicts: str  # "busy" (default), "all" or "ignore": what in hosts' calendars blocks a time


DEFAULT_REMINDERS = (24 * 60, 60)
DEFAULT_COMPLETION_GRACE = 30
MAX_COMPLETION_GRACE = 7 * 24 * 60
MAX_WARNING_HOURS = 14 * 24


@dataclass(frozen=True)
class StudySettings:
    """Everything the setup modal edits, validated; build it with ``from_form``."""

    name: str
    team_id: int | None  # an existing team, or None with ``new_team_name``
    new_team_name: str | None
    hosts: tuple[HostRoom, ...]
    session_name: str
    duration_minutes: int
    timezone: str
    availability: tuple[Window, ...]
    buffer_minutes: int
    min_notice_minutes: int
    horizon_days: int
    participant_limit: int
    participants_can_reschedule: bool
    change_cutoff_hours: int
    incentive: Incentive | None
    observer_url: str | None
    notetaker_url: str | None
    immediate_scheduling: bool
    screener: tuple[ScreenerQuestion, ...]
    reminder_offsets_minutes: tuple[int, ...] = DEFAULT_REMINDERS  # earliest first
    completion_grace_minutes: int = DEFAULT_COMPLETION_GRACE
    unconfirmed_warning_hours: int | None = None
    conferencing: Conferencing = Conferencing.LINK
    calendar_conflicts: CalendarConflicts = CalendarConflicts.BUSY

    @classmethod
    def from_form(cls, form: SettingsForm) -> "StudySettings":
        """Validate a whole form, raising ``SettingsInvalid`` with every problem found."""
        errors: dict[str, str] = {}

        def check(key: str, parse: Callable[[], T]) -> T:
            try:
                return parse()
            except InvalidInput as exc:
                errors.setdefault(key, exc.message)
                return None  # type: ignore[return-value]  # never used: errors are raised below

        get = form.get
        name = check("name", lambda: validation.name(fmt.text(get("name")), what="The study name"))
        new_team = fmt.text(get("new_team_name"))
        if new_team:
            new_team = check("new_team_name", lambda: validation.name(new_team, what="The team name"))
        elif get("team_id") is None:
            errors["team_id"] = "Choose a research team, or name a new one."
        session = fmt.text(get("session_name")) or f"{name or 'Study'} interview"
        immediate = bool(get("immediate_scheduling"))
        screener = check("screener", lambda: fmt.parse_screener(get("screener")))
        if immediate and screener == ():
            errors["screener"] = "Immediate Scheduling books whoever passes the screener: add at least one question."
        settings = cls(
            name=name,
            team_id=None if new_team else get("team_id"),
            new_team_name=new_team or None,
            hosts=fmt.parse_hosts(get("hosts") or [], errors),
            session_name=check("session_name", lambda: validation.name(session, what="The session name")),
            duration_minutes=check("duration_minutes", lambda: fmt.whole(get("duration_minutes"), "The session length", 5, 480, " minutes")),
            timezone=check("timezone", lambda: fmt.parse_timezone(get("timezone"))),
            availability=check("availability", lambda: fmt.parse_availability(get("availability") or "")),
            buffer_minutes=check("buffer_minutes", lambda: fmt.whole(get("buffer_minutes"), "The buffer between interviews", 0, 240, " minutes")),
            min_notice_minutes=check("min_notice_hours", lambda: fmt.notice_minutes(get("min_notice_hours"))),
            horizon_days=check("horizon_days", lambda: fmt.whole(get("horizon_days"), "The booking horizon", 1, 365, " days")),
            participant_limit=check("participant_limit", lambda: fmt.whole(get("participant_limit"), "The participant limit per slot", 1, 50)),
            participants_can_reschedule=bool(get("participants_can_reschedule")),
            change_cutoff_hours=check("change_cutoff_hours", lambda: fmt.whole(get("change_cutoff_hours"), "The reschedule/cancel cut-off", 0, 720, " hours")),
            incentive=check("incentive", lambda: fmt.parse_incentive(get("incentive"))),
            observer_url=check("observer_url", lambda: fmt.optional_url(get("observer_url"), "The observer link")),
            notetaker_url=check("notetaker_url", lambda: fmt.optional_url(get("notetaker_url"), "The notetaker webhook")),
            immediate_scheduling=immediate,
            screener=screener,
            reminder_offsets_minutes=check("reminders", lambda: fmt.parse_reminders(get("reminders")))
            if "reminders" in form else DEFAULT_REMINDERS,
            completion_grace_minutes=check("completion_grace_minutes", lambda: fmt.whole(
                get("completion_grace_minutes", DEFAULT_COMPLETION_GRACE), "The time before an interview is marked completed",
                0, MAX_COMPLETION_GRACE, " minutes")),
            unconfirmed_warning_hours=check("unconfirmed_warning_hours", lambda: fmt.optional_hours(
                get("unconfirmed_warning_hours"), "The unconfirmed-attendance warning", 1, MAX_WARNING_HOURS)),
            conferencing=check("conferencing", lambda: fmt.choice(
                Conferencing, get("conferencing", Conferencing.LINK), "The conferencing")),
            calendar_conflicts=check("calendar_conflicts", lambda: fmt.choice(
                CalendarConflicts, get("calendar_conflicts", CalendarConflicts.BUSY), "The calendar conflict rule")),
        )
        if errors:
            raise SettingsInvalid(errors)
        return settings

    def form(self) -> SettingsForm:
        """The same settings as text, as the modal shows them and ``from_form`` reads them."""
        return SettingsForm(
            name=self.name, team_id=self.team_id, new_team_name=self.new_team_name or "",
            hosts=[HostForm(slack_user_id=h.slack_user_id, url=h.url or "", password=h.password or "") for h in self.hosts],
            session_name=self.session_name, duration_minutes=self.duration_minutes, timezone=self.timezone,
            availability=fmt.format_availability(self.availability), buffer_minutes=self.buffer_minutes,
            min_notice_hours=fmt.format_hours(self.min_notice_minutes), horizon_days=self.horizon_days,
            participant_limit=self.participant_limit, participants_can_reschedule=self.participants_can_reschedule,
            change_cutoff_hours=self.change_cutoff_hours, incentive=str(self.incentive or ""),
            observer_url=self.observer_url or "", notetaker_url=self.notetaker_url or "", immediate_scheduling=self.immediate_scheduling,
            screener=fmt.format_screener(self.screener), reminders=fmt.format_reminders(self.reminder_offsets_minutes),
            completion_grace_minutes=self.completion_grace_minutes,
            unconfirmed_warning_hours="" if self.unconfirmed_warning_hours is None else self.unconfirmed_warning_hours,
            conferencing=self.conferencing.value, calendar_conflicts=self.calendar_conflicts.value,
        )


def settings_of(study: Study) -> StudySettings:
    amount, currency = study.incentive_amount, study.incentive_currency
    return StudySettings(
        name=study.name, team_id=study.team_id, new_team_name=None,
        hosts=tuple(HostRoom(h.member.slack_user_id, h.conferencing_url, h.conferencing_password) for h in study.hosts),
        session_name=study.session_name, duration_minutes=study.duration_minutes, timezone=study.timezone,
        availability=tuple(sorted(windows(study.availability or []), key=lambda w: (w.weekday, w.start))),
        buffer_minutes=study.buffer_minutes, min_notice_minutes=study.min_notice_minutes,
        horizon_days=study.horizon_days, participant_limit=study.participant_limit,
        participants_can_reschedule=study.participants_can_reschedule,
        change_cutoff_hours=study.participant_change_cutoff_hours,
        incentive=Incentive(amount, currency) if amount is not None and currency else None,
        observer_url=study.observer_url, notetaker_url=study.notetaker_url, immediate_scheduling=study.immediate_scheduling,
        screener=tuple(ScreenerQuestion(q["question"], tuple(q["choices"]), tuple(q["qualifying"])) for q in study.screener or []),
        reminder_offsets_minutes=tuple(sorted({int(m) for m in study.reminder_offsets_minutes or []}, reverse=True)),
        completion_grace_minutes=study.completion_grace_minutes,
        unconfirmed_warning_hours=study.unconfirmed_warning_hours,
        conferencing=Conferencing(study.conferencing), calendar_conflicts=CalendarConflicts(study.calendar_conflict_rule),
    )


@dataclass(frozen=True)
class UpdatedStudy:
    info: StudyInfo
    settings: StudySettings
    changed: tuple[str, ...]  # names of the StudySettings fields that changed


class StudySettingsService:
    def __init__(self, db: Database) -> None:
        self.db = db

    def teams_for(self, workspace_id: str, actor: Actor) -> list[TeamInfo]:
        """The workspace's teams the actor belongs to: the teams they may put a study in."""
        with self.db.transaction() as session:
            teams = session.scalars(
                select(ResearchTeam).join(TeamMember)
                .where(ResearchTeam.slack_workspace_id == workspace_id, TeamMember.slack_user_id == actor.slack_user_id)
                .options(selectinload(ResearchTeam.members)).order_by(ResearchTeam.name).limit(MAX_TEAMS)
            ).all()
            return [team_info(t) for t in teams]

    def current_for_channel(self, workspace_id: str, channel_id: str, actor: Actor) -> tuple[StudyInfo, StudySettings] | None:
        """The channel's study and its settings, or None when the channel has none yet."""
        if not channel_id.startswith(("C", "G")):
            raise InvalidInput("Run `/interviews setup` in the channel the study should live in, not in a direct message.")
        with self.db.transaction() as session:
            study = study_by_channel(session, workspace_id, channel_id)
            if study is None:
                return None
            require_team_member(session, study, actor)
            return study_info(study), settings_of(study)

    def load_for_channel(self, workspace_id: str, channel_id: str, actor: Actor) -> StudySettings | None:
        found = self.current_for_channel(workspace_id, channel_id, actor)
        return found[1] if found else None

    def save(self, workspace_id: str, channel_id: str, settings: StudySettings, actor: Actor, *, study_id: int | None = None) -> StudyInfo:
        """Create the channel's study, or update it; ``study_id`` is the study the form was
        opened for (None: a new one), so a form that no longer matches the channel is refused."""
        workspace_id = validation.slack_workspace_id(workspace_id)
        channel_id = validation.slack_channel_id(channel_id)
        with self.db.transaction() as session:
            study = study_by_channel(session, workspace_id, channel_id)
            if study is not None and study_id is None:
                raise Conflict(f"This channel already has the study {study.name!r}. Run `/interviews setup` again to edit it.")
            if (study.id if study else None) != study_id:
                raise Conflict("This form no longer matches the channel's study. Run `/interviews setup` again.")
            if study is None:
                study = Study(slack_workspace_id=workspace_id, slack_channel_id=channel_id)
            else:
                require_team_member(session, study, actor)
            self._apply(session, study, settings, actor)
            return study_info(study)

    def update(self, study_ref: str | int, changes: SettingsForm, actor: Actor) -> UpdatedStudy:
        """Change some settings of a study (the CLI), validated like a full form."""
        with self.db.transaction() as session:
            study = find_study(session, study_ref)
            require_team_member(session, study, actor)
            before = settings_of(study)
            after = StudySettings.from_form(SettingsForm(**{**before.form(), **changes}))
            self._apply(session, study, after, actor)
            changed = tuple(f.name for f in fields(StudySettings) if getattr(before, f.name) != getattr(after, f.name))
            return UpdatedStudy(study_info(study), after, changed)

    def _apply(self, session: Session, study: Study, settings: StudySettings, actor: Actor) -> None:
        errors: dict[str, str] = {}
        team = self._team(session, study.slack_workspace_id, settings, actor, errors)
        members = self._host_members(team, settings, actor, errors) if team is not None else {}
        if errors or team is None:
            raise SettingsInvalid(errors)
        kept = {h.member_id: h for h in study.hosts if h.member_id is not None}
        study.hosts = [kept.get(members[r.slack_user_id].id) or StudyHost(member=members[r.slack_user_id]) for r in settings.hosts]
        for room, host in zip(settings.hosts, study.hosts, strict=True):
            host.conferencing_url, host.conferencing_password = room.url, room.password
        old_ids = {q["question"]: q["id"] for q in study.screener or []}
        study.team = team
        study.name, study.session_name = settings.name, settings.session_name
        study.duration_minutes, study.timezone = settings.duration_minutes, settings.timezone
        study.availability = [{"weekday": w.weekday, "start": f"{w.start:%H:%M}", "end": f"{w.end:%H:%M}"} for w in settings.availability]
        study.buffer_minutes, study.min_notice_minutes = settings.buffer_minutes, settings.min_notice_minutes
        study.horizon_days, study.participant_limit = settings.horizon_days, settings.participant_limit
        study.participants_can_reschedule = settings.participants_can_reschedule
        study.participant_change_cutoff_hours = settings.change_cutoff_hours
        study.incentive_amount = settings.incentive.amount if settings.incentive else None
        study.incentive_currency = settings.incentive.currency if settings.incentive else None
        study.observer_url, study.immediate_scheduling = settings.observer_url, settings.immediate_scheduling
        study.notetaker_url = settings.notetaker_url
        study.reminder_offsets_minutes = list(settings.reminder_offsets_minutes)
        study.completion_grace_minutes = settings.completion_grace_minutes
        study.unconfirmed_warning_hours = settings.unconfirmed_warning_hours
        study.conferencing, study.calendar_conflict_rule = settings.conferencing.value, settings.calendar_conflicts.value
        study.screener = _stored_screener(settings.screener, old_ids)
        session.add(study)
        try:
            session.flush()
        except IntegrityError:  # another request bound the channel or took the team name a moment ago
            raise Conflict("Someone saved a study or team here at the same moment. Run `/interviews setup` again.") from None

    def _team(self, session: Session, workspace_id: str, settings: StudySettings, actor: Actor, errors: dict[str, str]) -> ResearchTeam | None:
        if settings.new_team_name is not None:
            taken = session.scalar(select(ResearchTeam.id).where(
                ResearchTeam.slack_workspace_id == workspace_id, ResearchTeam.name == settings.new_team_name))
            if taken is not None:
                errors["new_team_name"] = f"This workspace already has a team named {settings.new_team_name!r}: choose it in the list, or pick another name."
            return ResearchTeam(slack_workspace_id=workspace_id, name=settings.new_team_name)
        team = session.get(ResearchTeam, settings.team_id) if settings.team_id else None
        outsider = actor.kind is not ActorKind.SYSTEM and (
            team is None or actor.slack_user_id not in {m.slack_user_id for m in team.members})
        if team is None or team.slack_workspace_id != workspace_id or outsider:
            errors["team_id"] = "Choose one of your research teams, or name a new one."
            return None
        return team

    def _host_members(self, team: ResearchTeam, settings: StudySettings, actor: Actor, errors: dict[str, str]) -> dict[str, TeamMember]:
        """The team members who host; a new team gets the actor as admin and the hosts as members."""
        if team.id is None:
            users = [u for u in [actor.slack_user_id] if u] + [h.slack_user_id for h in settings.hosts]
            team.members = [TeamMember(slack_user_id=u, role=TeamRole.ADMIN if i == 0 else TeamRole.MEMBER, can_host=True) for i, u in enumerate(dict.fromkeys(users))]
        members = {m.slack_user_id: m for m in team.members}
        outsiders = [h.slack_user_id for h in settings.hosts if h.slack_user_id not in members]
        cannot = [h.slack_user_id for h in settings.hosts if h.slack_user_id in members and not members[h.slack_user_id].can_host]
        if outsiders:
            errors["hosts"] = (
                f"{_names(outsiders, members)} {'is' if len(outsiders) == 1 else 'are'} not on the team {team.name!r}. "
                f"A team admin can add them with: interview-desk team add-member {team.id} {' '.join(outsiders)}"
            )
        elif cannot:
            errors["hosts"] = f"{_names(cannot, members)} can't host interviews in {team.name!r}."
        return members


def _names(users: Sequence[str], members: dict[str, TeamMember]) -> str:
    return ", ".join((members[u].display_name if u in members and members[u].display_name else u) for u in users)


def _stored_screener(questions: Sequence[ScreenerQuestion], old_ids: dict[str, str]) -> list[dict[str, Any]]:
    """Questions keep their id while their text stays, so stored answers still match them."""
    used = set(old_ids.values())
    stored = []
    for q in questions:
        qid = old_ids.get(q.question)
        if qid is None:
            qid = next(f"q{n}" for n in range(1, 10_000) if f"q{n}" not in used)
        used.add(qid)
        stored.append({"id": qid, "question": q.question, "choices": list(q.choices), "qualifying": list(q.qualifying)})
    return stored

