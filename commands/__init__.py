"""Slack listeners only: parse the payload, call a service, render blocks.

Each listener module exposes ``register(app)``; ``register_all`` wires them into a Bolt app once,
at start, after the middleware that hands every listener the domain services.
"""

from slack_bolt import App

from bot.services import Services
from commands import book, details, errors, interviews, invite, services_context, setup

LISTENER_MODULES = (errors, interviews, details, setup, invite, book)


def register_all(app: App, services: Services) -> None:
    services_context.install(app, services)
    for module in LISTENER_MODULES:
        module.register(app)
