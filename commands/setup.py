"""`/interviews setup`: the modal that creates the channel's study, or edits it.

The listener only translates: Slack's view state into the service's input form, the service's
per-field problems into inline modal errors, and the saved study into an ephemeral reply.
"""

import logging
from dataclasses import replace
from typing import Any, cast

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from blocks import text
from blocks.ids import ActionId, BadValue, CallbackId, SetupTarget
from blocks.study_setup import (
    SetupBlock,
    SetupValues,
    TeamChoice,
    host_block,
    notice_modal,
    saved_blocks,
    setup_modal,
)
from blocks.study_setup_state import read_state
from bot.integrations.slack_profiles import lookup_profiles
from bot.services.errors import DomainError
from bot.services.study_settings import (
    SettingsForm,
    SettingsInvalid,
    StudySettings,
    StudySettingsService,
)
from bot.services.study_settings_text import HostForm, format_availability
from commands.calendar import host_calendars
from commands.errors import user_message
from commands.services_context import actor, services, workspace_id

log = logging.getLogger(__name__)

# Where each form field's problem is shown; fields that depend on the state are in _block_for.
FIELD_BLOCKS = {
    "name": SetupBlock.NAME,
    "new_team_name": SetupBlock.NEW_TEAM,
    "hosts": SetupBlock.HOSTS,
    "session_name": SetupBlock.SESSION_NAME,
    "duration_minutes": SetupBlock.DURATION,
    "participant_limit": SetupBlock.PARTICIPANT_LIMIT,
    "timezone": SetupBlock.TIMEZONE,
    "buffer_minutes": SetupBlock.BUFFER,
    "min_notice_hours": SetupBlock.MIN_NOTICE,
    "horizon_days": SetupBlock.HORIZON,
    "change_cutoff_hours": SetupBlock.CHANGE_CUTOFF,
    "incentive": SetupBlock.INCENTIVE,
    "observer_url": SetupBlock.OBSERVER_URL,
    "notetaker_url": SetupBlock.NOTETAKER_URL,
    "screener": SetupBlock.SCREENER,
    "reminders": SetupBlock.REMINDERS,
    "completion_grace_minutes": SetupBlock.COMPLETION_GRACE,
    "unconfirmed_warning_hours": SetupBlock.UNCONFIRMED_WARNING,
    "conferencing": SetupBlock.CONFERENCING,
    "calendar_conflicts": SetupBlock.CALENDAR_CONFLICTS,
}


def _service(context: BoltContext) -> StudySettingsService:
    return StudySettingsService(services(context).db)


def _teams(context: BoltContext) -> list[TeamChoice]:
    return [TeamChoice(t.id, t.name) for t in _service(context).teams_for(workspace_id(context), actor(context))]


def _values_of(settings: StudySettings) -> SetupValues:
    """Prefill from saved settings: one set of hours on some days fills the quick inputs."""
    form = settings.form()
    hours = {(w.start, w.end) for w in settings.availability}
    days = [w.weekday for w in settings.availability]
    simple = len(hours) == 1 and len(set(days)) == len(days)
    start, end = next(iter(hours)) if simple else (None, None)
    return SetupValues(
        name=settings.name, team_id=settings.team_id,
        host_ids=tuple(h.slack_user_id for h in settings.hosts),
        host_urls={h.slack_user_id: h.url or "" for h in settings.hosts},
        host_passwords={h.slack_user_id: h.password or "" for h in settings.hosts},
        session_name=settings.session_name, duration=str(settings.duration_minutes),
        participant_limit=str(settings.participant_limit), timezone=settings.timezone,
        days=tuple(sorted(days)) if simple else (),
        day_start=f"{start:%H:%M}" if start else None, day_end=f"{end:%H:%M}" if end else None,
        availability_text="" if simple else str(form["availability"]),
        buffer=str(settings.buffer_minutes), min_notice_hours=str(form["min_notice_hours"]),
        horizon_days=str(settings.horizon_days), self_service=settings.participants_can_reschedule,
        change_cutoff_hours=str(settings.change_cutoff_hours), incentive=form["incentive"],
        observer_url=form["observer_url"], notetaker_url=form["notetaker_url"], immediate=settings.immediate_scheduling, screener=form["screener"],
        reminders=form["reminders"], completion_grace=str(settings.completion_grace_minutes),
        unconfirmed_warning_hours=str(form["unconfirmed_warning_hours"]),
        conferencing=form["conferencing"], calendar_conflicts=form["calendar_conflicts"],
    )


