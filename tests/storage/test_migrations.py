"""The Alembic migrations build the schema the models describe, on SQLite and PostgreSQL."""

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, func, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import StatementError

from storage.db import Database
from storage.migrate import current_revision, head_revision, upgrade
from storage.models import Base, ResearchTeam


@pytest.fixture
def empty_db(database_url: str, tmp_path: Path) -> Iterator[Database]:
    """A database without a single table, on the backend ``database_url`` stands for."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        database = Database(f"sqlite:///{tmp_path / 'empty.db'}")
        yield database
        database.dispose()
        return
    name = f"interview_desk_empty_{uuid.uuid4().hex[:10]}"
    admin = create_engine(Database(database_url).url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    database = Database(url.set(database=name))
    try:
        yield database
    finally:
        database.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _model_tables() -> set[str]:
    return set(Base.metadata.tables)


def test_upgrade_of_an_empty_database_reaches_head(empty_db: Database) -> None:
    assert inspect(empty_db.engine).get_table_names() == []
    assert current_revision(empty_db.engine) is None

    upgrade(empty_db.engine)

    assert current_revision(empty_db.engine) == head_revision()
    assert set(inspect(empty_db.engine).get_table_names()) == _model_tables() | {"alembic_version"}


def test_upgrading_twice_is_harmless_and_keeps_data(empty_db: Database) -> None:
    upgrade(empty_db.engine)
    with empty_db.transaction() as session:
        session.add(ResearchTeam(name="UX Research", slack_workspace_id="T0TEST"))

    upgrade(empty_db.engine)

    assert current_revision(empty_db.engine) == head_revision()
    with empty_db.transaction() as session:
        assert session.scalars(select(ResearchTeam.name)).all() == ["UX Research"]
    with empty_db.engine.connect() as connection:
        versions = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    assert [row[0] for row in versions] == [head_revision()]


def test_servers_starting_together_on_postgresql_migrate_once(empty_db: Database) -> None:
    """Concurrent upgrades queue on an advisory lock instead of creating the tables twice."""
    if empty_db.backend != "postgresql":
        pytest.skip("the migration lock is a PostgreSQL advisory lock")
    start = threading.Barrier(4)
    errors: list[Exception] = []

    def server_start() -> None:
        start.wait()
        try:
            upgrade(empty_db.engine)
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=server_start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert current_revision(empty_db.engine) == head_revision()
    assert set(inspect(empty_db.engine).get_table_names()) == _model_tables() | {"alembic_version"}


def test_migrated_schema_matches_the_models(db: Database) -> None:
    """Autogenerate finds nothing to do: no model change is missing a migration."""
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True}
        )
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_migrated_schema_from_scratch_matches_the_models(empty_db: Database) -> None:
    upgrade(empty_db.engine)
    with empty_db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


# ---------------------------------------------------------------- UTCDateTime


def _store_team_created_at(db: Database, created_at: datetime) -> int:
    with db.transaction() as session:
        team = ResearchTeam(name="UX Research", slack_workspace_id="T0TEST", created_at=created_at)
        session.add(team)
        session.flush()
        return team.id


def _load_created_at(db: Database, team_id: int) -> datetime:
    with db.transaction() as session:
        value = session.scalar(select(ResearchTeam.created_at).where(ResearchTeam.id == team_id))
    assert value is not None
    return value


def test_utc_datetime_round_trips_an_aware_utc_value(db: Database) -> None:
    moment = datetime(2030, 3, 5, 12, 0, 7, 123456, tzinfo=UTC)

    loaded = _load_created_at(db, _store_team_created_at(db, moment))

    assert loaded == moment
    assert loaded.utcoffset() == timedelta(0)
    assert loaded.replace(tzinfo=None) == datetime(2030, 3, 5, 12, 0, 7, 123456)


@pytest.mark.parametrize(
    "given",
    [
        datetime(2030, 7, 1, 14, 30, tzinfo=ZoneInfo("Europe/Berlin")),  # +02:00
        datetime(2030, 7, 1, 3, 30, tzinfo=timezone(timedelta(hours=-9))),
    ],
    ids=["berlin-summer", "minus-nine"],
)
def test_utc_datetime_stores_other_offsets_as_the_same_instant_in_utc(
    db: Database, given: datetime
) -> None:
    loaded = _load_created_at(db, _store_team_created_at(db, given))

    assert loaded == given
    assert loaded.utcoffset() == timedelta(0)
    assert loaded.replace(tzinfo=None) == given.astimezone(UTC).replace(tzinfo=None)


def test_utc_datetime_comparisons_use_the_instant_not_the_wall_clock(db: Database) -> None:
    """A filter given in another zone finds the row: values are compared in UTC on every backend."""
    stored = datetime(2030, 7, 1, 12, 30, tzinfo=UTC)
    _store_team_created_at(db, stored)
    same_instant_in_berlin = stored.astimezone(ZoneInfo("Europe/Berlin"))

    with db.transaction() as session:
        found = session.scalar(
            select(func.count()).where(ResearchTeam.created_at == same_instant_in_berlin)
        )
        later = session.scalar(
            select(func.count()).where(
                ResearchTeam.created_at > datetime(2030, 7, 1, 13, 0, tzinfo=ZoneInfo("Europe/Berlin"))
            )
        )
    assert found == 1
    assert later == 1  # 13:00 in Berlin is 11:00 UTC, before the stored 12:30 UTC


def test_utc_datetime_refuses_naive_values(db: Database) -> None:
    with pytest.raises(StatementError) as raised:
        _store_team_created_at(db, datetime(2030, 3, 5, 12, 0))

    assert isinstance(raised.value.orig, ValueError)
    assert "naive datetime" in str(raised.value.orig)
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(ResearchTeam)) == 0
