"""The study setup modal: create or edit the study bound to a channel.

Built from ``SetupValues`` (what the inputs show) and read back into the same type by
``blocks.study_setup_state``, so a re-render after the hosts change keeps everything typed so far.
Block ids never change between renders (a host's inputs are keyed by their user id), which is
what lets Slack keep typed values across ``views.update``.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from slack_sdk.models.blocks import (
    Block,
    CheckboxesElement,
    ContextBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    NumberInputElement,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticSelectElement,
    TimePickerElement,
    UrlInputElement,
    UserMultiSelectElement,
)
from slack_sdk.models.views import View

from blocks import text
from blocks.calendar import host_note
from blocks.ids import ActionId, CallbackId
from storage.enums import CalendarConflicts, Conferencing, ConnectionStatus

WEEKDAY_LABELS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MAX_HOSTS = 10  # each host adds three blocks; ten keeps the modal well under 100


class SetupBlock(StrEnum):
    """Block ids of the modal's inputs (a host's link inputs add the host's user id)."""

    NAME = "setup.name"
    TEAM = "setup.team"
    NEW_TEAM = "setup.new_team"
    HOSTS = "setup.hosts"
    HOST_URL = "setup.host_url"
    HOST_PASSWORD = "setup.host_password"
    SESSION_NAME = "setup.session_name"
    DURATION = "setup.duration"
    PARTICIPANT_LIMIT = "setup.participant_limit"
    TIMEZONE = "setup.timezone"
    DAYS = "setup.days"
    DAY_START = "setup.day_start"
    DAY_END = "setup.day_end"
    AVAILABILITY_TEXT = "setup.availability_text"
    BUFFER = "setup.buffer"
    MIN_NOTICE = "setup.min_notice"
    HORIZON = "setup.horizon"
    SELF_SERVICE = "setup.self_service"
    CHANGE_CUTOFF = "setup.change_cutoff"
    INCENTIVE = "setup.incentive"
    OBSERVER_URL = "setup.observer_url"
    NOTETAKER_URL = "setup.notetaker_url"
    IMMEDIATE = "setup.immediate"
    SCREENER = "setup.screener"
    REMINDERS = "setup.reminders"
    COMPLETION_GRACE = "setup.completion_grace"
    UNCONFIRMED_WARNING = "setup.unconfirmed_warning"
    CONFERENCING = "setup.conferencing"
    CALENDAR_CONFLICTS = "setup.calendar_conflicts"


def host_block(kind: SetupBlock, user_id: str) -> str:
    return f"{kind}.{user_id}"


@dataclass(frozen=True)
class TeamChoice:
    id: int
    name: str


@dataclass(frozen=True)
class SetupValues:
    """What the modal's inputs hold, as text; the defaults are a new study's."""

    name: str = ""
    team_id: int | None = None
    new_team_name: str = ""
    host_ids: tuple[str, ...] = ()
    host_urls: Mapping[str, str] = field(default_factory=dict)
    host_passwords: Mapping[str, str] = field(default_factory=dict)
    session_name: str = ""
    duration: str = "45"
    participant_limit: str = "1"
    timezone: str = ""
    days: tuple[int, ...] = (0, 1, 2, 3, 4)
    day_start: str | None = "09:00"
    day_end: str | None = "17:00"
    availability_text: str = ""
    buffer: str = "0"
    min_notice_hours: str = "24"
    horizon_days: str = "30"
    self_service: bool = True
    change_cutoff_hours: str = "24"
    incentive: str = ""
    observer_url: str = ""
    notetaker_url: str = ""
    immediate: bool = False
    screener: str = ""
    reminders: str = "24h, 1h"
    completion_grace: str = "30"
    unconfirmed_warning_hours: str = ""  # empty: off
    conferencing: str = Conferencing.LINK.value
    calendar_conflicts: str = CalendarConflicts.BUSY.value


def _input(block: str, label: str, element: object, *, hint: str | None = None, optional: bool = True, dispatch: bool = False) -> InputBlock:
    return InputBlock(
        block_id=block, label=label, element=element, hint=hint, optional=optional,
        dispatch_action=dispatch or None,
    )


