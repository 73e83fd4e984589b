"""The App Home tab: published each time a user opens it, with their own upcoming interviews."""

from typing import Any

from slack_bolt import BoltContext
from slack_sdk import WebClient

from blocks.home import home_view
from bot.services.home import HomeService
from commands.errors import Listeners
from commands.services_context import services, workspace_id


def home_service(context: BoltContext) -> HomeService:
    return services(context).home


def home_opened(event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    """Bolt acknowledges events before running this; the tab is a few indexed queries."""
    user = event.get("user")
    if event.get("tab") != "home" or not isinstance(user, str) or not user:
        return  # the Messages tab, or not a user
    page = home_service(context).upcoming_for(workspace_id(context), user)
    client.views_publish(user_id=user, view=home_view(page))


def register(app: Listeners) -> None:
    app.event("app_home_opened")(home_opened)
