"""The session database: one SQLAlchemy Core schema for SQLite and PostgreSQL, the engine for a URL,
and its migrations (Alembic scripts shipped in walk/migrations/, run on open: `upgrade head`).

Another part (the server's users and tokens) adds its tables to `METADATA` and a migration of its
own to walk/migrations/versions/ (revising the latest), so one upgrade brings a database up to date.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    make_url,
    text,
)
from sqlalchemy.engine import URL
from sqlalchemy.exc import ArgumentError

MIGRATIONS = Path(__file__).parent / "migrations"
_MIGRATION_LOCK = 74317  # a PostgreSQL advisory lock id: one process migrates at a time

METADATA = MetaData()

SESSIONS = Table(
    "sessions", METADATA,
    Column("id", String(64), primary_key=True),
    Column("tree", String(200), nullable=False, index=True),
    Column("ticket", String(200), nullable=False, server_default=""),
    Column("agent", String(200), nullable=False, server_default=""),
    Column("started", String(40), nullable=False),  # ISO 8601 as recorded, with its UTC offset
    Column("last_utc", DateTime(), nullable=False, index=True),  # for --since and retention
    # the summary after the last event, kept with each write so lists filter in SQL (migration 0003)
    Column("events", Integer, nullable=False, server_default="0"),  # how many: the next event's seq
    Column("outcome", String(20), nullable=False, server_default="in_progress", index=True),
    Column("node", String(200), nullable=False, server_default=""),
    Column("steps", Integer, nullable=False, server_default="0"),
    Column("last", String(40), nullable=False, server_default=""),  # the last event's time as recorded
    Column("ticket_key", String(200), nullable=False, server_default="", index=True),  # casefolded
    # who holds the session for writing, a lease renewed by every event it writes; in the session's
    # own row so that taking it and writing a step are each one statement that cannot interleave
    Column("held_token", String(64), nullable=True),  # which walk (one process may run several)
    Column("held_agent", String(200), nullable=True),
    Column("held_host", String(200), nullable=True),
    Column("held_pid", Integer, nullable=True),
    Column("held_since", String(40), nullable=True),
    Column("held_renewed_utc", DateTime(), nullable=True),
)

EVENTS = Table(
    "session_events", METADATA,
    Column("session_id", String(64), ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True),
    Column("seq", Integer, primary_key=True),  # 0 is the start event
    Column("event", String(20), nullable=False),
    Column("at", String(40), nullable=False),
    Column("data", Text, nullable=False),  # the event as JSON, as a JSON Lines record has it
)


class DatabaseError(Exception):
    """A database URL that cannot be used, or a database that cannot be reached; says why in plain words."""


def database_url(url: str) -> URL:
    """The SQLAlchemy URL: PostgreSQL through psycopg 3, whatever driver the URL names or omits."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseError(f"'{url}' is not a database URL") from None
    if parsed.get_backend_name() in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def open_engine(url: str) -> Engine:
    """An engine for the URL, with the schema brought up to date."""
    parsed = database_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        _private_file(Path(parsed.database))
    # No pre-ping: it costs a round trip on every checkout. A connection the server dropped fails
    # its statement once, SQLAlchemy then empties the pool, and the store retries (sqlstore.py).
    # The pool keeps as many connections as the server has request threads (40): a connection
    # opened beyond the pool is closed on return, and opening one costs more than a step.
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(parsed, pool_size=40, max_overflow=10)
        event.listen(engine, "connect", _sqlite_pragmas)
    else:  # two workers stay under PostgreSQL's default of 100 connections
        engine = create_engine(parsed, pool_size=20, max_overflow=20, pool_timeout=30)
    upgrade(engine)
    return engine


def _private_file(path: Path) -> None:
    """Records may hold personal data: the database file is readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))


def _sqlite_pragmas(connection: object, _record: object) -> None:
    cursor = connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")  # readers do not wait for the writer
    # in WAL mode NORMAL waits for the disk at checkpoints only, not at every commit: a killed
    # process loses nothing committed (the OS has the WAL), a power cut may lose the last commits
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def upgrade(engine: Engine) -> None:
    """Run every migration the database has not had yet (Alembic `upgrade head`)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})"))
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
