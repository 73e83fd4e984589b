"""Every Block Kit id the app uses, and the small routing values packed into buttons.

Listeners match on these enum members and decode values with the models here, so a renamed id
or a changed value format is one edit, and a hand-crafted payload fails validation, not the app.
"""

import re
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.actions import InterviewAction
from storage.enums import InterviewStatus


class ActionId(StrEnum):
    # Action ids must be unique within a block, hence one per tab and per direction.
    LIST_SHOW_UPCOMING = "interview_list.show_upcoming"
    LIST_SHOW_PAST = "interview_list.show_past"
    LIST_PREVIOUS = "interview_list.previous"
    LIST_NEXT = "interview_list.next"
    VIEW_DETAILS = "interview.view_details"
    # The "More…" select of every interview, whose options are ``ActionChoice`` values.
    INTERVIEW_MORE = "interview.more"
    JOIN_MEETING = "interview.join_meeting"
    OBSERVER_ROOM_LINK = "interview.observer_room_link"
    TIMELINE_NEWER = "interview_details.timeline_newer"
    TIMELINE_OLDER = "interview_details.timeline_older"
    # The setup modal: the hosts input dispatches (to show a link input per host); every other
    # input shares one action id, as its block id already names the field.
    SETUP_HOSTS = "study_setup.hosts"
    SETUP_FIELD = "study_setup.field"
    # `/interviews connect`: the link to Google's consent page, and Disconnect (a ``CalendarRef``).
    CALENDAR_CONSENT = "calendar.consent"
    CALENDAR_DISCONNECT = "calendar.disconnect"


def action_button_id(action: InterviewAction) -> str:
    """A button's action id: one per action, so that buttons in one block never clash."""
    return f"interview.act.{action.value}"


# Every action button, whatever the action: one listener decodes its ``ActionChoice``.
ACTION_BUTTON = re.compile(r"^interview\.act\.[a-z_]+(\.\d+)?$")  # ".3": one of several (ratings)


class CallbackId(StrEnum):
    INTERVIEW_DETAILS = "interview_details"
    # The modal of each interview action (private_metadata: the ``ActionChoice`` that opened it).
    RESCHEDULE = "interview_action.reschedule"
    CHANGE_HOST = "interview_action.change_host"
    EDIT_DETAILS = "interview_action.edit_details"
    CHANGE_LIMIT = "interview_action.change_limit"
    ADD_GUEST = "interview_action.add_guest"
    COMPOSE_EMAIL = "interview_action.compose_email"
    INCENTIVE_EMAIL = "interview_action.incentive_email"
    CONFIRM_INCENTIVE = "interview_action.confirm_incentive"
    CANCEL = "interview_action.cancel"
    NO_SHOW = "interview_action.no_show"
    OUTCOME = "interview_action.outcome"  # the "working…" / done view that follows a submission
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


class ActionChoice(_Value):
    """An action on an interview, and the interview as the clicker saw it.

    The seen start and status let the service notice a stale view (the interview was moved or
    canceled meanwhile) and say so instead of acting on old data. Carried by buttons, by the
    "More…" options (values up to 150 characters) and by each action's modal.
    """

    action: InterviewAction
    interview_id: int = Field(ge=1)
    seen_start: int | None = Field(default=None, ge=0)  # Unix seconds
    seen_status: InterviewStatus | None = None
    value: int | None = Field(default=None, ge=0, le=1000)  # e.g. the rating a button gives


class ActionModalState(_Value):
    """An action modal's private_metadata: the action, and the details modal it was opened
    from (refreshed once the action is done)."""

    choice: ActionChoice
    details_view_id: str | None = Field(default=None, max_length=64)


class SetupTarget(_Value):
    """The setup modal's private_metadata: the study's channel, and the study when editing."""

    channel_id: str = Field(pattern=r"^[CG][A-Z0-9]{2,31}$")
    study_id: int | None = Field(default=None, ge=1)


class ChannelRef(_Value):
    """Carried by a modal opened from a channel: where its confirmation is posted."""

    channel_id: str = Field(pattern=r"^[CG][A-Z0-9]{2,31}$")
    study_id: int | None = Field(default=None, ge=1)


class CalendarRef(_Value):
    """Carried by Disconnect: the team whose calendar connection is meant."""

    team_id: int = Field(ge=1)
