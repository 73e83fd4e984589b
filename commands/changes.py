"""Changes to an interview's time or calendar event: reschedule, change host, edit details,
participant limit, add a guest.

A click opens the change's modal (after checking the change applies to the interview as the
person saw it); the submission runs it through ``finish_submission``: refusals next to their
field, then "working…", the updated invites and the card delivered at once, and the outcome.
"""

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from blocks import text
from blocks.change_modals import (
    INPUT,
    OVERRIDE_AVAILABILITY,
    ChangeBlock,
    add_guest_modal,
    change_host_modal,
    change_limit_modal,
    edit_details_modal,
    reschedule_modal,
)
from blocks.ids import BadValue, CallbackId
from blocks.progress import notice_view
from bot.actions import InterviewAction
from bot.domain import Actor, AttendeeView
from bot.integrations.slack_profiles import lookup_profiles
from bot.services import Services
from bot.services.errors import DomainError, InvalidField
from bot.services.interview_actions import ActionResult, Seen
from bot.services.interview_changes import (
    ChangeForm,
    DetailsResult,
    InterviewChangeService,
)
from commands.errors import STALE
from commands.interview_actions import ActionRequest, Handler, modal_state
from commands.services_context import actor, services
from commands.submissions import finish_submission

A = InterviewAction

TITLES = {
    A.RESCHEDULE: "Reschedule interview",
    A.CHANGE_HOST: "Change host",
    A.EDIT_DETAILS: "Edit details",
    A.CHANGE_LIMIT: "Participant limit",
    A.ADD_GUEST: "Add a guest",
}

# Where a refusal about each field of the service's forms is shown.
_REFUSAL_BLOCKS = {
    "when": ChangeBlock.WHEN, "reason": ChangeBlock.REASON, "host": ChangeBlock.HOST, "host_link": ChangeBlock.HOST_LINK,
    "link": ChangeBlock.LINK,
    "description": ChangeBlock.DESCRIPTION, "password": ChangeBlock.PASSWORD, "limit": ChangeBlock.LIMIT,
    "guest": ChangeBlock.GUEST_USER, "email": ChangeBlock.GUEST_EMAIL,
}


def change_service(context: BoltContext) -> InterviewChangeService:
    return services(context).changes


# ---------------------------------------------------------------- opening the modals


def _form(request: ActionRequest, action: InterviewAction) -> ChangeForm:
    return change_service(request.context).form(request.interview_id, request.actor, request.seen, action)


def open_reschedule(request: ActionRequest) -> None:
    form = _form(request, A.RESCHEDULE)
    request.open_modal(reschedule_modal(form.interview, timezone=form.study.timezone, now=form.now,
                                        private_metadata=request.modal_state()))


def open_change_host(request: ActionRequest) -> None:
    form = _form(request, A.CHANGE_HOST)
    choices = [(c.slack_user_id, c.name, c.has_room) for c in form.host_choices]
    request.open_modal(change_host_modal(form.interview, timezone=form.study.timezone, choices=choices,
                                         private_metadata=request.modal_state()))


def open_edit_details(request: ActionRequest) -> None:
    form = _form(request, A.EDIT_DETAILS)
    request.open_modal(edit_details_modal(form.interview, timezone=form.study.timezone, description=form.description,
                                          password=form.conferencing_password, private_metadata=request.modal_state()))


def open_change_limit(request: ActionRequest) -> None:
    form = _form(request, A.CHANGE_LIMIT)
    request.open_modal(change_limit_modal(form.interview, timezone=form.study.timezone,
                                          private_metadata=request.modal_state()))


def open_add_guest(request: ActionRequest) -> None:
    form = _form(request, A.ADD_GUEST)
    request.open_modal(add_guest_modal(form.interview, timezone=form.study.timezone,
                                       private_metadata=request.modal_state()))


