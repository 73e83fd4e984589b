"""Configuration, read once from the environment and an optional ``.env`` file."""

from pathlib import Path
from typing import Annotated

from pydantic import AnyHttpUrl, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from storage.db import DatabaseUrlError, normalize_database_url

Port = Annotated[int, Field(ge=1, le=65535)]
# Never echoed back in an error message.
_SECRET_FIELDS = {
    "database_url", "slack_bot_token", "slack_signing_secret", "slack_app_token", "secret_key",
    "smtp_password", "notetaker_secret", "google_client_secret",
}


class ConfigError(Exception):
    """A setting is missing or malformed; the message is one line that names the variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    database_url: str = "sqlite:///interview-desk.db"

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: AnyHttpUrl = AnyHttpUrl("https://slack.com/api/")

    public_base_url: AnyHttpUrl | None = None
    secret_key: SecretStr | None = None

    smtp_host: str | None = None
    smtp_port: Port = 587
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = True
    mail_from: str = "Interview Desk <interviews@localhost>"
    outbox_dir: Path = Path("outbox")

    # Shared with each study's notetaker service, which checks our requests' signatures.
    notetaker_secret: SecretStr | None = None

    # Google Calendar (optional): hosts who connect get events with Meet links in their calendar.
    # The OAuth client's redirect URI is PUBLIC_BASE_URL/google/oauth/callback. The URLs are
    # Google's own; override them only for a proxy or a test server.
    google_client_id: str | None = None
    google_client_secret: SecretStr | None = None
    google_api_url: AnyHttpUrl = AnyHttpUrl("https://www.googleapis.com/")
    google_auth_url: AnyHttpUrl = AnyHttpUrl("https://accounts.google.com/o/oauth2/v2/auth")
    google_token_url: AnyHttpUrl = AnyHttpUrl("https://oauth2.googleapis.com/token")
    google_revoke_url: AnyHttpUrl = AnyHttpUrl("https://oauth2.googleapis.com/revoke")

    host: str = "127.0.0.1"
    port: Port = 8000

    # The outbox (emails, Slack posts, calendar writes), drained by every `serve` process.
    # How often each server looks for due items.
    outbox_tick_seconds: float = Field(default=2.0, gt=0, le=3600)
    # How long a server holds the items it is delivering; those of a server that dies mid-batch
    # wait this long for another. Keep it over twice the longest delivery (the SMTP timeout is
    # 30 s): a server renews its hold once half is used, so no delivery outlives it.
    outbox_lease_seconds: float = Field(default=300.0, gt=0)
    # Slack allows about one message per second per channel: posts to one channel go out no
    # faster than one per this many seconds on average, in bursts of at most SLACK_CHANNEL_BURST
    # (so a card edit and its note go out together). 0 turns pacing off.
    slack_channel_pace_seconds: float = Field(default=1.0, ge=0)
    slack_channel_burst: int = Field(default=3, ge=1, le=50)
    # How long a submitted action modal's acknowledgement waits for its change. Done by then, a
    # problem is shown next to its field; later (only when many changes queue up), the modal
    # says "Saving…" at once and is updated with the outcome. Slack allows 3 s in all.
    slack_inline_answer_seconds: float = Field(default=0.05, ge=0, le=2.5)

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        try:
            return normalize_database_url(value).render_as_string(hide_password=False)
        except DatabaseUrlError as exc:
            raise ValueError(str(exc)) from exc

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("xoxb-"):
            raise ValueError("a bot token starts with xoxb-")
        return value

    @field_validator("slack_app_token")
    @classmethod
    def _app_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("xapp-"):
            raise ValueError("an app-level token starts with xapp-")
        return value

    @field_validator(
        "slack_bot_token", "slack_signing_secret", "slack_app_token", "secret_key",
        "smtp_host", "public_base_url", "notetaker_secret", "google_client_id", "google_client_secret",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        # `SLACK_APP_TOKEN=` in a .env file means "not set", not "the empty token".
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def base_url(self) -> str:
        """Where participants reach this server, without a trailing slash."""
        if self.public_base_url is not None:
            return str(self.public_base_url).rstrip("/")
        return f"http://{self.host}:{self.port}"

    @property
    def google_configured(self) -> bool:
        return self.google_client_id is not None and self.google_client_secret is not None

    def missing_slack_credentials(self) -> list[str]:
        missing = []
        if self.slack_bot_token is None:
            missing.append("SLACK_BOT_TOKEN")
        if self.slack_signing_secret is None:
            missing.append("SLACK_SIGNING_SECRET")
        return missing


def load_settings(**overrides: object) -> Settings:
    """Read the settings, turning a validation failure into one line per bad variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else "settings"
            message = error["msg"].removeprefix("Value error, ")
            given = error.get("input")
            shown = ""
            if field not in _SECRET_FIELDS and isinstance(given, str | int) and given != "":
                shown = f" (got {given!r})"
            name = field.upper()
            problems.append(f"{name}: {message}{shown}")
        raise ConfigError("invalid configuration: " + "; ".join(problems)) from None
