"""The database: one engine per URL, schema kept by Alembic, and the unit of work.

SQLite (default, under ``HEFA_HOME``) runs in WAL mode with a busy timeout;
PostgreSQL is chosen with ``HEFA_DATABASE_URL``. Every write goes through
``write_transaction()``, which serialises writers (``BEGIN IMMEDIATE`` on SQLite,
an advisory transaction lock on PostgreSQL): the gate's check, the step's rows
and the audit event are decided against one consistent state, and the audit
chain can never fork.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlmodel import Session

from hefa.review.config import settings

# The Alembic head this code expects; tests check it matches the migrations folder.
SCHEMA_HEAD = "0003_outbox"
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
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 60, "check_same_thread": False})
        _tune_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=60000")
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
    with eng.begin() as conn:
        if conn.dialect.name == "postgresql":  # two processes upgrading at once
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _WRITE_LOCK_KEY + 1})
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
    _schema_checked.add(str(eng.url))


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
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _WRITE_LOCK_KEY})
        try:
            yield session
        finally:
            if session.in_transaction():
                session.rollback()
