"""Slack listeners only: parse the payload, call a service, render blocks.

Each listener module exposes ``register(app)``; ``register_all`` wires them into a Bolt app once,
at start, after the middleware that hands every listener the domain services. Modules with
interview actions also expose ``ACTION_HANDLERS``: one dispatcher routes every action button and
"More…" option to them (``commands/interview_actions.py``).
"""

from collections.abc import Mapping

from slack_bolt import App

from blocks.ids import ACTION_BUTTON, ActionId
from bot.actions import InterviewAction
from bot.follow_ups import FollowUps
from bot.jobs.outbox_worker import OutboxWorker
from bot.services import Services
from commands import (
    attendance,
    book,
    calendar,
    changes,
    details,
    emails,
    errors,
    home,
    interview_actions,
    interviews,
    invite,
    lifecycle,
    observers,
    outcomes,
    services_context,
    setup,
)

LISTENER_MODULES = (errors, interviews, details, setup, invite, book, calendar, changes, outcomes, emails, observers, home, attendance, lifecycle)
ACTION_MODULES = (details, changes, outcomes, emails, observers, attendance, lifecycle)


def action_handlers() -> Mapping[InterviewAction, interview_actions.Handler]:
    handlers: dict[InterviewAction, interview_actions.Handler] = {}
    for module in ACTION_MODULES:
        for action, handler in module.ACTION_HANDLERS.items():
            if action in handlers:
                raise RuntimeError(f"two handlers for {action}")
            handlers[action] = handler
    return handlers


def register_all(
    app: App, services: Services, worker: OutboxWorker | None, follow_ups: FollowUps, *, inline_answer: float,
) -> None:
    services_context.install(app, services, worker, follow_ups, inline_answer)
    listeners = errors.Listeners(app)
    for module in LISTENER_MODULES:
        module.register(listeners)
    dispatch = interview_actions.dispatcher(action_handlers())
    listeners.action(ActionId.INTERVIEW_MORE)(dispatch)
    listeners.action(ACTION_BUTTON)(dispatch)
