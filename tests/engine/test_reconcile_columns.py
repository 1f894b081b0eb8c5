"""Reconciliation's columnar path through the product path: a file-drop ERP's exports ->
`pssync sync` -> golden store -> `pssync reconcile` (and `--repair`), each a process of its own.

The ERP's customers export is then changed the ways reconciliation must notice (a drifted tax
ID, a row never synced, a row gone, a crosswalk value in another case that is still in step, a
value no crosswalk knows): the columnar report finds exactly what the per-record compare finds
for the same snapshot. Its projects name their customer by the ERP's own ID, which the golden
project holds resolved to the canonical account: not drift (the false drift the CRM-only org
showed on `account_id`)."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml

from pssync.config import load_settings
from pssync.engine.reconcile import compare_page
from pssync.engine.reconcile_columns import compare_columns
from pssync.model import Account
from pssync.runtime import build_runtime
from pssync.store import Change
from pssync.store.linked import linked_digests

pytestmark = pytest.mark.integration

CUSTOMERS = ("erp_id", "external_id", "name", "country", "currency", "tax_id", "payment_terms")
PROJECTS = (
    *("erp_id", "external_id", "customer_external_id", "code", "name"),
    *("start_date", "end_date", "currency"),
)
NAMES = ("Quokka", "Wombat", "Echidna", "Numbat", "Bilby", "Dingo", "Platypus", "Kookaburra")


def customer(i: int) -> dict[str, str]:
    return {
        "erp_id": f"C{i:04d}",
        "external_id": f"001X{i:011d}",
        "name": f"{NAMES[i]} Holdings",
        "country": "AU",
        "currency": "AUD",
        "tax_id": f"ABN{i:09d}",
        "payment_terms": ("NET30", "NET45")[i % 2],
    }


def project(i: int) -> dict[str, str]:
    return {
        "erp_id": f"P{i:04d}",
        "external_id": f"006X{i:011d}",
        "customer_external_id": f"001X{i:011d}",
        "code": f"PRJ-{i}",
        "name": f"{NAMES[i]} rollout",
        "start_date": "2026-01-05",
        "end_date": "2026-06-30",
        "currency": "AUD",
    }


def export(folder: Path, kind: str, columns: tuple[str, ...], rows: list[dict[str, str]]) -> None:
    with (folder / f"{kind}_20260101.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, columns)
        writer.writeheader()
        writer.writerows(rows)


def pssync(base: Path, *args: str) -> Any:
    command = [sys.executable, "-c", "from pssync.cli.main import app; app()", *args]
    done = subprocess.run(
        [*command, "--config", "pssync.yaml", "--json"],
        cwd=base,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def by_object(reports: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["object"]: r for r in reports}


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synced(tmp_path_factory.mktemp("recon-columns"))


def synced(base: Path) -> Path:
    """A file-drop ERP's customers and projects exports, synced into a new golden store."""
    for name in ("inbound", "ack", "reject", "outbound"):
        (base / name).mkdir()
    export(base / "outbound", "customers", CUSTOMERS, [customer(i) for i in range(6)])
    export(base / "outbound", "projects", PROJECTS, [project(i) for i in range(3)])
    folders = {f"{k}_dir": str(base / k) for k in ("inbound", "ack", "reject", "outbound")}
    config = {
        "database_url": f"sqlite:///{base / 'pssync.db'}",
        "connectors": {"filedrop": {"type": "filedrop", "role": "erp", "options": folders}},
    }
    (base / "pssync.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    pssync(base, "sync")
    return base


def test_columnar_report_finds_what_the_per_record_compare_finds(base: Path) -> None:
    first = by_object(pssync(base, "reconcile"))
    assert first["customers"]["in_step"] == first["customers"]["checked"] == 6
    # Projects name their customer by ERP ID; the golden project holds the canonical account.
    assert first["projects"]["drift"] == {} and first["projects"]["in_step"] == 3

    rows = [customer(i) for i in range(6)]
    rows[0]["tax_id"] = "ABN999999999"  # drift in a field the ERP owns
    rows[1]["payment_terms"] = " net45 "  # the crosswalk's case-folded key: in step
    rows[2]["payment_terms"] = "NET99"  # no crosswalk entry: untranslatable
    del rows[3]  # gone from the ERP: a hard delete
    rows.append(customer(6))  # never synced: missing
    export(base / "outbound", "customers", CUSTOMERS, rows)

    runtime = build_runtime(load_settings(base / "pssync.yaml"), base=base)
    columns = compare_columns(runtime, "filedrop", "customers")
    assert columns is not None, "the customers mapping is plain: the columnar path applies"
    assert columns.checked == 6 and columns.in_step == 2
    assert [e for _, _, e in columns.gone] == ["C0003"]
    todo = [r for batch in columns.batches(100) for r in batch]
    assert sorted(r["id"] for r in todo) == ["C0000", "C0001", "C0002", "C0006"]
    verdicts = dict(
        zip(
            [r["id"] for r in todo],
            compare_page(runtime, "filedrop", "customers", todo),
            strict=True,
        )
    )
    runtime.store.engine.dispose()
    assert verdicts == {
        "C0000": ("drift", ["tax_id"]),
        "C0001": ("in_step", []),
        "C0002": ("untranslatable", []),
        "C0006": ("missing", []),
    }

    report = by_object(pssync(base, "reconcile"))["customers"]
    assert report["drift"] == {"C0000": ["tax_id"]}
    assert report["missing"] == ["C0006"] and report["deleted"] == ["C0003"]
    assert report["untranslatable"] == ["C0002"] and report["in_step"] == 3
    assert report["raised"] == 3  # drift, missing and delete, each an exception

    repaired = by_object(pssync(base, "reconcile", "--repair"))["customers"]
    assert repaired["repaired"] == 3
    after = by_object(pssync(base, "reconcile"))["customers"]
    assert after["drift"] == {} and after["missing"] == [] and after["deleted"] == []
    assert after["in_step"] == 5 and after["untranslatable"] == ["C0002"]


def test_a_golden_write_after_the_sync_is_not_hidden_by_the_digests(tmp_path: Path) -> None:
    """The sync leaves each customer link a compare digest; a later golden write (an edit from
    another system) replaces it, so the digest step leaves that record to the field compare."""
    base = synced(tmp_path)
    runtime = build_runtime(load_settings(base / "pssync.yaml"), base=base)
    try:
        links = linked_digests(runtime.store.engine, "filedrop", "customers")
        assert links.height == 6 and links.get_column("digest").null_count() == 0
        record_id = links.filter(pl.col("external_id") == "C0004").item(0, "record_id")
        golden = runtime.store.get("Account", record_id)
        assert golden is not None
        edited = Account.model_validate({**golden.payload, "name": "Renamed in the CRM"})
        runtime.store.write([Change(edited, golden.valid_from, "crm")])

        columns = compare_columns(runtime, "filedrop", "customers")
        assert columns is not None and columns.in_step == 5
        assert [r["id"] for batch in columns.batches(10) for r in batch] == ["C0004"]
        verdict = compare_page(runtime, "filedrop", "customers", next(columns.batches(10)))
        assert verdict == [("drift", ["name"])]
    finally:
        runtime.store.engine.dispose()