def _form_of(values: SetupValues) -> SettingsForm:
    """The service's input form; the text box of hours, when filled in, wins over the quick inputs."""
    quick = [{"weekday": d, "start": values.day_start, "end": values.day_end} for d in values.days]
    return SettingsForm(
        name=values.name, team_id=values.team_id, new_team_name=values.new_team_name,
        hosts=[HostForm(slack_user_id=u, url=values.host_urls.get(u, ""), password=values.host_passwords.get(u, "")) for u in values.host_ids],
        session_name=values.session_name, duration_minutes=values.duration, timezone=values.timezone,
        availability=values.availability_text if values.availability_text.strip() else quick,
        buffer_minutes=values.buffer, min_notice_hours=values.min_notice_hours, horizon_days=values.horizon_days,
        participant_limit=values.participant_limit, participants_can_reschedule=values.self_service,
        change_cutoff_hours=values.change_cutoff_hours, incentive=values.incentive,
        observer_url=values.observer_url, notetaker_url=values.notetaker_url, immediate_scheduling=values.immediate, screener=values.screener,
        reminders=values.reminders, completion_grace_minutes=values.completion_grace,
        unconfirmed_warning_hours=values.unconfirmed_warning_hours,
        conferencing=values.conferencing, calendar_conflicts=values.calendar_conflicts,
    )


def _block_for(key: str, values: SetupValues, present: set[str]) -> str:
    kind, _, user = key.partition(":")
    if kind in ("host_url", "host_password"):
        block = host_block(SetupBlock.HOST_URL if kind == "host_url" else SetupBlock.HOST_PASSWORD, user)
    elif key == "availability":
        block = SetupBlock.AVAILABILITY_TEXT if values.availability_text.strip() else (SetupBlock.DAY_END if values.days else SetupBlock.DAYS)
    elif key == "team_id":
        block = SetupBlock.TEAM if SetupBlock.TEAM in present else SetupBlock.NEW_TEAM
    else:
        block = FIELD_BLOCKS.get(key, SetupBlock.NAME)
    return block if block in present else SetupBlock.NAME


def _inline_errors(errors: dict[str, str], values: SetupValues, present: set[str]) -> dict[str, str]:
    shown: dict[str, str] = {}
    for key, message in errors.items():
        block = _block_for(key, values, present)
        shown[block] = f"{shown[block]} {message}" if block in shown else message
    return {block: text.truncate(message, 500) for block, message in shown.items()}


def _user_zone(client: WebClient, user_id: str) -> str:
    """The user's own zone from their Slack profile: the likely zone of a new study."""
    try:
        zone = client.users_info(user=user_id)["user"].get("tz")
    except (SlackClientError, KeyError, TypeError):
        log.info("no time zone for %s from users.info", user_id, exc_info=True)
        return ""
    return zone if isinstance(zone, str) else ""


def _reminders_line(settings: StudySettings) -> str:
    offsets = settings.reminder_offsets_minutes
    line = (" and ".join(text.duration(m) for m in offsets) + " before") if offsets else "none"
    if settings.unconfirmed_warning_hours is not None:
        line += f" · unconfirmed attendance flagged {settings.unconfirmed_warning_hours} h before"
    return line


def setup_command(ack: Ack, command: dict[str, Any], context: BoltContext) -> None:
    """Ack at once, then open the form with the trigger id (good for 3 seconds)."""
    ack()
    channel_id = command.get("channel_id", "")
    who = actor(context)
    found = _service(context).current_for_channel(workspace_id(context), channel_id, who)
    client = cast(WebClient, context.client)
    if found is None:
        target = SetupTarget(channel_id=channel_id)
        values = SetupValues(host_ids=(who.slack_user_id or "",), timezone=_user_zone(client, who.slack_user_id or ""))
    else:
        target = SetupTarget(channel_id=channel_id, study_id=found[0].id)
        values = _values_of(found[1])
    teams = _teams(context)
    if found is None and len(teams) == 1:
        values = replace(values, team_id=teams[0].id)
    calendars = host_calendars(context, team_id=values.team_id, host_ids=values.host_ids)
    view = setup_modal(channel_id, values, teams, metadata=target.encode(), editing=found is not None, calendars=calendars)
    client.views_open(trigger_id=command["trigger_id"], view=view)


