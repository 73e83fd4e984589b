"""Study settings: the text formats, the one validation of a whole form, and saving on both databases."""

from datetime import time
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.domain import Actor
from bot.services import Services
from bot.services.availability import Window
from bot.services.errors import Conflict, InvalidInput, NotAllowed
from bot.services.study_settings import (
    SettingsForm,
    SettingsInvalid,
    StudySettings,
    StudySettingsService,
)
from bot.services.study_settings_text import (
    format_availability,
    parse_availability,
    parse_incentive,
    parse_screener,
    parse_timezone,
)
from storage.db import Database
from storage.enums import TeamRole
from storage.models import ResearchTeam, Study
from tests.conftest import ADA, BO, CHANNEL, CLI, OUTSIDER, WORKSPACE, Seed

NEW_CHANNEL = "C0NEW"
AS_ADA = Actor.slack_user(WORKSPACE, ADA)


def form(**changes: Any) -> SettingsForm:
    """A complete, valid form for a new team; tests change what they look at."""
    base: dict[str, Any] = {
        "name": "Onboarding", "team_id": None, "new_team_name": "Growth research",
        "hosts": [{"slack_user_id": ADA, "url": "https://meet.example.com/ada", "password": "pw"}],
        "session_name": "", "duration_minutes": "30", "timezone": "Europe/Lisbon",
        "availability": "Mon-Fri 09:00-17:00", "buffer_minutes": "10", "min_notice_hours": "1.5",
        "horizon_days": "14", "participant_limit": "1", "participants_can_reschedule": True,
        "change_cutoff_hours": "12", "incentive": "50 EUR", "observer_url": "",
        "immediate_scheduling": False, "screener": "",
    }
    return SettingsForm(**{**base, **changes})  # type: ignore[typeddict-item]


def problems(**changes: Any) -> dict[str, str]:
    with pytest.raises(SettingsInvalid) as raised:
        StudySettings.from_form(form(**changes))
    return raised.value.errors


# ---------------------------------------------------------------- text formats


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("Mon-Fri 09:00-17:00", "Mon-Fri 09:00-17:00"),
        ("mon 9-12, Tue 13:00-17:00", "Mon 09:00-12:00, Tue 13:00-17:00"),
        ("Monday 09:00 to 12:00; wednesday 9:30–11", "Mon 09:00-12:00, Wed 09:30-11:00"),
        ("Sat-Mon 10-12\nTu 08:00-09:00", "Mon 10:00-12:00, Tue 08:00-09:00, Sat-Sun 10:00-12:00"),
    ],
)
def test_availability_text_reads_forgiving_spellings_and_writes_one_canonical_form(typed: str, canonical: str) -> None:
    windows = parse_availability(typed)
    assert format_availability(windows) == canonical
    assert parse_availability(canonical) == windows


def test_availability_from_days_and_times() -> None:
    windows = parse_availability([{"weekday": 0, "start": "09:00", "end": "12:00"}, {"weekday": 2, "start": "09:00", "end": "12:00"}])
    assert windows == (Window(0, time(9), time(12)), Window(2, time(9), time(12)))


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("Mon 22:00-02:00", "can't cross midnight"),
        ("Mondays at nine", "Can't read 'Mondays at nine'"),
        ("Funday 09:00-10:00", "not a weekday"),
        ("Mon 09:00-25:00", "25:00 is not a time of day"),
        ("Mon 09:00-12:00, Mon 11:00-13:00", "overlaps"),
        ("  ", "at least one day"),
    ],
)
def test_bad_availability_says_what_is_wrong(typed: str, expected: str) -> None:
    with pytest.raises(InvalidInput, match=expected):
        parse_availability(typed)


def test_screener_lines_with_qualifying_answers() -> None:
    questions = parse_screener("Do you shop online? | Weekly* | Monthly* | Never\n\nOwn a car? | yes | no*")
    assert [(q.question, q.choices, q.qualifying) for q in questions] == [
        ("Do you shop online?", ("Weekly", "Monthly", "Never"), ("Weekly", "Monthly")),
        ("Own a car?", ("yes", "no"), ("no",)),
    ]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Only one answer? | yes*", "at least two answers"),
        ("| yes* | no", "start with the question"),
        ("Nobody qualifies? | yes | no", "mark the answers that qualify"),
        ("Twice? | yes* | YES", "there twice"),
    ],
)
def test_bad_screener_line_is_named_by_its_number(line: str, expected: str) -> None:
    with pytest.raises(InvalidInput, match=f"Screener line 3: .*{expected}"):
        parse_screener(f"Fine? | yes* | no\n\n{line}")


def test_incentive_and_time_zone() -> None:
    assert str(parse_incentive("50 eur")) == "50 EUR"
    assert parse_incentive("USD 12,50") is not None and parse_incentive("USD 12,50").amount == Decimal("12.50")  # type: ignore[union-attr]
    assert parse_incentive("") is None and parse_incentive("none") is None
    with pytest.raises(InvalidInput, match="XYZ is not an ISO 4217 currency code"):
        parse_incentive("50 XYZ")
    assert parse_timezone("america/new_york") == "America/New_York"
    for bad in ("Mars/Olympus", "localtime", "../../etc/passwd"):
        with pytest.raises(InvalidInput, match="not a time zone"):
            parse_timezone(bad)


