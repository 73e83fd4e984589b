"""Checks on user input shared by the services; each failure is an ``InvalidInput``."""

import re
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from email_validator import EmailNotValidError, validate_email

from bot.services.errors import InvalidInput

_SLACK_USER = re.compile(r"^[UW][A-Z0-9]{2,31}$")
_SLACK_CHANNEL = re.compile(r"^[CG][A-Z0-9]{2,31}$")
_SLACK_WORKSPACE = re.compile(r"^[TE][A-Z0-9]{2,31}$")


def slack_user_id(value: str) -> str:
    value = value.strip().removeprefix("<@").removesuffix(">").split("|")[0]
    if not _SLACK_USER.match(value):
        raise InvalidInput(f"{value!r} is not a Slack user ID (they look like U012AB3CD).")
    return value


def slack_channel_id(value: str) -> str:
    value = value.strip()
    if not _SLACK_CHANNEL.match(value):
        raise InvalidInput(f"{value!r} is not a Slack channel ID (they look like C012AB3CD).")
    return value


def slack_workspace_id(value: str) -> str:
    value = value.strip()
    if not _SLACK_WORKSPACE.match(value):
        raise InvalidInput(f"{value!r} is not a Slack workspace ID (they look like T012AB3CD).")
    return value


def email(value: str) -> str:
    try:
        result = validate_email(value.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidInput(f"{value.strip()!r} is not a valid email address: {exc}") from None
    return result.normalized.lower()


def name(value: str, *, what: str = "Name", max_length: int = 200) -> str:
    value = " ".join(value.split())
    if not value:
        raise InvalidInput(f"{what} can't be empty.")
    if len(value) > max_length:
        raise InvalidInput(f"{what} is too long ({len(value)} characters; at most {max_length}).")
    return value


def timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            f"{value!r} is not a time zone. Use an IANA name such as Europe/Berlin."
        ) from None
    return value


def duration_minutes(value: int) -> int:
    if not 5 <= value <= 8 * 60:
        raise InvalidInput(f"A session lasts 5 to 480 minutes, not {value}.")
    return value


def web_url(value: str, *, what: str = "Link") -> str:
    value = value.strip()
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or len(value) > 2000:
        raise InvalidInput(f"{what} must be a web address starting with https:// ({value!r}).")
    return value