def hosts_changed(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    """Show one meeting link/password pair per chosen host, keeping everything typed so far."""
    ack()
    view = body.get("view") or {}
    target = cast(SetupTarget, SetupTarget.decode(view.get("private_metadata")))
    chosen = tuple(dict.fromkeys(u for u in action.get("selected_users") or [] if isinstance(u, str)))
    values = replace(read_state((view.get("state") or {}).get("values")), host_ids=chosen)
    found = _service(context).current_for_channel(workspace_id(context), target.channel_id, actor(context))
    if found is not None:  # a host picked again gets their saved room back
        saved = {h.slack_user_id: h for h in found[1].hosts}
        urls, passwords = dict(values.host_urls), dict(values.host_passwords)
        for user in chosen:
            if user in saved and user not in urls:
                urls[user], passwords[user] = saved[user].url or "", saved[user].password or ""
        values = replace(values, host_urls=urls, host_passwords=passwords)
    calendars = host_calendars(context, team_id=values.team_id, host_ids=chosen)
    updated = setup_modal(target.channel_id, values, _teams(context), metadata=target.encode(),
                          editing=target.study_id is not None, calendars=calendars)
    try:
        client.views_update(view_id=view.get("id"), hash=view.get("hash"), view=updated)
    except SlackApiError as exc:
        if exc.response.get("error") != "hash_conflict":  # a newer update is already on its way
            raise


def submit(ack: Ack, view: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    """Validate and save before the ack: problems go back as inline errors, nothing saved."""
    state = (view.get("state") or {}).get("values")
    values = read_state(state)
    present = {str(b.get("block_id")) for b in view.get("blocks") or [] if isinstance(b, dict)} | set(state or {})
    try:
        target = cast(SetupTarget, SetupTarget.decode(view.get("private_metadata")))
        settings = StudySettings.from_form(_form_of(values))
        info = _service(context).save(workspace_id(context), target.channel_id, settings, actor(context), study_id=target.study_id)
    except SettingsInvalid as error:
        ack(response_action="errors", errors=_inline_errors(error.errors, values, present))
        return
    except (DomainError, BadValue) as error:
        ack(response_action="update", view=notice_modal(user_message(error)))
        return
    ack()
    # Hosts' names and emails from Slack: their calendar invites need the address.
    services(context).profiles.remember(workspace_id(context), lookup_profiles(client, [h.slack_user_id for h in settings.hosts]))
    summary = [
        f"*Sessions:* {text.escape(settings.session_name)} · {text.duration(settings.duration_minutes)}"
        + (f" · up to {settings.participant_limit} participants" if settings.participant_limit > 1 else " · one-on-one"),
        f"*Availability:* {format_availability(settings.availability)} ({settings.timezone})",
        "*Hosts:* " + ", ".join(f"<@{h.slack_user_id}>" for h in settings.hosts),
        "*Reminders:* " + _reminders_line(settings),
    ]
    blocks = saved_blocks(
        name=info.name, channel_id=info.slack_channel_id, created=target.study_id is None, summary=summary,
        hosts_without_link=[h.slack_user_id for h in settings.hosts if not h.url],
    )
    try:
        client.chat_postEphemeral(channel=info.slack_channel_id, user=context.user_id or "", text=f"Saved the study {info.name}.", blocks=blocks)
    except SlackApiError:  # e.g. the bot is not in the channel: the study is saved all the same
        log.warning("could not confirm the study setup in %s", info.slack_channel_id, exc_info=True)


def register(app: App) -> None:
    app.action(ActionId.SETUP_HOSTS)(hosts_changed)
    app.view(CallbackId.STUDY_SETUP)(submit)
