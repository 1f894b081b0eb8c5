"""The hash-chained audit log detects edited, deleted and truncated rows."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from typer.testing import CliRunner

from pssync.cli.main import app
from pssync.model import Account
from pssync.store import Change, GoldenStore
from pssync.store.audit import verify_chain
from pssync.store.tables import audit_log


def _fill(store: GoldenStore, n: int = 5) -> None:
    for i in range(n):
        record = Account(id=f"acc-{i}", name=f"Account {i}")
        store.write([Change(record, dt.datetime(2026, 1, 1, tzinfo=dt.UTC), "crm")])


def test_intact_chain_verifies(store: GoldenStore) -> None:
    _fill(store)
    result = verify_chain(store.engine)
    assert result.ok and result.rows_checked == 5


def test_edited_row_is_named(store: GoldenStore) -> None:
    _fill(store)
    with store.engine.begin() as conn:
        conn.execute(sa.update(audit_log).where(audit_log.c.seq == 3).values(actor="mallory"))
    result = verify_chain(store.engine)
    assert not result.ok and result.bad_seq == 3
    assert "row 3" in (result.problem or "")


def test_deleted_middle_row_is_detected(store: GoldenStore) -> None:
    _fill(store)
    with store.engine.begin() as conn:
        conn.execute(sa.delete(audit_log).where(audit_log.c.seq == 2))
    result = verify_chain(store.engine)
    assert not result.ok and result.bad_seq == 2


def test_truncated_tail_is_detected(store: GoldenStore) -> None:
    _fill(store)
    with store.engine.begin() as conn:
        conn.execute(sa.delete(audit_log).where(audit_log.c.seq == 5))
    result = verify_chain(store.engine)
    assert not result.ok and result.bad_seq == 5


def test_cli_audit_verify_fails_and_names_row(store: GoldenStore, db_url: str) -> None:
    _fill(store)
    runner = CliRunner()
    ok = runner.invoke(app, ["audit", "verify", "--db", db_url])
    assert ok.exit_code == 0, ok.output
    with store.engine.begin() as conn:
        conn.execute(sa.update(audit_log).where(audit_log.c.seq == 4).values(changes="{}"))
    bad = runner.invoke(app, ["audit", "verify", "--db", db_url, "--json"])
    assert bad.exit_code == 1
    assert '"bad_seq": 4' in bad.output