def _plain(block: str, label: str, value: str, *, placeholder: str | None = None, hint: str | None = None, optional: bool = True, multiline: bool = False, max_length: int | None = None) -> InputBlock:
    element = PlainTextInputElement(
        action_id=ActionId.SETUP_FIELD, initial_value=value or None, placeholder=placeholder,
        multiline=multiline or None, max_length=max_length,
    )
    return _input(block, label, element, hint=hint, optional=optional)


def _number(block: str, label: str, value: str, *, hint: str | None = None, decimal: bool = False) -> InputBlock:
    element = NumberInputElement(action_id=ActionId.SETUP_FIELD, is_decimal_allowed=decimal, initial_value=value or None)
    return _input(block, label, element, hint=hint, optional=False)


def _url(block: str, label: str, value: str, *, placeholder: str, hint: str | None = None) -> InputBlock:
    element = UrlInputElement(action_id=ActionId.SETUP_FIELD, initial_value=value or None, placeholder=placeholder)
    return _input(block, label, element, hint=hint)


CONFERENCING_CHOICES = (
    (Conferencing.LINK.value, "Each host's own meeting room"),
    (Conferencing.GOOGLE_MEET.value, "A Google Meet for each interview"),
)
CONFLICT_CHOICES = (
    (CalendarConflicts.BUSY.value, "Events that show them busy"),
    (CalendarConflicts.ALL.value, "Every event, even those marked free"),
    (CalendarConflicts.IGNORE.value, "None: ignore their calendar"),
)


def _choice(block: str, label: str, value: str, choices: Sequence[tuple[str, str]], *, hint: str) -> InputBlock:
    options = [Option(value=v, text=t) for v, t in choices]
    chosen = next((o for o in options if o.value == value), options[0])
    return _input(block, label, StaticSelectElement(action_id=ActionId.SETUP_FIELD, options=options, initial_option=chosen),
                  hint=hint, optional=False)


def _checkbox(block: str, label: str, option: str, checked: bool, *, hint: str | None = None) -> InputBlock:
    choice = Option(value="yes", label=option)
    element = CheckboxesElement(action_id=ActionId.SETUP_FIELD, options=[choice], initial_options=[choice] if checked else None)
    return _input(block, label, element, hint=hint)


def _team(values: SetupValues, teams: Sequence[TeamChoice]) -> list[Block]:
    blocks: list[Block] = []
    if teams:
        options = [Option(value=str(t.id), label=text.truncate(t.name, 75)) for t in teams]
        chosen = next((o for o, t in zip(options, teams, strict=True) if t.id == values.team_id), None)
        select = StaticSelectElement(action_id=ActionId.SETUP_FIELD, options=options, initial_option=chosen, placeholder="Choose one of your teams")
        blocks.append(_input(SetupBlock.TEAM, "Research team", select, hint="Everyone on the team can see and manage this study's interviews."))
    blocks.append(_plain(
        SetupBlock.NEW_TEAM, "…or create a new team" if teams else "Research team (new)", values.new_team_name,
        placeholder="e.g. UX Research", max_length=200,
        hint="You become its admin and the hosts join it." + (" Leave empty to use the team above." if teams else ""),
    ))
    return blocks


def _hosts(values: SetupValues, calendars: Mapping[str, ConnectionStatus | None] | None) -> list[Block]:
    picker = UserMultiSelectElement(
        action_id=ActionId.SETUP_HOSTS, initial_users=list(values.host_ids[:MAX_HOSTS]) or None,
        max_selected_items=MAX_HOSTS, placeholder="Who runs the interviews",
    )
    blocks: list[Block] = [_input(SetupBlock.HOSTS, "Hosts", picker, optional=False, dispatch=True,
                                  hint="Each host needs to be on the research team. Their meeting rooms appear below.")]
    for user in values.host_ids[:MAX_HOSTS]:
        room = f"🎥 Meeting room of <@{user}>"
        if calendars is not None:  # Google Calendar is configured: who has connected theirs
            room += f"  ·  {host_note(calendars.get(user))}"
        blocks.append(ContextBlock(block_id=host_block(SetupBlock.HOSTS, user), elements=[MarkdownTextObject(text=room)]))
        blocks.append(_url(host_block(SetupBlock.HOST_URL, user), "Meeting link", values.host_urls.get(user, ""),
                           placeholder="https://zoom.us/j/… or https://meet.google.com/…"))
        blocks.append(_plain(host_block(SetupBlock.HOST_PASSWORD, user), "Meeting password", values.host_passwords.get(user, ""), max_length=200))
    return blocks


