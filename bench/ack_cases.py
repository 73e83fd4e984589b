"""Every Slack request the acknowledgement benchmark sends: ``/interviews``, View details, and
each interview action's click and, where it has a modal, its submission.

A case says which interview state it needs (``Pool``), whether each request needs an interview
of its own (it changes it), how to build the signed request for one interview, exactly as Slack
sends it when the button, the "More…" option or the modal's submit is used, and what should
follow (``Expect``), so a run can tell that every request did what it is meant to do.
"""

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from bench.ack_seed import COHOST, HOST, WORKSPACE, Pool, Seeded
from blocks.change_modals import INPUT, OVERRIDE_AVAILABILITY, ChangeBlock
from blocks.email_modals import AMOUNT, BODY, CLAIM_URL, CODE, CURRENCY, SUBJECT
from blocks.email_modals import MESSAGE as INCENTIVE_MESSAGE
from blocks.ids import (
    ActionChoice,
    ActionId,
    ActionModalState,
    CallbackId,
    InterviewRef,
    action_button_id,
)
from blocks.outcome_modals import COMPLETED_CALLBACK
from blocks.outcome_modals import MESSAGE as CANCEL_MESSAGE
from blocks.screener_responses import TITLE as SCREENER_TITLE
from bot.actions import InterviewAction
from tests.support import slack_requests

A = InterviewAction
MOVED_BY_DAYS = 800  # a reschedule's new time: beyond every seeded interview, so it never clashes


class Entry(Enum):
    """How the request reaches the app; the floor answers each kind with a constant."""

    SLASH = "slash command"
    BUTTON = "button"
    MENU = "“More…” option"
    SUBMIT = "modal submission"


class Expect(Enum):
    """What shows that a request was handled as meant (checked once the server is quiet)."""

    ANSWER = "the list, in the acknowledgement or through response_url"
    MODAL = "a modal opened"
    REPLY = "an ephemeral reply"
    CHANGE = "the change made, its side effects queued"


@dataclass(frozen=True)
class Target:
    """One request's interview, and what makes the request unique."""

    interview: Seeded
    channel_id: str
    number: int  # unique across the run: view ids, guests' addresses
    response_url: str

    @property
    def view_id(self) -> str:
        return f"VBENCH{self.number:07d}"

    @property
    def trigger_id(self) -> str:
        """Its own, so the modal it opens can be told from the others'."""
        return f"bench{self.number}.trigger"


@dataclass(frozen=True)
class Case:
    label: str
    action: InterviewAction | None  # None: /interviews
    entry: Entry
    pool: Pool
    fresh: bool  # each request changes its interview, so needs one of its own
    expect: Expect
    body: Callable[[Target], str]
    modal: str | None = None  # the modal a MODAL case opens: its callback id, else its title

    def explain(self) -> str:
        return f"{self.entry.value}: {self.expect.value}"


# ---------------------------------------------------------------- request builders


def _choice(target: Target, action: InterviewAction, value: int | None = None) -> ActionChoice:
    """The routing value the app puts on the control, for the interview as listed."""
    seen = target.interview
    return ActionChoice(action=action, interview_id=seen.id, seen_start=int(seen.starts_at.timestamp()),
                        seen_status=seen.status, value=value)


def _in_channel(target: Target) -> dict[str, Any]:
    return {"user_id": HOST, "team_id": WORKSPACE, "channel_id": target.channel_id,
            "response_url": target.response_url, "trigger_id": target.trigger_id}


def slash(text: str = "") -> Callable[[Target], str]:
    def body(target: Target) -> str:
        return slack_requests.slash_command("/interviews", text, **_in_channel(target))
    return body


def view_details_button(target: Target) -> str:
    return slack_requests.block_actions(
        ActionId.VIEW_DETAILS, value=InterviewRef(interview_id=target.interview.id).encode(), **_in_channel(target))


def button(action: InterviewAction, value: int | None = None) -> Callable[[Target], str]:
    """A button on the card, a list row or a thread note (a rating's id ends in its value)."""
    def body(target: Target) -> str:
        action_id = action_button_id(action) + (f".{value}" if value is not None else "")
        return slack_requests.block_actions(
            action_id, value=_choice(target, action, value).encode(), **_in_channel(target))
    return body


def menu(action: InterviewAction) -> Callable[[Target], str]:
    """The action chosen in the "More…" select of the card."""
    def body(target: Target) -> str:
        return slack_requests.block_actions(
            ActionId.INTERVIEW_MORE, action_type="static_select",
            selected_option_value=_choice(target, action).encode(), **_in_channel(target))
    return body


