"""Google Calendar's plain values: a host's grant, the events we write and read, push channels, sync
results, and the errors the client raises.

Frozen dataclasses with their translation to and from Google's JSON, and exception classes; no
HTTP here. They live apart from the client (``google_calendar.py``) so that services, jobs and
tests can hold, build and compare them, and catch the errors, without the googleapiclient
plumbing. The errors, all ``GoogleCalendarError``:

- ``GoogleUnavailable``: transport errors, 5xx, 429 and 403 rate limits (``retry_after`` when
  Google said how long to wait);
- ``GrantRevoked``: the host withdrew access (refresh token refused, or 401 after a refresh);
- ``SyncTokenExpired``: an incremental list answered 410, so a full sync is needed;
- ``GoogleRejected``: any other refusal, permanent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

GOOGLE_SCOPES = (
    "https://www.googleapis.com/auth/calendar.events",
    "https://www.googleapis.com/auth/calendar.freebusy",
)
PRIVATE_INTERVIEW_KEY = "interview_id"  # private extended property that marks our events


class GoogleCalendarError(Exception):
    """Google did not do what was asked."""


class GoogleUnavailable(GoogleCalendarError):
    """Google could not be reached or asked us to slow down; the same request may work later."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class GrantRevoked(GoogleCalendarError):
    """The host's Google access is gone (revoked, expired or refused): they must connect again."""


class SyncTokenExpired(GoogleCalendarError):
    """Google invalidated the sync token: start again with a full sync."""


class GoogleRejected(GoogleCalendarError):
    """Google refused the request for good (bad input, missing permission, unknown client...)."""

    def __init__(self, message: str, *, status: int | None = None, reason: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class Grant:
    """A host's OAuth tokens. ``expires_at`` is aware UTC (None: unknown, refreshed on a 401)."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_at: datetime | None
    scopes: tuple[str, ...]

    def missing_scopes(self, wanted: tuple[str, ...] = GOOGLE_SCOPES) -> tuple[str, ...]:
        """Scopes asked for but not granted (the consent screen lets people untick them)."""
        return tuple(scope for scope in wanted if scope not in self.scopes)


@dataclass(frozen=True)
class Attendee:
    """A guest to invite."""

    email: str
    display_name: str | None = None
    optional: bool = False


@dataclass(frozen=True)
class EventBody:
    """What we write to a host's calendar for an interview. Times must be timezone-aware."""

    summary: str
    start: datetime
    end: datetime
    description: str = ""
    attendees: tuple[Attendee, ...] = ()
    location: str = ""
    i_cal_uid: str | None = None
    interview_id: str | int | None = None
    time_zone: str | None = None
    """IANA name shown in Google; by default the start's zone (a ``ZoneInfo``), else UTC."""

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("event times must be timezone-aware")
        if self.end <= self.start:
            raise ValueError("an event must end after it starts")

    def to_api(self, *, with_uid: bool = True) -> dict[str, Any]:
        zone = self.time_zone or getattr(self.start.tzinfo, "key", None) or "UTC"
        body: dict[str, Any] = {
            "summary": self.summary,
            "description": self.description,
            "location": self.location,
            "start": {"dateTime": self.start.isoformat(), "timeZone": zone},
            "end": {"dateTime": self.end.isoformat(), "timeZone": zone},
            "attendees": [_attendee_body(a) for a in self.attendees],
        }
        if self.interview_id is not None:
            body["extendedProperties"] = {"private": {PRIVATE_INTERVIEW_KEY: str(self.interview_id)}}
        if with_uid and self.i_cal_uid:
            body["iCalUID"] = self.i_cal_uid
        return body


@dataclass(frozen=True)
class AttendeeResponse:
    """An attendee as Google shows them, with their answer (needsAction/declined/tentative/accepted)."""

    email: str
    response_status: str
    display_name: str | None = None
    optional: bool = False
    organizer: bool = False


@dataclass(frozen=True)
class CalendarEvent:
    """An event as Google returned it. A cancelled event from a list may carry only its id."""

    id: str
    status: str
    start: datetime | None = None
    end: datetime | None = None
    summary: str | None = None
    meet_url: str | None = None
    attendees: tuple[AttendeeResponse, ...] = ()
    organizer_email: str | None = None
    updated: datetime | None = None
    sequence: int = 0
    i_cal_uid: str | None = None
    interview_id: str | None = None

    @property
    def cancelled(self) -> bool:
        return self.status == "cancelled"

    def response_of(self, email: str) -> str | None:
        return next((a.response_status for a in self.attendees if a.email.lower() == email.lower()), None)

    @classmethod
    def from_api(cls, resource: Mapping[str, Any]) -> CalendarEvent:
        video = next((e.get("uri") for e in (resource.get("conferenceData") or {}).get("entryPoints", [])
                      if e.get("entryPointType") == "video"), None)
        private = (resource.get("extendedProperties") or {}).get("private") or {}
        return cls(
            id=resource["id"],
            status=resource.get("status", "confirmed"),
            start=_event_time(resource.get("start")),
            end=_event_time(resource.get("end")),
            summary=resource.get("summary"),
            meet_url=resource.get("hangoutLink") or video,
            attendees=tuple(
                AttendeeResponse(
                    email=a["email"],
                    response_status=a.get("responseStatus", "needsAction"),
                    display_name=a.get("displayName"),
                    optional=bool(a.get("optional")),
                    organizer=bool(a.get("organizer")),
                )
                for a in resource.get("attendees", []) if a.get("email")
            ),
            organizer_email=(resource.get("organizer") or {}).get("email"),
            updated=parse_time(resource["updated"]) if resource.get("updated") else None,
            sequence=int(resource.get("sequence", 0)),
            i_cal_uid=resource.get("iCalUID"),
            interview_id=private.get(PRIVATE_INTERVIEW_KEY),
        )


@dataclass(frozen=True)
class WatchChannel:
    """A push channel on the host's primary calendar; keep it to stop or renew it."""

    id: str
    resource_id: str
    resource_uri: str
    token: str | None
    expires_at: datetime


@dataclass(frozen=True)
class Changes:
    """One sync: the events changed (``full``: every event from ``time_min``) and the token for next time."""

    events: tuple[CalendarEvent, ...]
    next_sync_token: str
    full: bool


def parse_time(value: str) -> datetime:
    """A date-time from Google (RFC 3339), as aware UTC."""
    return datetime.fromisoformat(value).astimezone(UTC)


def _attendee_body(attendee: Attendee) -> dict[str, Any]:
    body: dict[str, Any] = {"email": attendee.email}
    if attendee.display_name:
        body["displayName"] = attendee.display_name
    if attendee.optional:
        body["optional"] = True
    return body


def _event_time(when: Mapping[str, Any] | None) -> datetime | None:
    if not when:
        return None
    if when.get("dateTime"):
        return parse_time(when["dateTime"])
    if when.get("date"):  # an all-day event: its day, from midnight UTC
        return datetime.fromisoformat(when["date"]).replace(tzinfo=UTC)
    return None
