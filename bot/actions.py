"""The team's actions on one interview: what they are, and which apply to an interview now.

A vocabulary of its own: the card, the list, the details modal and the Home tab show the same
buttons and "More…" options from it, and the listeners route every click by it.
"""

from enum import StrEnum

from bot.domain import InterviewSummary
from storage.enums import InterviewStatus


class InterviewAction(StrEnum):
    """Everything the team can do to one interview from Slack (joining is a plain link)."""

    VIEW_DETAILS = "view_details"
    RESCHEDULE = "reschedule"
    CHANGE_HOST = "change_host"
    EDIT_DETAILS = "edit_details"
    CHANGE_LIMIT = "change_limit"
    ADD_GUEST = "add_guest"
    OBSERVER_ROOM = "observer_room"
    SEND_OBSERVER_BOT = "observer_bot"
    CUSTOM_EMAIL = "custom_email"
    REMINDER_EMAIL = "reminder_email"
    RESCHEDULE_EMAIL = "reschedule_email"
    INCENTIVE_EMAIL = "incentive_email"
    SCREENER_RESPONSES = "screener"
    COPY_LINK = "copy_link"
    MARK_COMPLETED = "completed"
    MARK_NO_SHOW = "no_show"
    CANCEL = "cancel"
    # One-click answers to what the bot posts in the card's thread (never in "More…"):
    ASK_TO_RESCHEDULE = "ask_to_reschedule"  # a decline: send the reschedule request as written
    SEND_REMINDER_NOW = "send_reminder"  # unconfirmed attendance: the reminder, now
    RELEASE_SLOT = "release_slot"  # unconfirmed attendance: cancel, and offer the time to others
    RATE = "rate"  # the post-interview prompt: 1–5 (``ActionChoice.value``)
    CONFIRM_ATTENDED = "attended"  # the post-interview prompt: the participant came


A = InterviewAction


def available_actions(s: InterviewSummary) -> tuple[InterviewAction, ...]:
    """The actions that apply to an interview now, most useful first.

    Pure, so the buttons shown and the checks made when one is clicked agree. The services
    still check the state themselves: a click may come from an old message.
    """
    has_people = bool(s.participants)
    people = (A.CUSTOM_EMAIL, A.COPY_LINK) if has_people else ()
    screener = (A.SCREENER_RESPONSES,) if has_people and s.features.has_screener else ()
    if s.status is InterviewStatus.CANCELED:
        return (A.VIEW_DETAILS, *people, *screener)
    if s.status is InterviewStatus.COMPLETED:
        incentive = (A.INCENTIVE_EMAIL,) if has_people and s.features.has_incentive else ()
        return (A.VIEW_DETAILS, *incentive, A.RESCHEDULE, A.MARK_NO_SHOW, *people, *screener)
    if s.status is InterviewStatus.NO_SHOW:
        ask = (A.RESCHEDULE_EMAIL,) if has_people else ()
        return (A.VIEW_DETAILS, A.RESCHEDULE, *ask, A.MARK_COMPLETED, *people, *screener)
    if s.has_ended:  # upcoming, but over: waiting for someone to say how it went
        ask = (A.RESCHEDULE_EMAIL,) if has_people else ()
        return (A.VIEW_DETAILS, A.MARK_COMPLETED, A.MARK_NO_SHOW, A.RESCHEDULE, *ask, *people, *screener, A.CANCEL)
    actions: list[InterviewAction] = [A.VIEW_DETAILS, A.RESCHEDULE, A.CHANGE_HOST, A.EDIT_DETAILS]
    if s.is_group:
        actions.append(A.CHANGE_LIMIT)
    actions.append(A.ADD_GUEST)
    if s.features.observer_url:
        actions.append(A.OBSERVER_ROOM)
    if s.conferencing_url:
        actions.append(A.SEND_OBSERVER_BOT)
    if has_people:
        actions += [A.CUSTOM_EMAIL, A.REMINDER_EMAIL, A.RESCHEDULE_EMAIL]
    actions += screener
    if has_people:
        actions.append(A.COPY_LINK)
    if s.has_started:
        actions += [A.MARK_COMPLETED, A.MARK_NO_SHOW]
    actions.append(A.CANCEL)
    return tuple(actions)


def primary_actions(s: InterviewSummary) -> tuple[InterviewAction, ...]:
    """The one or two actions shown as buttons; the rest sit behind "More…"."""
    if s.status is InterviewStatus.CANCELED:
        return ()
    if s.status is InterviewStatus.COMPLETED:
        return (A.INCENTIVE_EMAIL,) if s.incentive_due else ()
    if s.status is InterviewStatus.NO_SHOW:
        return (A.RESCHEDULE,)
    if s.has_ended:
        return (A.MARK_COMPLETED, A.MARK_NO_SHOW)
    return (A.RESCHEDULE,)
