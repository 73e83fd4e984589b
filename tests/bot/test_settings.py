"""`load_settings`: environment and `.env`, normalisation, and error messages that keep secrets."""

from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from bot.settings import ConfigError, Settings, load_settings
from storage.db import Database

SECRET = "hunter2-do-not-print"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No setting from the machine running the tests, and a working directory without `.env`."""
    for field in Settings.model_fields:
        monkeypatch.delenv(field.upper(), raising=False)
        monkeypatch.delenv(field, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def config_error(**env: str) -> str:
    """The message of the ConfigError that ``env`` causes."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        with pytest.raises(ConfigError) as raised:
            load_settings()
    message = str(raised.value)
    assert "\n" not in message
    return message


def test_defaults(clean_environment: Path) -> None:
    settings = load_settings()

    url = make_url(settings.database_url)
    assert url.get_backend_name() == "sqlite"
    assert url.database == "interview-desk.db"
    assert not Path(url.database).is_absolute()  # a file in the working directory
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert str(settings.slack_api_url) == "https://slack.com/api/"
    assert settings.base_url == "http://127.0.0.1:8000"
    assert settings.slack_bot_token is None and settings.slack_app_token is None
    assert settings.missing_slack_credentials() == ["SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"]


def test_environment_variables_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "9001")
    monkeypatch.setenv("HOST", "0.0.0.0")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1-2-abc")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SECRET)
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://desk.example.com/")

    settings = load_settings()

    assert (settings.host, settings.port) == ("0.0.0.0", 9001)
    assert settings.slack_bot_token is not None and settings.slack_bot_token.get_secret_value() == "xoxb-1-2-abc"
    assert settings.base_url == "https://desk.example.com"
    assert settings.missing_slack_credentials() == []
    assert SECRET not in repr(settings)


