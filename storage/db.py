"""Engine and session handling, the same on SQLite and PostgreSQL."""

import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

SUPPORTED_BACKENDS = ("sqlite", "postgresql")
WRITE_LOCK = "interview_desk_write_lock"


class DatabaseUrlError(ValueError):
    pass


def normalize_database_url(raw: str) -> URL:
    """Parse a database URL and pick the driver we ship (psycopg 3 for PostgreSQL).

    ``postgres://`` and ``postgresql://`` as printed by hosting providers are accepted.
    """
    if raw.startswith("postgres://"):
        raw = "postgresql://" + raw.removeprefix("postgres://")
    try:
        url = make_url(raw)
    except (ArgumentError, ValueError):
        # The URL may hold a password: the message must not repeat it.
        raise DatabaseUrlError(
            "not a database URL; expected e.g. sqlite:///interview-desk.db "
            "or postgresql://user:password@host/database"
        ) from None
    backend = url.get_backend_name()
    if backend not in SUPPORTED_BACKENDS:
        raise DatabaseUrlError(f"unsupported database {backend!r}: use sqlite or postgresql")
    if backend == "postgresql" and url.drivername != "postgresql+psycopg":
        # Named explicitly, so the driver never depends on SQLAlchemy's default of the day.
        url = url.set(drivername="postgresql+psycopg")
    return url


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the driver, emit BEGIN (see _sqlite_begin).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # WAL lets readers work while one writer commits; several server processes share the file.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    # A deferred BEGIN lets two transactions read the same free slot before either writes;
    # a transaction that will write after checking takes the write lock up front instead.
    immediate = connection.get_execution_options().get(WRITE_LOCK, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_engine(url: str | URL, **kwargs: Any) -> Engine:
    url = normalize_database_url(str(url) if isinstance(url, str) else url.render_as_string(False))
    if url.get_backend_name() == "sqlite":
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    # A short connect timeout: /healthz must answer "unreachable" quickly, not hang.
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=20,
        connect_args={"connect_timeout": 5},
        **kwargs,
    )


class Database:
    """One engine and its session factory; ``transaction()`` is the unit of work."""

    def __init__(self, url: str | URL, **engine_kwargs: Any) -> None:
        self.engine = make_engine(url, **engine_kwargs)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # SQLite has one writer. Left to SQLite, threads waiting for the write lock poll it,
        # sleeping up to 100 ms between tries, and a newcomer can take it before them: under a
        # burst the unlucky ones wait seconds. This process's write-locked transactions queue
        # here instead and start the moment the previous one ends (other processes still meet
        # at SQLite's lock).
        self._sqlite_writers = threading.Lock() if self.backend == "sqlite" else None

    @property
    def url(self) -> URL:
        return self.engine.url

    @property
    def backend(self) -> str:
        return self.engine.url.get_backend_name()

    @contextmanager
    def transaction(self, *, write_lock: bool = False) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on any error.

        ``write_lock``: on SQLite, take the database's write lock when the transaction starts,
        for check-then-write work such as booking (PostgreSQL locks the rows it checks instead).
        """
        turn = self._sqlite_writers if write_lock and self._sqlite_writers is not None else nullcontext()
        with turn, self._sessions.begin() as session:
            if write_lock:
                session.connection(execution_options={WRITE_LOCK: True})
            yield session

    def ping(self) -> None:
        """Raise if the database cannot be reached."""
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()