State = Callable[[Target], dict[str, Any]]


def submit(callback_id: str, action: InterviewAction, state: State) -> Callable[[Target], str]:
    """The action's modal submitted, as opened from the card (its private_metadata)."""
    def body(target: Target) -> str:
        return slack_requests.view_submission(
            callback_id, state_values=state(target), user_id=HOST, team_id=WORKSPACE, view_id=target.view_id,
            private_metadata=ActionModalState(choice=_choice(target, action)).encode())
    return body


def _field(kind: str, **value: Any) -> dict[str, Any]:
    return {INPUT: {"type": kind, **value}}


def _typed(**blocks: str | None) -> dict[str, Any]:
    return {block: _field("plain_text_input", value=value) for block, value in blocks.items()}


def _reschedule(target: Target) -> dict[str, Any]:
    moved = int(target.interview.starts_at.timestamp()) + MOVED_BY_DAYS * 86400
    return {
        ChangeBlock.WHEN: _field("datetimepicker", selected_date_time=moved),
        ChangeBlock.OVERRIDE: _field("checkboxes", selected_options=[{"value": OVERRIDE_AVAILABILITY}]),
        ChangeBlock.REASON: _field("plain_text_input", value="The host is travelling."),
    }


def _change_host(target: Target) -> dict[str, Any]:
    return {ChangeBlock.HOST: _field("static_select", selected_option={"value": COHOST}),
            ChangeBlock.HOST_LINK: _field("url_text_input", value=None)}


def _edit_details(target: Target) -> dict[str, Any]:
    return {ChangeBlock.DESCRIPTION: _field("plain_text_input", value=f"Agenda, version {target.number}."),
            ChangeBlock.LINK: _field("url_text_input", value=target.interview.conferencing_url),
            ChangeBlock.PASSWORD: _field("plain_text_input", value=None)}


def _change_limit(target: Target) -> dict[str, Any]:
    return {ChangeBlock.LIMIT: _field("number_input", value="5")}


def _add_guest(target: Target) -> dict[str, Any]:
    return {ChangeBlock.GUEST_USER: _field("users_select", selected_user=None),
            ChangeBlock.GUEST_EMAIL: _field("email_text_input", value=f"guest-{target.number}@bench.example.com")}


def _compose(target: Target) -> dict[str, Any]:
    return _typed(**{SUBJECT: "About your interview", BODY: "Hi {name}, see you {time}. To change it: {manage_link}"})


def _incentive(target: Target) -> dict[str, Any]:
    state = _typed(**{AMOUNT: "25.00", CURRENCY: "EUR", CODE: f"THANKS-{target.number}",
                      INCENTIVE_MESSAGE: "Hi {name}, thank you for your time!"})
    state[CLAIM_URL] = _field("url_text_input", value=None)
    return state


def _cancel(target: Target) -> dict[str, Any]:
    return _typed(**{CANCEL_MESSAGE: "We are sorry: the study has to stop early."})


def _nothing(target: Target) -> dict[str, Any]:
    return {}


# ---------------------------------------------------------------- the catalogue


def _opens(label: str, action: InterviewAction, entry: Entry, pool: Pool, modal: str) -> Case:
    body = button(action) if entry is Entry.BUTTON else menu(action)
    return Case(label, action, entry, pool, False, Expect.MODAL, body, modal)


def _acts(label: str, action: InterviewAction, entry: Entry, pool: Pool, value: int | None = None) -> Case:
    body = button(action, value) if entry is Entry.BUTTON else menu(action)
    return Case(label, action, entry, pool, True, Expect.CHANGE, body)


def _submits(label: str, action: InterviewAction, callback_id: str, pool: Pool, state: State) -> Case:
    return Case(label, action, Entry.SUBMIT, pool, True, Expect.CHANGE, submit(callback_id, action, state))


B, M = Entry.BUTTON, Entry.MENU
U, D, G, E, C = Pool.UPCOMING, Pool.DECLINED, Pool.GROUP, Pool.ENDED, Pool.COMPLETED

