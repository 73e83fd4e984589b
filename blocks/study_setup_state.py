"""Reading the setup modal's ``view.state.values`` back into ``SetupValues``.

The inverse of ``blocks.study_setup``, next to it so the block ids live in one place. The state
comes from the client, so every shape is checked: anything unexpected reads as empty, and the
service then says what is missing.
"""

from typing import Any

from blocks.study_setup import SetupBlock, SetupValues
from storage.enums import CalendarConflicts, Conferencing


def _element(state: dict[str, Any], block: str) -> dict[str, Any]:
    """The one element of an input block (Slack keys it by action id inside the block id)."""
    actions = state.get(block)
    if isinstance(actions, dict):
        for element in actions.values():
            if isinstance(element, dict):
                return element
    return {}


def _text(state: dict[str, Any], block: str) -> str:
    value = _element(state, block).get("value")
    return value if isinstance(value, str) else ""


def _selected(state: dict[str, Any], block: str) -> list[str]:
    options = _element(state, block).get("selected_options")
    if not isinstance(options, list):
        return []
    return [o["value"] for o in options if isinstance(o, dict) and isinstance(o.get("value"), str)]


def _chosen(state: dict[str, Any], block: str) -> str:
    option = _element(state, block).get("selected_option")
    value = option.get("value") if isinstance(option, dict) else None
    return value if isinstance(value, str) else ""


def _time(state: dict[str, Any], block: str) -> str | None:
    value = _element(state, block).get("selected_time")
    return value if isinstance(value, str) and value else None


def host_ids(state: dict[str, Any]) -> tuple[str, ...]:
    users = _element(state, SetupBlock.HOSTS).get("selected_users")
    return tuple(dict.fromkeys(u for u in users if isinstance(u, str))) if isinstance(users, list) else ()


def read_state(state: object) -> SetupValues:
    """Everything the user typed or picked, as text."""
    values: dict[str, Any] = state if isinstance(state, dict) else {}
    team = _element(values, SetupBlock.TEAM).get("selected_option")
    team_value = team.get("value") if isinstance(team, dict) else None
    hosts = host_ids(values)
    urls: dict[str, str] = {}
    passwords: dict[str, str] = {}
    for block in values:
        kind, _, user = str(block).rpartition(".")
        if kind == SetupBlock.HOST_URL:
            urls[user] = _text(values, block)
        elif kind == SetupBlock.HOST_PASSWORD:
            passwords[user] = _text(values, block)
    return SetupValues(
        name=_text(values, SetupBlock.NAME),
        team_id=int(team_value) if isinstance(team_value, str) and team_value.isdigit() else None,
        new_team_name=_text(values, SetupBlock.NEW_TEAM),
        host_ids=hosts,
        host_urls=urls,
        host_passwords=passwords,
        session_name=_text(values, SetupBlock.SESSION_NAME),
        duration=_text(values, SetupBlock.DURATION),
        participant_limit=_text(values, SetupBlock.PARTICIPANT_LIMIT),
        timezone=_text(values, SetupBlock.TIMEZONE),
        days=tuple(sorted({int(d) for d in _selected(values, SetupBlock.DAYS) if d in "0123456" and len(d) == 1})),
        day_start=_time(values, SetupBlock.DAY_START),
        day_end=_time(values, SetupBlock.DAY_END),
        availability_text=_text(values, SetupBlock.AVAILABILITY_TEXT),
        buffer=_text(values, SetupBlock.BUFFER),
        min_notice_hours=_text(values, SetupBlock.MIN_NOTICE),
        horizon_days=_text(values, SetupBlock.HORIZON),
        self_service=bool(_selected(values, SetupBlock.SELF_SERVICE)),
        change_cutoff_hours=_text(values, SetupBlock.CHANGE_CUTOFF),
        incentive=_text(values, SetupBlock.INCENTIVE),
        observer_url=_text(values, SetupBlock.OBSERVER_URL),
        notetaker_url=_text(values, SetupBlock.NOTETAKER_URL),
        immediate=bool(_selected(values, SetupBlock.IMMEDIATE)),
        screener=_text(values, SetupBlock.SCREENER),
        reminders=_text(values, SetupBlock.REMINDERS),
        completion_grace=_text(values, SetupBlock.COMPLETION_GRACE),
        unconfirmed_warning_hours=_text(values, SetupBlock.UNCONFIRMED_WARNING),
        conferencing=_chosen(values, SetupBlock.CONFERENCING) or Conferencing.LINK.value,
        calendar_conflicts=_chosen(values, SetupBlock.CALENDAR_CONFLICTS) or CalendarConflicts.BUSY.value,
    )
