"""The database: one engine per URL, schema kept by Alembic, and the unit of work.

SQLite (default, under ``HEFA_HOME``) runs in WAL mode with a busy timeout;
PostgreSQL is chosen with ``HEFA_DATABASE_URL``. Every write goes through
``write_transaction()``, which serialises writers (``BEGIN IMMEDIATE`` on SQLite,
an advisory transaction lock on PostgreSQL): the gate's check, the step's rows
and the audit event are decided against one consistent state, and the audit
chain can never fork. Migrations run one process at a time (a lock file beside a SQLite
database, an advisory lock on PostgreSQL).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlmodel import Session

from hefa.review.config import settings
from hefa.review.errors import ConfigurationError
from hefa.review.paths import ensure_home, hefa_home, private_file

# The Alembic head this code expects; tests check it matches the migrations folder.
SCHEMA_HEAD = "0008_checklists"
_WRITE_LOCK_KEY = 0x68656661  # "hefa"
MIGRATIONS = Path(__file__).parent / "migrations"


def _normalise(url: str) -> str:
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


_engines: dict[str, Engine] = {}


def engine_for(url: str) -> Engine:
    """The engine for a database URL, made once per process."""
    url = _normalise(url)
    if url not in _engines:
        _engines[url] = _make_engine(url)
    return _engines[url]


def dispose_all() -> None:
    """Close every pooled connection and forget the engines (tests, forks)."""
    for eng in _engines.values():
        eng.dispose()
    _engines.clear()
    _schema_checked.clear()


def _make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1] if "///" in url else ""
        if path and path != ":memory:":
            if Path(path).parent == hefa_home():
                ensure_home()  # 0700 when new
            private_file(Path(path))  # 0600; SQLite gives its -wal and -shm files the same mode
        wait = settings().write_wait_seconds
        engine = create_engine(url, connect_args={"timeout": wait, "check_same_thread": False})
        _tune_sqlite(engine, wait)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _tune_sqlite(engine: Engine, wait_seconds: float) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(wait_seconds * 1000)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:  # type: ignore[no-untyped-def]
        mode = (connection.get_execution_options().get("hefa_write") and "IMMEDIATE") or "DEFERRED"
        connection.exec_driver_sql(f"BEGIN {mode}")


def engine() -> Engine:
    """The engine of the configured database, its schema brought up to date."""
    eng = engine_for(settings().database)
    ensure_schema(eng)
    return eng


_schema_checked: set[str] = set()


def ensure_schema(eng: Engine) -> None:
    """Create or upgrade the schema if needed (cheap when it is current)."""
    key = str(eng.url)
    if key in _schema_checked:
        return
    if current_revision(eng) != SCHEMA_HEAD:
        upgrade(eng)
    _schema_checked.add(key)


def current_revision(eng: Engine) -> str | None:
    try:
        with eng.connect() as conn:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except (OperationalError, ProgrammingError):
        return None


def upgrade(eng: Engine) -> None:
    """Run the Alembic migrations up to head (``hefa init``; idempotent)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with _migration_lock(eng), eng.connect() as conn:
        conn = conn.execution_options(hefa_write=True)  # SQLite: BEGIN IMMEDIATE, waits its turn
        with conn.begin():
            if conn.dialect.name == "postgresql":  # two processes upgrading at once
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _WRITE_LOCK_KEY + 1})
            config.attributes["connection"] = conn
            command.upgrade(config, "head")  # reads the revision inside the lock: a no-op when done
    _schema_checked.add(str(eng.url))


@contextmanager
def _migration_lock(eng: Engine) -> Iterator[None]:
    """SQLite: one migrating process at a time (``hefa serve`` and ``hefa demo`` starting on a
    new database at once), by an exclusive lock on a file beside the database; waits up to
    two minutes, then refuses with one line. PostgreSQL uses its advisory lock instead."""
    path = eng.url.database if eng.dialect.name == "sqlite" else None
    if not path or path == ":memory:":
        yield
        return
    import fcntl
    import time

    fd = os.open(private_file(Path(path + ".migrate-lock")), os.O_RDWR | os.O_CLOEXEC)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise ConfigurationError(f"数据库 {path} 正由另一进程升级，请稍后再试 / another process is "
                                             "migrating the database") from None
                time.sleep(0.1)
        yield
    finally:
        os.close(fd)  # releases the lock


@contextmanager
def read_session() -> Iterator[Session]:
    """A session for queries; it never commits."""
    with Session(engine()) as session:
        yield session


@contextmanager
def write_transaction() -> Iterator[Session]:
    """A unit of work: serialised with every other writer, committed only by the caller.

    Leaving the block without ``session.commit()`` — or by an exception — rolls
    everything back, so a refused step leaves nothing half-written.
    """
    eng = engine()
    with Session(eng, expire_on_commit=False) as session:
        conn = session.connection(execution_options={"hefa_write": True})
        if conn.dialect.name == "postgresql":
            wait_ms = int(settings().write_wait_seconds * 1000)
            conn.execute(text(f"SET LOCAL lock_timeout = {wait_ms}"))
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _WRITE_LOCK_KEY})
        try:
            yield session
        finally:
            if session.in_transaction():
                session.rollback()
