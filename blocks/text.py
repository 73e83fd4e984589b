"""Formatting for Slack mrkdwn: escaping, truncation, date tokens and attendance marks."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.domain import AttendeeView, InterviewSummary
from storage.enums import AttendeeRole, InterviewStatus, InviteStatus

ELLIPSIS = "…"


def escape(text: str) -> str:
    """Escape the three characters Slack treats as control characters in mrkdwn."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - len(ELLIPSIS)].rstrip() + ELLIPSIS


def _fallback(moment: datetime, fmt: str = "%a %d %b %Y %H:%M UTC") -> str:
    return moment.astimezone(UTC).strftime(fmt)


def date_token(moment: datetime, fmt: str = "{date_short_pretty} {time}") -> str:
    """A time that Slack shows in each viewer's own zone; the fallback is UTC."""
    return f"<!date^{int(moment.timestamp())}^{fmt}|{_fallback(moment)}>"


def time_range(start: datetime, end: datetime) -> str:
    end_token = f"<!date^{int(end.timestamp())}^{{time}}|{_fallback(end, '%H:%M UTC')}>"
    return f"{date_token(start)}–{end_token}"


def ago(moment: datetime) -> str:
    return f"<!date^{int(moment.timestamp())}^{{ago}}|{_fallback(moment)}>"


def in_zone(moment: datetime, timezone: str) -> str:
    """Plain text time in a named zone, e.g. for "study time" lines."""
    local = moment.astimezone(ZoneInfo(timezone))
    return f"{local:%a %d %b %Y, %H:%M} ({timezone})"


def duration(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h {rest} min" if rest else f"{hours} h"


def person(attendee: AttendeeView) -> str:
    if attendee.slack_user_id:
        return f"<@{attendee.slack_user_id}>"
    return escape(attendee.name)


def attendance_mark(attendee: AttendeeView) -> str:
    """The at-a-glance mark: ✓ accepted, ✓✓ confirmed, and words for the rest."""
    if attendee.attendance_confirmed:
        return "✓✓"
    return {
        InviteStatus.ACCEPTED: "✓",
        InviteStatus.TENTATIVE: "(Attendance unknown)",
        InviteStatus.DECLINED: "✗ declined",
        InviteStatus.AWAITING: "(awaiting reply)",
    }[attendee.invite_status]


def invite_status_label(attendee: AttendeeView) -> str:
    """The spelled-out status for the details view."""
    if attendee.attendance_confirmed:
        return "✓✓ Confirmed attendance"
    return {
        InviteStatus.ACCEPTED: "✓ Accepted",
        InviteStatus.TENTATIVE: "Attendance unknown (maybe)",
        InviteStatus.DECLINED: "✗ Declined",
        InviteStatus.AWAITING: "… Awaiting reply",
    }[attendee.invite_status]


def role_label(attendee: AttendeeView) -> str:
    label = {
        AttendeeRole.HOST: "Host",
        AttendeeRole.GUEST: "Guest",
        AttendeeRole.PARTICIPANT: "Participant",
    }[attendee.role]
    return f"{label} (organizer)" if attendee.is_organizer else label


def outcome(summary: InterviewSummary) -> str | None:
    """What became of an interview, or None while it is still ahead."""
    if summary.status is InterviewStatus.UPCOMING:
        return "Awaiting outcome" if summary.has_ended else None
    return {
        InterviewStatus.COMPLETED: "Completed",
        InterviewStatus.NO_SHOW: "No-show",
        InterviewStatus.CANCELED: "Canceled",
    }[summary.status]


def invitees(summary: InterviewSummary) -> str:
    """Participants with their marks, then hosts and guests: the row's "who" at a glance."""
    parts = [f"{person(p)} {attendance_mark(p)}" for p in summary.participants]
    if summary.hosts:
        parts.append("host " + ", ".join(person(h) for h in summary.hosts))
    if summary.guests:
        parts.append("guests " + ", ".join(person(g) for g in summary.guests))
    return " · ".join(parts) or "No attendees"
