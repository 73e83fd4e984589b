"""What CLI commands share: settings, the migrated database and the services, made on first use."""

import logging
from functools import cached_property

import click
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.composition import build_services
from bot.integrations.slack_profiles import lookup_profiles
from bot.services import Services
from bot.services.errors import InvalidInput
from bot.settings import Settings, load_settings
from storage.db import Database
from storage.migrate import upgrade


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
        client = self.slack_client()
        assert client is not None
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


    def slack_client(self) -> WebClient | None:
        """For one-off lookups: fails fast, without retries, and quietly (the CLI prints one line)."""
        if self.settings.slack_bot_token is None:
            return None
        quiet = logging.getLogger("interview_desk.cli.slack")
        quiet.setLevel(logging.CRITICAL + 1)
        return WebClient(
            token=self.settings.slack_bot_token.get_secret_value(),
            base_url=str(self.settings.slack_api_url),
            timeout=10,
            logger=quiet,
        )

    def remember_profiles(self, workspace_id: str, user_ids: list[str]) -> None:
        """Names and emails from Slack, when the bot token allows; calendar invites need them."""
        client = self.slack_client()
        if client is not None:
            self.services.profiles.remember(workspace_id, lookup_profiles(client, user_ids))


pass_runtime = click.make_pass_decorator(Runtime)