ACTION_HANDLERS: dict[InterviewAction, Handler] = {
    A.RESCHEDULE: open_reschedule,
    A.CHANGE_HOST: open_change_host,
    A.EDIT_DETAILS: open_edit_details,
    A.CHANGE_LIMIT: open_change_limit,
    A.ADD_GUEST: open_add_guest,
}


# ---------------------------------------------------------------- submissions

# The change, run by its service: ``services.changes`` or ``services.attendee_changes``.
Change = Callable[[Services, int, Actor, Seen], ActionResult]


def _input(view: dict[str, Any], block: ChangeBlock) -> dict[str, Any]:
    return (((view.get("state") or {}).get("values") or {}).get(block) or {}).get(INPUT) or {}


def _submit(
    ack: Ack, body: dict[str, Any], context: BoltContext, action: InterviewAction, run: Change,
    done: Callable[[ActionResult], str],
) -> None:
    """Run ``run`` for the interview the modal was opened for, as the person saw it then."""
    title = TITLES[action]
    try:
        state = modal_state(body.get("view") or {})
    except BadValue:  # not a modal of ours, or hand-crafted
        ack(response_action="update", view=notice_view(title, STALE))
        return
    choice = state.choice
    all_services, who, seen = services(context), actor(context), Seen.of(choice.seen_start, choice.seen_status)
    finish_submission(
        ack, body, context, title=title, run=lambda: run(all_services, choice.interview_id, who, seen), done=done,
        error_block=_refusal_block,
    )


def _refusal_block(error: DomainError) -> str | None:
    """A field's problem goes next to it; anything else (not allowed, canceled…) replaces the modal."""
    return _REFUSAL_BLOCKS.get(error.field) if isinstance(error, InvalidField) else None


def reschedule_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    try:
        starts_at = datetime.fromtimestamp(int(_input(view, ChangeBlock.WHEN)["selected_date_time"]), UTC)
    except (KeyError, TypeError, ValueError, OverflowError, OSError):
        ack(response_action="errors", errors={ChangeBlock.WHEN: "Pick the new date and time."})
        return
    chosen = _input(view, ChangeBlock.OVERRIDE).get("selected_options") or []
    override = any(o.get("value") == OVERRIDE_AVAILABILITY for o in chosen)
    reason = _input(view, ChangeBlock.REASON).get("value")
    _submit(ack, body, context, A.RESCHEDULE, lambda s, i, a, seen: s.changes.reschedule(
        i, a, seen, starts_at=starts_at, override_availability=override, reason=reason,
    ), _rescheduled)


def change_host_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    host = (_input(view, ChangeBlock.HOST).get("selected_option") or {}).get("value")
    if not host:
        ack(response_action="errors", errors={ChangeBlock.HOST: "Choose the new host."})
        return
    link = _input(view, ChangeBlock.HOST_LINK).get("value")
    _submit(ack, body, context, A.CHANGE_HOST,
            lambda s, i, a, seen: s.changes.change_host(i, a, seen, host_id=str(host), conferencing_url=link), _host_changed)


def edit_details_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    description = _input(view, ChangeBlock.DESCRIPTION).get("value")
    link = _input(view, ChangeBlock.LINK).get("value")
    password = _input(view, ChangeBlock.PASSWORD).get("value")
    _submit(ack, body, context, A.EDIT_DETAILS, lambda s, i, a, seen: s.changes.edit_details(
        i, a, seen, description=description, conferencing_url=link, conferencing_password=password,
    ), _details_updated)


def change_limit_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    try:
        limit = int(str(_input(view, ChangeBlock.LIMIT).get("value")).strip())
    except ValueError:
        ack(response_action="errors", errors={ChangeBlock.LIMIT: "Type a whole number, e.g. 6."})
        return
    _submit(ack, body, context, A.CHANGE_LIMIT, lambda s, i, a, seen: s.attendee_changes.change_limit(i, a, seen, limit=limit), _limit_changed)