# ---------------------------------------------------------------- one validation of a whole form


def test_a_whole_form_reports_every_problem_at_once() -> None:
    errors = problems(
        name=" ", new_team_name="", hosts=[{"slack_user_id": ADA, "url": "ftp://x"}], timezone="Nowhere",
        availability="Mon 18:00-09:00", buffer_minutes="-5", incentive="5 ABC", observer_url="not a link",
        notetaker_url="javascript:alert(1)", immediate_scheduling=True, screener="",
    )
    assert set(errors) == {"name", "team_id", f"host_url:{ADA}", "timezone", "availability", "buffer_minutes", "incentive", "observer_url", "notetaker_url", "screener"}
    assert errors["buffer_minutes"] == "The buffer between interviews can't be negative."
    assert "Immediate Scheduling" in errors["screener"]


def test_numbers_and_limits() -> None:
    assert problems(duration_minutes="4")["duration_minutes"].startswith("The session length must be a whole number from 5 to 480")
    assert "whole number" in problems(participant_limit="1.5")["participant_limit"]
    assert "0 to 720 hours" in problems(min_notice_hours="lots")["min_notice_hours"]
    assert "1 to 365" in problems(horizon_days="0")["horizon_days"]
    assert "at most 10 hosts" in problems(hosts=[{"slack_user_id": f"U0H{i:02d}"} for i in range(11)])["hosts"]
    assert "needs a meeting link" in problems(hosts=[{"slack_user_id": ADA, "password": "x"}])[f"host_password:{ADA}"]


def test_settings_survive_their_own_text_form() -> None:
    settings = StudySettings.from_form(form(screener="Shop online? | yes* | no", immediate_scheduling=True))
    assert settings.session_name == "Onboarding interview"
    assert settings.min_notice_minutes == 90
    assert StudySettings.from_form(settings.form()) == settings


# ---------------------------------------------------------------- saving


def _studies(db: Database) -> int:
    with db.transaction() as session:
        return session.scalar(select(func.count()).select_from(Study)) or 0


def test_new_study_with_a_new_team_makes_the_user_admin_and_the_hosts_members(services: Services, db: Database) -> None:
    service = StudySettingsService(db)
    assert service.load_for_channel(WORKSPACE, NEW_CHANNEL, AS_ADA) is None
    hosts = [{"slack_user_id": ADA, "url": "https://meet.example.com/ada"}, {"slack_user_id": "U0CAT"}]
    settings = StudySettings.from_form(form(hosts=hosts, screener="Shop online? | yes* | no", immediate_scheduling=True))

    info = service.save(WORKSPACE, NEW_CHANNEL, settings, AS_ADA)

    assert (info.name, info.slack_channel_id, info.host_slack_user_ids) == ("Onboarding", NEW_CHANNEL, (ADA, "U0CAT"))
    with db.transaction() as session:
        team = session.get(ResearchTeam, info.team_id)
        assert team is not None and team.name == "Growth research"
        assert [(m.slack_user_id, m.role) for m in team.members] == [(ADA, TeamRole.ADMIN), ("U0CAT", TeamRole.MEMBER)]
        study = session.get(Study, info.id)
        assert study is not None
        assert study.availability == [{"weekday": d, "start": "09:00", "end": "17:00"} for d in range(5)]
        assert (study.buffer_minutes, study.min_notice_minutes, study.horizon_days) == (10, 90, 14)
        assert (study.incentive_amount, study.incentive_currency) == (Decimal("50.00"), "EUR")
        assert study.screener == [{"id": "q1", "question": "Shop online?", "choices": ["yes", "no"], "qualifying": ["yes"]}]
    loaded = service.load_for_channel(WORKSPACE, NEW_CHANNEL, AS_ADA)
    assert loaded is not None and loaded.team_id == info.team_id
    assert loaded.form() | {"team_id": None, "new_team_name": "Growth research"} == settings.form()
    # The study is found by the channel, as /interviews finds it.
    assert services.interviews.list_page(actor=AS_ADA, tab="upcoming", workspace_id=WORKSPACE, channel_id=NEW_CHANNEL).total == 0  # type: ignore[arg-type]


def test_existing_team_needs_its_hosts_to_be_members(services: Services, seeded: Seed, db: Database) -> None:
    service = StudySettingsService(db)
    outsider = StudySettings.from_form(form(new_team_name="", team_id=seeded.team_id, hosts=[{"slack_user_id": ADA}, {"slack_user_id": OUTSIDER}]))
    with pytest.raises(SettingsInvalid) as raised:
        service.save(WORKSPACE, NEW_CHANNEL, outsider, AS_ADA)
    assert f"{OUTSIDER} is not on the team 'UX Research'" in raised.value.errors["hosts"]
    assert f"team add-member {seeded.team_id} {OUTSIDER}" in raised.value.errors["hosts"]

    not_mine = StudySettings.from_form(form(new_team_name="", team_id=seeded.team_id, hosts=[{"slack_user_id": OUTSIDER}]))
    with pytest.raises(SettingsInvalid) as raised:
        service.save(WORKSPACE, NEW_CHANNEL, not_mine, Actor.slack_user(WORKSPACE, OUTSIDER))
    assert set(raised.value.errors) == {"team_id"}

    taken = StudySettings.from_form(form(new_team_name="UX Research"))
    with pytest.raises(SettingsInvalid) as raised:
        service.save(WORKSPACE, NEW_CHANNEL, taken, AS_ADA)
    assert "already has a team named 'UX Research'" in raised.value.errors["new_team_name"]
    assert _studies(db) == 1


