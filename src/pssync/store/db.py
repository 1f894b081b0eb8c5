"""Opening the golden store: engine creation, SQLite tuning and Alembic migrations.

SQLite (``./pssync.db``) is the default so that one machine needs nothing installed; PostgreSQL
is the same code with a ``postgresql+psycopg://`` URL.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event

DEFAULT_URL = "sqlite:///pssync.db"
_MIGRATIONS = Path(__file__).with_name("migrations")
# WAL pages (4 KiB) before SQLite copies them back into the database file (default 1,000).
# A bulk sync writes versions, audit, xrefs and inbox rows to indexes with random keys; at the
# default a checkpoint (an fsync, and index pages written back again and again) ran on almost
# every page workflow's commit. 64 MiB of WAL is checkpointed once per many pages instead.
WAL_AUTOCHECKPOINT_PAGES = 16_384


def database_url(explicit: str | None = None) -> str:
    """The URL to use (default ``./pssync.db``); plain ``postgresql://`` means psycopg 3."""
    url = explicit or DEFAULT_URL
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def _tune_sqlite(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}")
    cursor.close()


def make_engine(url: str | None = None) -> Engine:
    resolved = database_url(url)
    if resolved.startswith("sqlite"):
        engine = create_engine(resolved)
        event.listen(engine, "connect", _tune_sqlite)
        return engine
    return create_engine(resolved, pool_pre_ping=True)


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision (idempotent)."""
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def open_engine(url: str | None = None) -> Engine:
    engine = make_engine(url)
    migrate(engine)
    return engine
