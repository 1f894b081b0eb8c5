"""The hash-chained audit log detects edited, deleted and truncated rows."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from pssync.cli.main import app
from pssync.model import Account
from pssync.store import Change, GoldenStore, audit
from pssync.store.audit import KEY_ENV, VerifyResult, verify_chain
from pssync.store.tables import audit_head, audit_log


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


KEY = "k" * 16 + "an-audit-key-kept-outside-the-db"


def _cut_last_row_and_reset_head(store: GoldenStore) -> None:
    """The tester's attack: delete the newest row, point the head at the one before."""
    with store.engine.begin() as conn:
        last = conn.execute(sa.select(sa.func.max(audit_log.c.seq))).scalar_one()
        previous = conn.execute(
            sa.select(audit_log.c.row_hash).where(audit_log.c.seq == last - 1)
        ).scalar_one()
        conn.execute(sa.delete(audit_log).where(audit_log.c.seq == last))
        conn.execute(sa.update(audit_head).values(seq=last - 1, row_hash=previous))


def test_keyed_chain_detects_the_last_row_deleted_and_the_head_reset(
    store: GoldenStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 14 defect 9: with plain SHA-256 and the head in the same database this attack
    left verify saying "intact"."""
    monkeypatch.setenv(KEY_ENV, KEY)
    _fill(store)
    assert verify_chain(store.engine) == VerifyResult(True, 5, keyed=True)
    _cut_last_row_and_reset_head(store)
    result = verify_chain(store.engine)
    assert not result.ok and "not sealed" in (result.problem or "")
    # Without the key nobody can tell: the plain chain is consistent (hence the key, or anchors).
    assert not verify_chain(store.engine, key=None).ok  # keyed rows cannot be checked unkeyed


def test_keyed_rows_cannot_be_rewritten_without_the_key(
    store: GoldenStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_ENV, KEY)
    _fill(store, 3)
    # The attacker edits row 3 and recomputes its hash the only way they can: unkeyed SHA-256.
    with store.engine.begin() as conn:
        row = dict(conn.execute(sa.select(audit_log).where(audit_log.c.seq == 3)).mappings().one())
        row["actor"] = "mallory"
        forged = audit._row_hash(row["prev_hash"], 3, row, audit.Hasher(None))
        conn.execute(
            sa.update(audit_log)
            .where(audit_log.c.seq == 3)
            .values(actor="mallory", row_hash=forged)
        )
        conn.execute(sa.update(audit_head).values(row_hash=forged))
    result = verify_chain(store.engine)
    assert not result.ok and result.bad_seq == 3 and "unkeyed after keyed" in (result.problem or "")
    wrong_key = verify_chain(store.engine, key=b"x" * 40)
    assert not wrong_key.ok


def test_a_store_keyed_later_keeps_its_earlier_rows_verifiable(
    store: GoldenStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fill(store, 2)
    monkeypatch.setenv(KEY_ENV, KEY)
    unsealed = verify_chain(store.engine)
    assert not unsealed.ok and "nothing was written since the key was set" in str(unsealed.problem)
    store.write(
        [Change(Account(id="acc-late", name="Late"), dt.datetime(2026, 2, 1, tzinfo=dt.UTC), "crm")]
    )
    assert verify_chain(store.engine) == VerifyResult(True, 3, keyed=True)
    monkeypatch.setenv(KEY_ENV, "short")
    with pytest.raises(audit.AuditKeyError):
        verify_chain(store.engine)


def test_anchors_exported_out_of_the_database_catch_a_cut_even_unkeyed(
    store: GoldenStore, db_url: str, tmp_path: Path
) -> None:
    _fill(store)
    anchors = tmp_path / "anchors.jsonl"
    runner = CliRunner()
    taken = runner.invoke(app, ["audit", "anchor", "--db", db_url, "--out", str(anchors)])
    assert taken.exit_code == 0, taken.output
    ok = runner.invoke(app, ["audit", "verify", "--db", db_url, "--anchors", str(anchors)])
    assert ok.exit_code == 0 and "1 anchors matched" in " ".join(ok.output.split()), ok.output
    _cut_last_row_and_reset_head(store)
    assert verify_chain(store.engine, key=None).ok  # what the unkeyed chain alone cannot see
    bad = runner.invoke(app, ["audit", "verify", "--db", db_url, "--anchors", str(anchors)])
    said = " ".join(bad.output.split())
    assert bad.exit_code == 1 and "row 5" in said and "is gone" in said, said
    anchors.write_text("not json\n")
    broken = runner.invoke(app, ["audit", "verify", "--db", db_url, "--anchors", str(anchors)])
    assert broken.exit_code == 1 and "anchor line 1" in " ".join(broken.output.split())