def _availability(values: SetupValues) -> list[Block]:
    options = [Option(value=str(i), label=label) for i, label in enumerate(WEEKDAY_LABELS)]
    days = CheckboxesElement(action_id=ActionId.SETUP_FIELD, options=options, initial_options=[options[d] for d in values.days if 0 <= d <= 6] or None)
    return [
        _input(SetupBlock.DAYS, "Days", days),
        _input(SetupBlock.DAY_START, "From", TimePickerElement(action_id=ActionId.SETUP_FIELD, initial_time=values.day_start)),
        _input(SetupBlock.DAY_END, "Until", TimePickerElement(action_id=ActionId.SETUP_FIELD, initial_time=values.day_end)),
        _plain(SetupBlock.AVAILABILITY_TEXT, "Different hours per day", values.availability_text, multiline=True, max_length=1000,
               placeholder="Mon 09:00-12:00, Tue 13:00-17:00",
               hint="Optional. When filled in, it replaces the days and times above. Windows can't cross midnight."),
    ]


def setup_modal(
    channel_id: str, values: SetupValues, teams: Sequence[TeamChoice], *, metadata: str, editing: bool,
    calendars: Mapping[str, ConnectionStatus | None] | None = None,
) -> View:
    """The whole form; ``metadata`` is the encoded ``SetupTarget``; ``calendars``: each host's
    Google Calendar connection (None when Google Calendar is not configured)."""
    intro = (
        f"Editing the study of <#{channel_id}>. Changes apply to interviews booked from now on."
        if editing else
        f"The study will live in <#{channel_id}>: `/interviews` there lists its interviews."
    )
    blocks: list[Block] = [
        SectionBlock(block_id="setup.intro", text=MarkdownTextObject(text=intro)),
        _plain(SetupBlock.NAME, "Study name", values.name, placeholder="e.g. Checkout redesign", optional=False, max_length=200),
        *_team(values, teams),
        *_hosts(values, calendars),
        HeaderBlock(block_id="setup.sessions", text="Sessions"),
        _plain(SetupBlock.SESSION_NAME, "Session name", values.session_name, max_length=200,
               placeholder="e.g. Checkout interview", hint="What participants see in the invite. Default: the study name + “interview”."),
        _number(SetupBlock.DURATION, "Duration (minutes)", values.duration),
        _number(SetupBlock.PARTICIPANT_LIMIT, "Participants per slot", values.participant_limit, hint="1 for one-on-one interviews; more for group sessions."),
        _plain(SetupBlock.TIMEZONE, "Study time zone", values.timezone, optional=False, placeholder="e.g. Europe/Berlin",
               hint="The zone of the hours below (an IANA name). Participants see times in their own zone."),
        HeaderBlock(block_id="setup.availability", text="When participants can book"),
        *_availability(values),
        _number(SetupBlock.BUFFER, "Buffer between interviews (minutes)", values.buffer),
        _number(SetupBlock.MIN_NOTICE, "Minimum notice (hours)", values.min_notice_hours, decimal=True, hint="How far ahead a participant must book."),
        _number(SetupBlock.HORIZON, "Booking horizon (days)", values.horizon_days, hint="How far into the future participants can book."),
        HeaderBlock(block_id="setup.participants", text="Participants"),
        _checkbox(SetupBlock.SELF_SERVICE, "Changes by participants", "Participants may reschedule or cancel themselves", values.self_service),
        _number(SetupBlock.CHANGE_CUTOFF, "…until how many hours before", values.change_cutoff_hours),
        _plain(SetupBlock.INCENTIVE, "Incentive", values.incentive, placeholder="e.g. 50 EUR", max_length=40,
               hint="An amount and an ISO currency code. Leave empty for no incentive."),
        _url(SetupBlock.OBSERVER_URL, "Observer link", values.observer_url, placeholder="https://…", hint="Optional: where teammates can watch live."),
        _url(SetupBlock.NOTETAKER_URL, "Notetaker webhook", values.notetaker_url, placeholder="https://…",
             hint="Optional: the notetaker service that \"Send observer bot\" calls."),
        _checkbox(SetupBlock.IMMEDIATE, "Immediate Scheduling", "Qualified participants book right after the screener", values.immediate),
        _plain(SetupBlock.SCREENER, "Screener", values.screener, multiline=True, max_length=3000,
               placeholder="Do you shop online? | Weekly* | Monthly* | Never",
               hint="One question per line, then its answers after |. Mark the answers that qualify with *."),
        HeaderBlock(block_id="setup.follow_up", text="Reminders and follow-up"),
        _plain(SetupBlock.REMINDERS, "Reminder emails", values.reminders, placeholder="e.g. 24h, 1h", max_length=100,
               hint="How long before each interview participants and hosts are reminded (up to 5; \"none\" for no reminders)."),
        _number(SetupBlock.COMPLETION_GRACE, "Mark completed automatically after (minutes)", values.completion_grace,
                hint="Minutes after an interview ends before it is marked completed, unless someone marked it a no-show."),
        _input(SetupBlock.UNCONFIRMED_WARNING, "Warn about unconfirmed attendance (hours before)",
               NumberInputElement(action_id=ActionId.SETUP_FIELD, is_decimal_allowed=False,
                                  initial_value=values.unconfirmed_warning_hours or None),
               hint="Optional: tell the channel when a participant hasn't confirmed this many hours before. Empty: off."),
        HeaderBlock(block_id="setup.calendars", text="Calendars"),
        _choice(SetupBlock.CONFERENCING, "Meeting link", values.conferencing, CONFERENCING_CHOICES,
                hint="Google Meet needs the host's Google Calendar connected (`/interviews connect`); other hosts keep their room."),
        _choice(SetupBlock.CALENDAR_CONFLICTS, "Times hosts are busy in Google Calendar", values.calendar_conflicts,
                CONFLICT_CHOICES, hint="For hosts who connected Google Calendar: which of their events keep a time from being offered."),
    ]
    return View(
        type="modal", callback_id=CallbackId.STUDY_SETUP, private_metadata=metadata,
        title="Edit study" if editing else "New study", submit="Save changes" if editing else "Create study",
        close="Cancel", blocks=blocks,
    )


def notice_modal(message: str) -> View:
    """Replaces the form when it can't be saved for a reason no input can fix."""
    return View(
        type="modal", title="Study setup", close="Close",
        blocks=[SectionBlock(text=MarkdownTextObject(text=text.truncate(message, 3000)))],
    )


def saved_blocks(*, name: str, channel_id: str, created: bool, summary: Sequence[str], hosts_without_link: Sequence[str]) -> list[Block]:
    """The ephemeral reply after saving: what changed, and what to do next."""
    done = f"✅ *{text.escape(name)}* now lives in <#{channel_id}>." if created else f"✅ Updated *{text.escape(name)}*."
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=done + "\n" + "\n".join(summary)))]
    if hosts_without_link:
        people = ", ".join(f"<@{u}>" for u in hosts_without_link)
        blocks.append(SectionBlock(text=MarkdownTextObject(text=f"⚠️ No meeting link yet for {people}: add one with `/interviews setup` before participants book.")))
    step = (
        "Next: add participants and send them their scheduling links; booked interviews show up in `/interviews` here."
        if created else
        "Interviews already booked keep their time and link. `/interviews` lists them."
    )
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=step)]))
    return blocks