def add_guest_submitted(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext,
) -> None:
    user = _input(view, ChangeBlock.GUEST_USER).get("selected_user") or None
    email = (_input(view, ChangeBlock.GUEST_EMAIL).get("value") or "").strip() or None
    # Someone outside the team has no row of ours: their name and address come from Slack.
    profile = lookup_profiles(client, [user]).get(user) if user and not email else None
    _submit(ack, body, context, A.ADD_GUEST, lambda s, i, a, seen: s.attendee_changes.add_guest(
        i, a, seen, slack_user_id=user, email=email, profile=profile,
    ), lambda result: _guest_added(result, user, email))


# ---------------------------------------------------------------- what to tell the person


def _and(items: list[str]) -> str:
    if len(items) < 2:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _invites_sent(result: ActionResult) -> str:
    summary = result.interview
    names = [text.escape(a.name) for a in (*summary.participants, *summary.hosts, *summary.guests) if a.email]
    if not names:
        return "Nobody on the invite has an email address, so no invites were sent."
    return f"Updated invites are on their way to {_and(names)}."


def _rescheduled(result: ActionResult) -> str:
    at = text.date_token(result.interview.starts_at)
    if not result.changed:
        return f"The interview is already at *{at}*, so nothing was changed and no email was sent."
    return f"Rescheduled to *{at}*. {_invites_sent(result)}"


def _host_changed(result: ActionResult) -> str:
    hosts = result.interview.hosts
    host = text.person(hosts[0]) if hosts else "The new host"
    if not result.changed:
        return f"{host} is already the host, so nothing was changed."
    lines = [f"{host} is now the host."]
    organizer = next((a for a in result.interview.attendees if a.is_organizer), None)
    if organizer is not None and hosts and organizer.slack_user_id != hosts[0].slack_user_id:
        lines.append(f"{text.person(organizer)} stays on the invite as its organizer.")
    if hosts and not hosts[0].email:
        lines.append(f"We have no email address for {host}, so they got no calendar invite.")
    lines.append(_invites_sent(result))
    return " ".join(lines)


def _details_updated(result: ActionResult) -> str:
    if not result.changed:
        return "Nothing to update: the details are as they were, so no email was sent."
    fields = result.fields if isinstance(result, DetailsResult) else ()
    return f"Updated the {_and(list(fields)) or 'details'}. {_invites_sent(result)}"


def _limit_changed(result: ActionResult) -> str:
    summary = result.interview
    if not result.changed:
        return f"The participant limit is already {summary.participant_limit}, so nothing was changed."
    free = summary.participant_limit - len(summary.participants)
    seats = f"{free} seat{'s' if free != 1 else ''} free" if free else "no seat free"
    return f"The participant limit is now *{summary.participant_limit}* ({len(summary.participants)} booked, {seats})."


def _guest_added(result: ActionResult, user: str | None, email: str | None) -> str:
    label = f"<@{user}>" if user else text.escape(email or "The guest")
    if not result.changed:
        return f"{label} is already on the invite, so nothing was sent."
    guest = _guest(result.interview.guests, user, email)
    if guest is not None and not guest.email:
        return (f"Added {label} as a guest. Slack has no email address for them, so no calendar invite was sent; "
                "the card shows them on the interview.")
    return f"Added {label} as a guest. {_invites_sent(result)}"


def _guest(guests: tuple[AttendeeView, ...], user: str | None, email: str | None) -> AttendeeView | None:
    return next((g for g in guests if (user and g.slack_user_id == user) or (email and g.email == email.lower())), None)


_LISTENERS: Mapping[CallbackId, Callable[..., None]] = {
    CallbackId.RESCHEDULE: reschedule_submitted,
    CallbackId.CHANGE_HOST: change_host_submitted,
    CallbackId.EDIT_DETAILS: edit_details_submitted,
    CallbackId.CHANGE_LIMIT: change_limit_submitted,
    CallbackId.ADD_GUEST: add_guest_submitted,
}


def register(app: App) -> None:
    for callback_id, listener in _LISTENERS.items():
        app.view(callback_id)(listener)