CASES: tuple[Case, ...] = (
    Case("/interviews", None, Entry.SLASH, U, False, Expect.ANSWER, slash()),
    Case("View details", A.VIEW_DETAILS, B, U, False, Expect.MODAL, view_details_button,
         CallbackId.INTERVIEW_DETAILS),
    _opens("Reschedule · open", A.RESCHEDULE, B, U, CallbackId.RESCHEDULE),
    _submits("Reschedule · submit", A.RESCHEDULE, CallbackId.RESCHEDULE, U, _reschedule),
    _opens("Change host · open", A.CHANGE_HOST, M, U, CallbackId.CHANGE_HOST),
    _submits("Change host · submit", A.CHANGE_HOST, CallbackId.CHANGE_HOST, U, _change_host),
    _opens("Edit details · open", A.EDIT_DETAILS, M, U, CallbackId.EDIT_DETAILS),
    _submits("Edit details · submit", A.EDIT_DETAILS, CallbackId.EDIT_DETAILS, U, _edit_details),
    _opens("Participant limit · open", A.CHANGE_LIMIT, M, G, CallbackId.CHANGE_LIMIT),
    _submits("Participant limit · submit", A.CHANGE_LIMIT, CallbackId.CHANGE_LIMIT, G, _change_limit),
    _opens("Add guest · open", A.ADD_GUEST, M, U, CallbackId.ADD_GUEST),
    _submits("Add guest · submit", A.ADD_GUEST, CallbackId.ADD_GUEST, U, _add_guest),
    Case("Observer room", A.OBSERVER_ROOM, M, U, False, Expect.REPLY, menu(A.OBSERVER_ROOM)),
    _acts("Send observer bot", A.SEND_OBSERVER_BOT, M, U),
    _opens("Custom email · open", A.CUSTOM_EMAIL, M, U, CallbackId.COMPOSE_EMAIL),
    _submits("Custom email · submit", A.CUSTOM_EMAIL, CallbackId.COMPOSE_EMAIL, U, _compose),
    _opens("Reminder email · open", A.REMINDER_EMAIL, M, U, CallbackId.COMPOSE_EMAIL),
    _submits("Reminder email · submit", A.REMINDER_EMAIL, CallbackId.COMPOSE_EMAIL, U, _compose),
    _opens("Reschedule request · open", A.RESCHEDULE_EMAIL, M, U, CallbackId.COMPOSE_EMAIL),
    _submits("Reschedule request · submit", A.RESCHEDULE_EMAIL, CallbackId.COMPOSE_EMAIL, U, _compose),
    _opens("Incentive · open", A.INCENTIVE_EMAIL, B, C, CallbackId.INCENTIVE_EMAIL),
    _submits("Incentive · submit", A.INCENTIVE_EMAIL, CallbackId.INCENTIVE_EMAIL, C, _incentive),
    _opens("Screener responses", A.SCREENER_RESPONSES, M, U, SCREENER_TITLE),
    Case("Copy link", A.COPY_LINK, M, U, False, Expect.REPLY, menu(A.COPY_LINK)),
    _acts("Mark completed · button", A.MARK_COMPLETED, B, E),
    _opens("Mark completed · open", A.MARK_COMPLETED, M, E, COMPLETED_CALLBACK),
    _submits("Mark completed · submit", A.MARK_COMPLETED, COMPLETED_CALLBACK, E, _nothing),
    _acts("Mark no-show · button", A.MARK_NO_SHOW, B, E),
    _opens("Mark no-show · open", A.MARK_NO_SHOW, M, E, CallbackId.NO_SHOW),
    _submits("Mark no-show · submit", A.MARK_NO_SHOW, CallbackId.NO_SHOW, E, _nothing),
    _opens("Cancel · open", A.CANCEL, M, U, CallbackId.CANCEL),
    _submits("Cancel · submit", A.CANCEL, CallbackId.CANCEL, U, _cancel),
    _acts("Ask to reschedule (thread)", A.ASK_TO_RESCHEDULE, B, D),
    _acts("Send reminder now (thread)", A.SEND_REMINDER_NOW, B, U),
    _acts("Release slot (thread)", A.RELEASE_SLOT, B, U),
    _acts("Rate 4/5 (thread)", A.RATE, B, C, value=4),
    _acts("Attended (thread)", A.CONFIRM_ATTENDED, B, C),
)

# A few of each kind, for trying the benchmark quickly.
QUICK = ("/interviews", "View details", "Reschedule · open", "Reschedule · submit", "Custom email · submit",
         "Mark completed · button")


def _uncovered() -> set[InterviewAction]:
    return set(InterviewAction) - {case.action for case in CASES if case.action is not None}


if _uncovered():  # a new action needs its case here, or the table silently leaves it out
    raise RuntimeError(f"no benchmark case for {sorted(a.value for a in _uncovered())}")
