"""Every Block Kit id the app uses, and the small routing values packed into buttons.

Listeners match on these enum members and decode values with the models here, so a renamed id
or a changed value format is one edit, and a hand-crafted payload fails validation, not the app.
"""

import re
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class ActionId(StrEnum):
    # Action ids must be unique within a block, hence one per tab and per direction.
    LIST_SHOW_UPCOMING = "interview_list.show_upcoming"
    LIST_SHOW_PAST = "interview_list.show_past"
    LIST_PREVIOUS = "interview_list.previous"
    LIST_NEXT = "interview_list.next"
    VIEW_DETAILS = "interview.view_details"
    INTERVIEW_MENU = "interview.menu"
    JOIN_MEETING = "interview.join_meeting"
    TIMELINE_NEWER = "interview_details.timeline_newer"
    TIMELINE_OLDER = "interview_details.timeline_older"
    # The setup modal: the hosts input dispatches (to show a link input per host); every other
    # input shares one action id, as its block id already names the field.
    SETUP_HOSTS = "study_setup.hosts"
    SETUP_FIELD = "study_setup.field"


class CallbackId(StrEnum):
    INTERVIEW_DETAILS = "interview_details"
    INVITE = "invite_participants"
    BOOK = "book_interview"
    STUDY_SETUP = "study_setup"


# One listener re-renders the list for any of its navigation buttons, and one the timeline.
LIST_NAVIGATION = re.compile(r"^interview_list\.(show_upcoming|show_past|previous|next)$")
TIMELINE_NAVIGATION = re.compile(r"^interview_details\.timeline_(newer|older)$")


class BadValue(ValueError):
    """A button value or private_metadata that is not one of ours (stale or hand-crafted)."""


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    def encode(self) -> str:
        return self.model_dump_json(exclude_defaults=True)

    @classmethod
    def decode(cls, raw: str | None) -> "_Value":
        try:
            return cls.model_validate_json(raw or "")
        except ValidationError as exc:
            raise BadValue(f"unreadable {cls.__name__}: {raw!r}") from exc


class ListPosition(_Value):
    """Where the interview list is: which tab, and the edge of the page to continue from."""

    tab: Literal["upcoming", "past"] = "upcoming"
    key: tuple[int, int] | None = None  # (start as Unix seconds, interview id)
    direction: Literal["after", "before"] = "after"
    # Position of the row just past ``key`` in the list: where the next page starts ("after"),
    # or where the page we come from starts ("before"). Only used for "Showing 11–20".
    offset: int = Field(default=0, ge=0, le=10_000_000)


class InterviewRef(_Value):
    interview_id: int = Field(ge=1)


class TimelinePosition(_Value):
    interview_id: int = Field(ge=1)
    offset: int = Field(default=0, ge=0, le=1_000_000)


class MenuChoice(_Value):
    """One option of an interview's actions menu: which action, on which interview."""

    action: Literal["view_details", "join_meeting", "copy_link"]
    interview_id: int = Field(ge=1)


class SetupTarget(_Value):
    """The setup modal's private_metadata: the study's channel, and the study when editing."""

    channel_id: str = Field(pattern=r"^[CG][A-Z0-9]{2,31}$")
    study_id: int | None = Field(default=None, ge=1)


class ChannelRef(_Value):
    """Carried by a modal opened from a channel: where its confirmation is posted."""

    channel_id: str = Field(pattern=r"^[CG][A-Z0-9]{2,31}$")
    study_id: int | None = Field(default=None, ge=1)
