"""Database engine, sessions and migrations.

SQLite runs in WAL mode with foreign keys on; PostgreSQL through psycopg 3.  The schema is
owned by alembic migrations (traceability_api/migrations), applied on start.
"""

from __future__ import annotations

import os
import select
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Integer, any_, bindparam, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, DisconnectionError, OperationalError, SQLAlchemyError
from sqlmodel import Session, create_engine

from traceability_api.errors import ConfigError
from traceability_api.limits import loads_stored

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def _normalise_url(url: str) -> str:
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(url: str, **kwargs: Any) -> Engine:
    url = _normalise_url(url)
    kwargs.setdefault("json_deserializer", loads_stored)  # a stored document too deep to read is a note, not a 500
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigError(f"DATABASE_URL is not a valid database URL: {url!r}") from exc
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            _private_file(Path(parsed.database))
            # as many kept connections as requests run at once: beyond SQLAlchemy's default 5, each
            # request opened and closed a connection of its own (connect + 4 PRAGMAs: 21 % of a
            # consumer page's CPU at 20 clients, py-spy); a file database's connections are cheap
            kwargs.setdefault("pool_size", 20)
            kwargs.setdefault("max_overflow", 20)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _rec: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()
            # SQLite's own lower() folds ASCII only ("Đồng" stays "Đồng"); case-insensitive searches
            # (the console's lot search) need Vietnamese letters folded as PostgreSQL's lower() does
            dbapi_conn.create_function("lower", 1, _unicode_lower, deterministic=True)

        return engine
    if parsed.get_backend_name() == "postgresql":
        kwargs.setdefault("pool_size", 20)
        kwargs.setdefault("max_overflow", 20)
        engine = create_engine(url, connect_args={"connect_timeout": 5, "application_name": "agritrace"}, **kwargs)
        if not kwargs.get("pool_pre_ping"):
            event.listen(engine, "checkout", _drop_dead_connection)
        return engine
    raise ConfigError(f"unsupported database {parsed.get_backend_name()!r}: use sqlite or postgresql")


def _unicode_lower(value: Any) -> Any:
    """SQLite's ``lower(x)``: Python's Unicode lower case of a text, anything else unchanged."""
    return value.lower() if isinstance(value, str) else value


def _drop_dead_connection(dbapi_conn: Any, _rec: Any, _proxy: Any) -> None:
    """A dead connection is found without a round trip (no ``pool_pre_ping`` on every checkout):
    an idle connection has nothing to read, so a readable socket means the server closed it (or
    sent its termination notice, e.g. after ``pg_terminate_backend`` or a restart).  Raising
    ``DisconnectionError`` makes the pool discard it and connect again.  A connection that dies
    while in use fails that statement; SQLAlchemy then invalidates the pool's older connections."""
    if dbapi_conn.closed:
        raise DisconnectionError("connection closed")
    try:
        readable, _, _ = select.select([dbapi_conn.fileno()], [], [], 0)
    except (OSError, ValueError) as exc:
        raise DisconnectionError("connection socket unusable") from exc
    if readable:
        raise DisconnectionError("the server closed the connection")


def _private_file(path: Path) -> None:
    """The database holds names, phone numbers and key hashes: create it 0600 (like the keystore),
    and tighten one created earlier.  SQLite gives its -wal and -shm files the database's mode."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if p.exists() and p.stat().st_mode & 0o077:
            p.chmod(0o600)


def lock_for_write(session: Session) -> None:
    """Before reading rows this transaction will change (what ``SELECT ... FOR UPDATE`` does on
    PostgreSQL): on SQLite, take the database's write lock now (``BEGIN IMMEDIATE``, waiting up to
    the busy timeout), so the rows read next are the latest and no other writer commits in between.
    The driver runs reads outside a transaction until the first write, so without this two custody
    changes of one lot could both read the old state and both succeed."""
    conn = session.connection()
    if conn.dialect.name == "sqlite" and not conn.connection.dbapi_connection.in_transaction:  # type: ignore[union-attr]
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def insert_ignore(session: Session, model: Any, rows: list[dict[str, Any]]) -> int:
    """INSERT ... ON CONFLICT DO NOTHING of ``rows`` (same keys each); how many were new."""
    conn = session.connection()
    ins = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(model.__table__)
    return int(conn.execute(ins.on_conflict_do_nothing(), rows).rowcount)


def ids_in(column: Any, ids: Any, dialect: str) -> Any:
    """``column IN (ids)`` for a long list of integer ids.  On PostgreSQL ``column = ANY(:ids)``,
    one array parameter: SQLAlchemy renders an IN list as one placeholder per id on every
    execution (a quarter of the FSMA refresher's time at 5,000 lots); PostgreSQL plans both alike."""
    if dialect == "postgresql":
        return column == any_(bindparam(None, list(ids), type_=postgresql.ARRAY(Integer)))
    return column.in_(list(ids))


def check_connection(engine: Engine) -> None:
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except (OperationalError, SQLAlchemyError) as exc:
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        raise ConfigError(f"database {engine.url.render_as_string(hide_password=True)} unreachable: {reason}") from exc


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    return cfg


MIGRATION_LOCK = 0x4167_7269_5472_6163  # PostgreSQL advisory lock key ("AgriTrac"): one migrator at a time


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration (safe to run on every start; on PostgreSQL
    several instances starting at once take turns under an advisory lock)."""
    check_connection(engine)
    if engine.dialect.name != "postgresql":
        command.upgrade(alembic_config(engine), "head")
        return
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK})
        try:
            command.upgrade(alembic_config(engine), "head")
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK})


def session_scope(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session
