"""Apply Alembic migrations from code (``interview-desk db upgrade`` and server start)."""

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

MIGRATIONS = Path(__file__).with_name("migrations")
# Any constant: serialises concurrent upgrades when several servers start at once on PostgreSQL.
_PG_MIGRATION_LOCK = 0x1D5E_5C0


def _config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
            connection.commit()
        try:
            command.upgrade(_config(connection), revision)
            connection.commit()
        finally:
            if engine.dialect.name == "postgresql":
                connection.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": _PG_MIGRATION_LOCK}
                )
                connection.commit()


def autogenerate(engine: Engine, message: str) -> None:
    """Write a new revision from the difference between the models and the database."""
    with engine.connect() as connection:
        command.revision(_config(connection), message=message, autogenerate=True)
