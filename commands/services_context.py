"""Middleware that puts the domain services into every listener's Bolt context."""

from collections.abc import Callable

from slack_bolt import App, BoltContext

from bot.domain import Actor
from bot.services import Services

SERVICES_KEY = "services"


def install(app: App, services: Services) -> None:
    def inject(context: BoltContext, next: Callable[[], None]) -> None:  # noqa: A002 (Bolt's name)
        context[SERVICES_KEY] = services
        next()

    app.use(inject)


def services(context: BoltContext) -> Services:
    return context[SERVICES_KEY]


def workspace_id(context: BoltContext) -> str:
    """The workspace the request came from (the organization for org-wide installs)."""
    return context.team_id or context.enterprise_id or ""


def actor(context: BoltContext) -> Actor:
    """The Slack user behind the request, in the workspace the request came from."""
    return Actor.slack_user(workspace_id(context), context.user_id or "")
