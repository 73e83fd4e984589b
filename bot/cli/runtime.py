"""What CLI commands share: settings, the migrated database and the services, made on first use."""

import logging
from collections.abc import Callable
from functools import cached_property
from typing import Any, TypeVar

import click
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.composition import build_services
from bot.services import Services
from bot.services.errors import InvalidInput
from bot.settings import Settings, load_settings
from storage.db import Database
from storage.migrate import upgrade

F = TypeVar("F", bound=Callable[..., Any])


class Runtime:
    def __init__(self, database_url: str | None = None, **overrides: object) -> None:
        self._overrides = {"database_url": database_url} if database_url else {}
        self._overrides.update({k: v for k, v in overrides.items() if v is not None})

    @cached_property
    def settings(self) -> Settings:
        return load_settings(**self._overrides)

    @cached_property
    def db(self) -> Database:
        db = Database(self.settings.database_url)
        upgrade(db.engine)
        return db

    @cached_property
    def services(self) -> Services:
        return build_services(self.settings, self.db)

    def workspace_id(self) -> str:
        """The workspace of SLACK_BOT_TOKEN, for commands that were not given --workspace."""
        if self.settings.slack_bot_token is None:
            raise InvalidInput("Pass --workspace T… (or set SLACK_BOT_TOKEN so it can be looked up).")
        # A one-off lookup: fail fast, without retries, and quietly (the CLI prints one line).
        quiet = logging.getLogger("interview_desk.cli.slack")
        quiet.setLevel(logging.CRITICAL + 1)
        client = WebClient(
            token=self.settings.slack_bot_token.get_secret_value(),
            base_url=str(self.settings.slack_api_url),
            timeout=10,
            logger=quiet,
        )
        try:
            return str(client.auth_test()["team_id"])
        except SlackApiError as exc:
            raise InvalidInput(
                f"Slack did not accept SLACK_BOT_TOKEN ({exc.response.get('error')}); pass --workspace T…."
            ) from None
        except (OSError, SlackClientError) as exc:  # URLError, timeouts, refused connections
            raise InvalidInput(
                f"Could not reach Slack at {self.settings.slack_api_url} ({exc}); pass --workspace T…."
            ) from None


pass_runtime = click.make_pass_decorator(Runtime)