def test_editing_updates_settings_and_hosts_in_place(services: Services, seeded: Seed, db: Database) -> None:
    service = StudySettingsService(db)
    current = service.load_for_channel(WORKSPACE, CHANNEL, AS_ADA)
    assert current is not None
    assert [(h.slack_user_id, h.url) for h in current.hosts] == [(ADA, "https://meet.example.com/ada"), (BO, None)]
    changed = current.form() | {
        "duration_minutes": "60", "availability": "Mon 09:00-12:00, Tue 13:00-17:00", "participant_limit": "3",
        "hosts": [{"slack_user_id": BO, "url": "https://meet.example.com/bo"}], "incentive": "",
        "screener": "Shop online? | yes* | no",
    }

    info = service.save(WORKSPACE, CHANNEL, StudySettings.from_form(changed), AS_ADA, study_id=seeded.study_id)

    assert (info.id, info.duration_minutes, info.host_slack_user_ids) == (seeded.study_id, 60, (BO,))
    saved = service.load_for_channel(WORKSPACE, CHANNEL, AS_ADA)
    assert saved is not None and saved.participant_limit == 3 and saved.incentive is None
    assert [(h.slack_user_id, h.url) for h in saved.hosts] == [(BO, "https://meet.example.com/bo")]
    assert saved.form()["availability"] == "Mon 09:00-12:00, Tue 13:00-17:00"

    # A question keeps its id while its text stays; a new one gets the next free id.
    reordered = saved.form() | {"screener": "Age? | 18+* | under 18\nShop online? | yes* | no"}
    service.save(WORKSPACE, CHANNEL, StudySettings.from_form(reordered), AS_ADA, study_id=seeded.study_id)
    with db.transaction() as session:
        study = session.get(Study, seeded.study_id)
        assert study is not None and [(q["id"], q["question"]) for q in study.screener] == [("q2", "Age?"), ("q1", "Shop online?")]


def test_outsiders_and_stale_forms_are_refused(services: Services, seeded: Seed, db: Database) -> None:
    service = StudySettingsService(db)
    eve = Actor.slack_user(WORKSPACE, OUTSIDER)
    with pytest.raises(NotAllowed):
        service.load_for_channel(WORKSPACE, CHANNEL, eve)
    current = service.load_for_channel(WORKSPACE, CHANNEL, AS_ADA)
    assert current is not None
    renamed = StudySettings.from_form(current.form() | {"name": "Taken over"})
    with pytest.raises(NotAllowed):
        service.save(WORKSPACE, CHANNEL, renamed, eve, study_id=seeded.study_id)
    with pytest.raises(Conflict, match="already has the study"):
        service.save(WORKSPACE, CHANNEL, renamed, AS_ADA)
    with pytest.raises(Conflict, match="no longer matches"):
        service.save(WORKSPACE, CHANNEL, renamed, AS_ADA, study_id=seeded.study_id + 1)
    with pytest.raises(InvalidInput, match="not in a direct message"):
        service.load_for_channel(WORKSPACE, "D0DM", AS_ADA)
    assert services.studies.get(seeded.study_id).name == "Checkout redesign"


def test_update_changes_only_what_is_given(services: Services, seeded: Seed, db: Database) -> None:
    service = StudySettingsService(db)
    result = service.update(str(seeded.study_id), SettingsForm(duration_minutes="60", timezone="europe/lisbon", incentive="25 GBP"), CLI)
    assert result.changed == ("duration_minutes", "timezone", "incentive")
    assert (result.info.duration_minutes, result.info.timezone) == (60, "Europe/Lisbon")
    assert result.settings.hosts[0].url == "https://meet.example.com/ada"

    with pytest.raises(SettingsInvalid) as raised:
        service.update(CHANNEL, SettingsForm(availability="Mon 22:00-02:00", buffer_minutes="-1"), CLI)
    assert set(raised.value.errors) == {"availability", "buffer_minutes"}
    assert services.studies.get(seeded.study_id).duration_minutes == 60


def test_the_notetaker_webhook_is_set_and_removed_like_the_observer_link(services: Services, seeded: Seed, db: Database) -> None:
    service = StudySettingsService(db)
    result = service.update(str(seeded.study_id), SettingsForm(notetaker_url="https://notes.example.com/hook"), CLI)
    assert result.changed == ("notetaker_url",) and result.settings.notetaker_url == "https://notes.example.com/hook"
    assert service.update(str(seeded.study_id), SettingsForm(notetaker_url=""), CLI).settings.notetaker_url is None