def test_a_dotenv_file_in_the_working_directory_is_read(clean_environment: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (clean_environment / ".env").write_text(
        "PORT=8123\nSLACK_BOT_TOKEN=xoxb-from-file\nSLACK_APP_TOKEN=\nDATABASE_URL=postgres://desk@db.example.com/desk\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("PORT", "8124")  # the environment wins over the file

    settings = load_settings()

    assert settings.port == 8124
    assert settings.slack_bot_token is not None and settings.slack_bot_token.get_secret_value() == "xoxb-from-file"
    assert settings.slack_app_token is None
    assert make_url(settings.database_url).host == "db.example.com"
    assert settings.missing_slack_credentials() == ["SLACK_SIGNING_SECRET"]


def test_a_dotenv_file_elsewhere_is_ignored(clean_environment: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    elsewhere = clean_environment / "elsewhere"
    elsewhere.mkdir()
    (clean_environment / ".env").write_text("PORT=8123\n", encoding="utf-8")
    monkeypatch.chdir(elsewhere)
    assert load_settings().port == 8000


@pytest.mark.parametrize(
    "raw",
    [
        f"postgres://desk:{SECRET}@db.example.com:5433/desk",
        f"postgresql://desk:{SECRET}@db.example.com:5433/desk",
        f"postgresql+psycopg2://desk:{SECRET}@db.example.com:5433/desk",
        f"postgresql+psycopg://desk:{SECRET}@db.example.com:5433/desk",
    ],
    ids=["postgres", "postgresql", "psycopg2", "psycopg"],
)
def test_postgres_urls_are_normalised_to_psycopg(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    """The URL names the driver we ship, whatever SQLAlchemy's default driver is."""
    monkeypatch.setenv("DATABASE_URL", raw)

    settings = load_settings()

    assert settings.database_url == f"postgresql+psycopg://desk:{SECRET}@db.example.com:5433/desk"


@pytest.mark.parametrize(
    "raw", ["postgres://desk@db.example.com/desk", "postgresql+psycopg2://desk@db.example.com/desk"]
)
def test_postgres_urls_connect_with_psycopg(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv("DATABASE_URL", raw)
    database = Database(load_settings().database_url)
    try:
        assert (database.backend, database.engine.dialect.driver) == ("postgresql", "psycopg")
    finally:
        database.dispose()


def test_a_sqlite_url_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "sqlite:////var/lib/interview-desk/desk.db")
    assert load_settings().database_url == "sqlite:////var/lib/interview-desk/desk.db"


@pytest.mark.parametrize("value", ["eighty", "0", "65536", "-1", "80.5"])
def test_a_bad_port_names_the_variable_and_the_value(value: str) -> None:
    message = config_error(PORT=value)
    assert message.startswith("invalid configuration: PORT: ")
    assert repr(value) in message


def test_a_bad_smtp_port_names_its_variable() -> None:
    assert config_error(SMTP_PORT="smtp").startswith("invalid configuration: SMTP_PORT: ")


@pytest.mark.parametrize("token", [f"xoxp-{SECRET}", f"xapp-{SECRET}", SECRET])
def test_a_bot_token_must_be_a_bot_token_and_is_not_echoed(token: str) -> None:
    message = config_error(SLACK_BOT_TOKEN=token)
    assert message == "invalid configuration: SLACK_BOT_TOKEN: a bot token starts with xoxb-"
    assert SECRET not in message


def test_an_app_token_must_be_an_app_token_and_is_not_echoed() -> None:
    message = config_error(SLACK_APP_TOKEN=f"xoxb-{SECRET}")
    assert message == "invalid configuration: SLACK_APP_TOKEN: an app-level token starts with xapp-"


@pytest.mark.parametrize(
    "raw",
    [
        f"mysql://desk:{SECRET}@db.example.com/desk",
        f"oracle://desk:{SECRET}@db.example.com/desk",
    ],
    ids=["mysql", "oracle"],
)
def test_an_unsupported_database_names_the_variable_not_the_password(raw: str) -> None:
    message = config_error(DATABASE_URL=raw)
    assert message.startswith("invalid configuration: DATABASE_URL: ")
    assert "use sqlite or postgresql" in message
    assert SECRET not in message


@pytest.mark.parametrize(
    "raw",
    [
        f"postgres//desk:{SECRET}@db.example.com/desk",
        f"postgresql:/desk:{SECRET}@db.example.com/desk",
        f"desk:{SECRET}@db.example.com/desk",
        f"postgresql://desk:{SECRET}@db.example.com:port/desk",
    ],
    ids=["missing-colon", "missing-slash", "no-scheme", "bad-port"],
)
def test_a_malformed_database_url_never_shows_its_password(raw: str) -> None:
    message = config_error(DATABASE_URL=raw)
    assert message.startswith("invalid configuration: DATABASE_URL: ")
    assert SECRET not in message


def test_several_problems_are_reported_on_one_line() -> None:
    message = config_error(PORT="eighty", SLACK_BOT_TOKEN=f"xoxp-{SECRET}", DATABASE_URL=f"mysql://u:{SECRET}@h/d")
    for name in ("PORT", "SLACK_BOT_TOKEN", "DATABASE_URL"):
        assert f"{name}: " in message
    assert message.count("; ") == 2
    assert SECRET not in message


@pytest.mark.parametrize("blank", ["", "   "])
def test_a_blank_token_counts_as_unset(monkeypatch: pytest.MonkeyPatch, blank: str) -> None:
    for name in ("SLACK_APP_TOKEN", "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SECRET_KEY", "PUBLIC_BASE_URL"):
        monkeypatch.setenv(name, blank)

    settings = load_settings()

    assert settings.slack_app_token is None
    assert settings.slack_bot_token is None
    assert settings.secret_key is None
    assert settings.public_base_url is None
    assert settings.missing_slack_credentials() == ["SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"]


def test_missing_slack_credentials_lists_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SECRET)
    assert load_settings().missing_slack_credentials() == ["SLACK_BOT_TOKEN"]
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    assert load_settings().missing_slack_credentials() == []


def test_overrides_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "sqlite:///from-env.db")
    assert load_settings(database_url="sqlite:///from-cli.db").database_url == "sqlite:///from-cli.db"
