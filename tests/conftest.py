"""Shared fixtures: a golden store on SQLite and, where a PostgreSQL server answers, PostgreSQL.

The server is `PSSYNC_TEST_POSTGRES_URL` when set, else the local one at 127.0.0.1:5432 when it
answers (so the README's plain test command runs the PostgreSQL tests wherever a server is up).
Each PostgreSQL test gets its own schema (via search_path), so tests never see each other's rows.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import uuid
from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa

from pssync.store import GoldenStore, open_engine

LOCAL_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


def _local_postgres_answers() -> bool:
    """Whether the machine's own PostgreSQL accepts a connection (two seconds at most)."""
    probe = sa.create_engine(_psycopg(LOCAL_POSTGRES), connect_args={"connect_timeout": 2})
    try:
        with probe.connect():
            return True
    except sa.exc.OperationalError:
        return False
    finally:
        probe.dispose()


def _psycopg(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


if not os.environ.get("PSSYNC_TEST_POSTGRES_URL") and _local_postgres_answers():
    # Exported, so test modules and the worker processes tests start see the same server.
    os.environ["PSSYNC_TEST_POSTGRES_URL"] = LOCAL_POSTGRES
POSTGRES_URL = os.environ.get("PSSYNC_TEST_POSTGRES_URL")
NO_POSTGRES = (
    "no PostgreSQL answers at 127.0.0.1:5432 and PSSYNC_TEST_POSTGRES_URL is not set "
    "(point it at a PostgreSQL server to run these)"
)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: object) -> Iterator[str]:
    """A fresh, empty database URL on each backend the suite runs on."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/golden.db"
        return
    if not POSTGRES_URL:
        pytest.skip(NO_POSTGRES)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(_psycopg(POSTGRES_URL))
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in POSTGRES_URL else "?"
    yield f"{_psycopg(POSTGRES_URL)}{sep}options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


class Clock:
    """A settable clock so tests decide what "recorded at" means."""

    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def set(self, moment: dt.datetime) -> None:
        self.now = moment


@pytest.fixture
def clock() -> Clock:
    return Clock(dt.datetime(2026, 1, 1, tzinfo=dt.UTC))


@pytest.fixture
def store(db_url: str, clock: Callable[[], dt.datetime]) -> Iterator[GoldenStore]:
    engine = open_engine(db_url)
    yield GoldenStore(engine, clock=clock)
    engine.dispose()


@pytest.fixture(autouse=True)
def _no_log_handler_on_a_closed_stream() -> Iterator[None]:
    """A command run in-process (Typer's CliRunner) may launch DBOS, whose logger then keeps a
    handler on the runner's captured stderr; once that stream is closed, the next DBOS launch
    fails flushing it. Such handlers are dropped after each test."""
    yield
    loggers = [logging.getLogger()] + [
        found
        for found in logging.Logger.manager.loggerDict.values()
        if isinstance(found, logging.Logger)
    ]
    for found in loggers:
        for handler in list(found.handlers):
            stream = getattr(handler, "stream", None)
            if stream is not None and getattr(stream, "closed", False):
                found.removeHandler(handler)
