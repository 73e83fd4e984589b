"""`interview-desk study update`: change a study's settings with the rules of the setup modal.

Numbers are taken as text, so a bad value is reported by the same validation (and in the same
words) as in Slack, on one `error:` line, instead of as a click usage error.
"""

import sys
from pathlib import Path

import click

from bot.cli.output import emit, json_option
from bot.cli.runtime import Runtime, pass_runtime
from bot.domain import Actor
from bot.services.errors import InvalidInput
from bot.services.study_settings import SettingsForm, StudySettingsService

CLI_ACTOR = Actor.system("cli")
# Option name -> the input form's field, for the options that are plain values.
VALUE_OPTIONS = {
    "name": "name",
    "session_name": "session_name",
    "duration": "duration_minutes",
    "timezone": "timezone",
    "availability": "availability",
    "buffer": "buffer_minutes",
    "min_notice_hours": "min_notice_hours",
    "horizon_days": "horizon_days",
    "participant_limit": "participant_limit",
    "participants_can_reschedule": "participants_can_reschedule",
    "change_cutoff_hours": "change_cutoff_hours",
    "observer_url": "observer_url",
    "notetaker_url": "notetaker_url",
    "immediate_scheduling": "immediate_scheduling",
    "reminders": "reminders",
    "completion_grace_minutes": "completion_grace_minutes",
    "unconfirmed_warning_hours": "unconfirmed_warning_hours",
    "conferencing": "conferencing",
    "calendar_conflicts": "calendar_conflicts",
}
# How a changed StudySettings field is named in the one-line summary.
LABELS = {"duration_minutes": "duration", "min_notice_minutes": "minimum notice", "buffer_minutes": "buffer",
          "change_cutoff_hours": "change cut-off", "participants_can_reschedule": "self-service changes",
          "reminder_offsets_minutes": "reminders", "completion_grace_minutes": "completion grace",
          "unconfirmed_warning_hours": "unconfirmed-attendance warning", "calendar_conflicts": "calendar conflict rule"}


def _screener(path: str) -> str:
    try:
        return sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"Can't read the screener file {path!r}: {getattr(exc, 'strerror', None) or exc}.") from None


@click.command("update")
@click.option("--study", "study_ref", required=True, help="Study ID, name or channel ID.")
@click.option("--name", help="The study's name.")
@click.option("--session-name", help="What participants see in the invite.")
@click.option("--duration", metavar="MIN", help="Session length in minutes.")
@click.option("--timezone", help="IANA zone of the availability, e.g. Europe/Berlin.")
@click.option("--availability", metavar="TEXT", help='Weekly windows: "Mon-Fri 09:00-17:00" or "Mon 09:00-12:00, Tue 13:00-17:00".')
@click.option("--buffer", metavar="MIN", help="Minutes kept free between a host's interviews.")
@click.option("--min-notice-hours", metavar="H", help="How far ahead participants must book (e.g. 24 or 1.5).")
@click.option("--horizon-days", metavar="D", help="How far into the future participants can book.")
@click.option("--participant-limit", metavar="N", help="Participants per slot (1 = one-on-one).")
@click.option("--participants-can-reschedule/--no-participants-can-reschedule", default=None, help="Whether participants may reschedule or cancel themselves.")
@click.option("--change-cutoff-hours", metavar="H", help="Until how many hours before the interview they may.")
@click.option("--incentive", metavar='"50 EUR"', help="Amount and ISO currency code.")
@click.option("--no-incentive", is_flag=True, help="Remove the incentive.")
@click.option("--observer-url", metavar="URL", help='Where teammates watch live ("" removes it).')
@click.option("--notetaker-url", metavar="URL", help='The notetaker webhook "Send observer bot" calls ("" removes it).')
@click.option("--immediate-scheduling/--no-immediate-scheduling", default=None, help="Let qualified participants book right after the screener.")
@click.option("--reminders", metavar='"24h, 1h"', help='When participants and hosts are reminded, before each interview (up to 5; "none").')
@click.option("--completion-grace-minutes", metavar="MIN", help="Minutes after an interview ends before it is marked completed.")
@click.option("--unconfirmed-warning-hours", metavar="H", help='Warn the channel when a participant has not confirmed H hours before ("off").')
@click.option("--conferencing", metavar="link|google-meet", help="Each host's own meeting link, or a Google Meet per interview (hosts with Google Calendar).")
@click.option("--calendar-conflicts", metavar="busy|all|ignore", help="What in connected hosts' calendars blocks a time: busy events (default), every event, or nothing.")
@click.option("--screener-file", metavar="FILE", help="Screener questions, one per line: Question? | answer A* | answer B (- reads stdin).")
@json_option
@pass_runtime
def study_update(rt: Runtime, study_ref: str, incentive: str | None, no_incentive: bool, screener_file: str | None, as_json: bool, **options: object) -> None:
    """Change a study's settings (meeting links: `study set-meeting-link`)."""
    changes: dict[str, object] = {VALUE_OPTIONS[k]: v for k, v in options.items() if v is not None}
    if incentive is not None and no_incentive:
        raise InvalidInput("Pass --incentive or --no-incentive, not both.")
    if incentive is not None or no_incentive:
        changes["incentive"] = incentive or ""
    if screener_file is not None:
        changes["screener"] = _screener(screener_file)
    if not changes:
        raise InvalidInput("Nothing to change: pass at least one setting, e.g. --duration 60 (see --help).")
    result = StudySettingsService(rt.db).update(study_ref, SettingsForm(**changes), CLI_ACTOR)  # type: ignore[typeddict-item]
    info = result.info
    done = f"updated {', '.join(LABELS.get(c, c.replace('_', ' ')) for c in result.changed)}" if result.changed else "nothing changed"
    data = {"study": info, "settings": result.settings.form(), "changed": list(result.changed)}
    emit(data, f"Study {info.id} {info.name!r}: {done}.", as_json=as_json)
