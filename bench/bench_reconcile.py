"""Reconciliation at scale: `pssync reconcile` against datacompy on the same two inputs.

The system is the file-drop ERP, whose `customers` export (one CSV, 1M rows by default) maps to
canonical accounts. The golden store holds the accounts pssync would have synced from it, with
planted differences: 1% of the export's rows with a new tax ID since (drift, in a field
the ERP owns, so a repair takes it), 0.5% of them never synced
(missing) and 0.5% more golden accounts linked to the ERP that the export no longer has
(deleted). Building the store through the pipeline would take longer than the comparison, so its
rows (`record_version` and `xref`) are written directly, with the payloads the pipeline would
write (pydantic's JSON of the canonical account); that setup is not timed.

Each contender runs in a process of its own, timed from start to exit with its peak RSS
(`ru_maxrss` of that process, from `wait4`):
- pssync: the `pssync reconcile --system filedrop --json` command, reporting (each finding
  raised as an exception), twice. The file-drop customers mapping is plain, so both reports
  take the columnar path (docs/decisions/0007): the export read by polars and mapped
  column-wise, the golden store's linked accounts read in one stream, joined on the ERP ID,
  and only the rows that differ (here the planted findings) compared one by one and raised.
  The second report refreshes the first's exceptions instead of opening them.
  The repair path (`--repair`: missed and drifted records applied through the pipeline,
  deletes recorded, then a report that must find nothing) runs on a smaller world
  (`--repair-records`, 2,000 by default);
- datacompy (`PandasCompare`, and `PolarsCompare`, its faster engine): reads the same export
  with pandas (polars), maps its columns as the shipped mapping does
  (rename, crosswalk, constant), reads the golden store's current accounts linked to the ERP
  (one SQL join, payloads parsed), and compares the two frames on the ERP ID with
  `datacompy.Compare`. It reports and repairs nothing; its compare alone is timed too. Its
  fastest setup (`polars-sql`) reads the golden fields with SQLite's `json_extract` straight
  into polars (`pl.read_database`) instead of parsing payloads in Python.

The golden store's xref rows carry the compare digests a golden write leaves
(docs/decisions/0005), so pssync reads (ID, digest) and the fields of the records that differ.

    python bench/bench_reconcile.py [--records 1000000] [--repair-records 2000] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from pssync.demo.config import mapping_file
from pssync.engine.reconcile_columns import compared_fields
from pssync.mapping.spec import load_spec
from pssync.mapping.translator import Translator
from pssync.store import open_engine
from pssync.store.compare_digest import golden_digest
from pssync.store.history import content_hash

SYSTEM, OBJECT = "filedrop", "customers"
COLUMNS = ("erp_id", "external_id", "name", "country", "currency", "tax_id", "payment_terms")
TERMS = {"NET15": "Net 15", "NET30": "Net 30", "NET45": "Net 45", "NET60": "Net 60"}
STAMP = "2026-01-01 00:00:00.000000"  # SQLAlchemy's SQLite DateTime text, UTC


def erp_id(i: int) -> str:
    return f"C{i:07d}"


def row(i: int) -> dict[str, str]:
    return {
        "erp_id": erp_id(i),
        "external_id": f"001{i:012d}",
        "name": f"Customer {i}",
        "country": "AU",
        "currency": ("AUD", "NZD", "USD")[i % 3],
        "tax_id": f"ABN{i:09d}",
        "payment_terms": tuple(TERMS)[i % 4],
    }


def is_missing(i: int) -> bool:
    return i % 200 == 1


def is_drifted(i: int) -> bool:
    return i % 100 == 3


def account(i: int) -> str:
    """The canonical account's JSON as the pipeline writes it (pydantic's field order)."""
    r = row(i)
    payload = {
        "id": f"acct-{i:07d}",
        "schema_version": 1,
        "xrefs": {"crm:Account": r["external_id"], f"{SYSTEM}:{OBJECT}": r["erp_id"]},
        "name": r["name"],
        "legal_name": r["name"],
        "domain": None,
        "tax_id": r["tax_id"],
        "billing_address": None,
        "industry": None,
        "region_id": None,
        "legal_entity_id": "le-au01",
        "tax_code_id": None,
        "payment_terms": TERMS[r["payment_terms"]],
        "currency": r["currency"],
        "status": "active",
    }
    return json.dumps(payload, separators=(",", ":"))


def build(workdir: Path, records: int, golden_store: bool = True) -> dict[str, Any]:
    """The export, the golden store (empty unless `golden_store`) and `pssync.yaml`; the
    planted findings' counts."""
    outbound = workdir / "outbound"
    for name in ("inbound", "ack", "reject", "outbound"):
        (workdir / name).mkdir(parents=True, exist_ok=True)
    deleted = records // 200
    with (outbound / f"{OBJECT}_20260101.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, COLUMNS)
        writer.writeheader()
        for i in range(records):
            r = row(i)
            if is_drifted(i):  # a field the ERP owns (the system-of-record matrix)
                r["tax_id"] = f"ABN{i + 500_000_000:09d}"
            writer.writerow(r)
    db = workdir / "pssync.db"
    open_engine(f"sqlite:///{db}").dispose()  # the schema, by the store's own migrations
    golden = [i for i in range(records + deleted) if i >= records or not is_missing(i)]
    golden = golden if golden_store else []
    with sqlite3.connect(db) as conn:
        conn.executemany(
            "INSERT INTO record_version (entity_type, record_id, valid_from, valid_to, "
            "recorded_from, recorded_to, content_hash, payload, provenance, transaction_id, "
            "system, source_record, deleted) VALUES ('Account', ?, ?, NULL, ?, NULL, ?, ?, "
            "'{}', 'bench', ?, ?, 0)",
            (
                (f"acct-{i:07d}", STAMP, STAMP, content_hash(text), text, SYSTEM, erp_id(i))
                for i in golden
                for text in (account(i),)
            ),
        )
        # Each link with the compare digest a golden write leaves (store/compare_digest.py).
        fields = compared_fields(Translator(load_spec(Path(mapping_file(SYSTEM)))), OBJECT)
        assert fields is not None, "the file-drop customers mapping is plain"
        names = sorted(fields)
        conn.executemany(
            "INSERT INTO xref (entity_type, record_id, system, object, external_id, recorded_at,"
            " compare_digest) VALUES ('Account', ?, ?, ?, ?, ?, ?)",
            (
                (f"acct-{i:07d}", SYSTEM, OBJECT, erp_id(i), STAMP, golden_digest(names, payload))
                for i in golden
                for payload in (json.loads(account(i)),)
            ),
        )
    folders = {k: str(workdir / k.removesuffix("_dir")) for k in ("inbound_dir", "ack_dir")}
    folders |= {k: str(workdir / k.removesuffix("_dir")) for k in ("reject_dir", "outbound_dir")}
    config = {
        "database_url": f"sqlite:///{db}",
        "connectors": {
            SYSTEM: {
                "type": SYSTEM,
                "role": "erp",
                "mapping": mapping_file(SYSTEM),
                "options": {**folders, "page_size": 1000},
            }
        },
    }
    (workdir / "pssync.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    return {
        "export_rows": records,
        "golden_accounts": len(golden),
        "planted_drift": sum(1 for i in range(records) if is_drifted(i)),
        "planted_missing": sum(1 for i in range(records) if is_missing(i)),
        "planted_deleted": deleted,
    }


def measured(command: list[str], cwd: Path) -> tuple[float, float, str]:
    """Run `command`; its wall seconds, peak RSS (MiB) and stdout."""
    began = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen(command, cwd=cwd, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - began
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0), err.seek(0)
        text = out.read().decode()
        if process.returncode != 0:
            raise RuntimeError(f"{command} failed: {err.read().decode()[-3000:]}")
    return seconds, usage.ru_maxrss / 1024, text


def run_pssync(workdir: Path, repair: bool) -> dict[str, Any]:
    pssync = [sys.executable, "-c", "from pssync.cli.main import app; app()"]
    command = [*pssync, "reconcile", "--system", SYSTEM, "--config", "pssync.yaml", "--json"]
    before = load()
    seconds, peak, out = measured([*command, "--repair"] if repair else command, workdir)
    report = next(r for r in json.loads(out) if r["object"] == OBJECT)
    return {
        "seconds": round(seconds, 1),
        "peak_rss_mb": round(peak),
        "load_1m_before": before,
        "checked": report["checked"],
        "in_step": report["in_step"],
        "drift": len(report["drift"]),
        "missing": len(report["missing"]),
        "deleted": len(report["deleted"]),
        "untranslatable": len(report["untranslatable"]),
        "repaired": report["repaired"],
        "raised": report["raised"],
    }


def _golden_rows(workdir: Path, columns: list[str]) -> list[list[Any]]:
    """The golden store's current accounts linked to the ERP: one join, payloads parsed."""
    query = (
        "SELECT x.external_id, v.payload FROM xref x JOIN record_version v "
        "ON v.entity_type = x.entity_type AND v.record_id = x.record_id "
        "AND v.recorded_to IS NULL AND v.valid_to IS NULL AND v.deleted = 0 "
        "WHERE x.system = ? AND x.object = ?"
    )
    with sqlite3.connect(workdir / "pssync.db") as conn:
        rows = conn.execute(query, (SYSTEM, OBJECT)).fetchall()
    return [[ext, *(p.get(c) for c in columns)] for ext, text in rows for p in (json.loads(text),)]


def _golden_fields_query(columns: list[str]) -> str:
    """The same accounts, each field read out of the payload by SQLite's `json_extract`."""
    fields = ", ".join(f"json_extract(v.payload, '$.{c}') AS {c}" for c in columns)
    return (
        f"SELECT x.external_id AS erp_id, {fields} FROM xref x JOIN record_version v "
        "ON v.entity_type = x.entity_type AND v.record_id = x.record_id "
        "AND v.recorded_to IS NULL AND v.valid_to IS NULL AND v.deleted = 0 "
        f"WHERE x.system = '{SYSTEM}' AND x.object = '{OBJECT}'"
    )


def peer_datacompy(workdir: Path, engine: str) -> None:
    """The datacompy side, in its own process: read both inputs, map, compare; print JSON."""
    import datacompy

    began = time.perf_counter()
    export = next((workdir / "outbound").glob(f"{OBJECT}_*.csv"))
    wanted = ["name", "legal_name", "tax_id", "currency", "payment_terms", "legal_entity_id"]
    compare: Any
    if engine in ("polars", "polars-sql"):
        import polars as pl

        raw = pl.read_csv(export, infer_schema=False)
        source = raw.select(
            pl.col("erp_id"),
            pl.col("name"),
            pl.col("name").alias("legal_name"),
            pl.col("tax_id"),
            pl.col("currency"),
            pl.col("payment_terms").replace_strict(TERMS),
            pl.lit("le-au01").alias("legal_entity_id"),
        )
        if engine == "polars-sql":  # the fields read by SQLite, straight into polars
            with sqlite3.connect(workdir / "pssync.db") as conn:
                golden = pl.read_database(_golden_fields_query(wanted), conn)
        else:
            golden = pl.DataFrame(
                _golden_rows(workdir, wanted), schema=["erp_id", *wanted], orient="row"
            )
        loaded = time.perf_counter()
        compare = datacompy.PolarsCompare(source, golden, join_columns="erp_id")
    else:
        import pandas as pd

        frame = pd.read_csv(export, dtype=str, keep_default_na=False)
        source = pd.DataFrame(
            {
                "erp_id": frame["erp_id"],
                "name": frame["name"],
                "legal_name": frame["name"],
                "tax_id": frame["tax_id"],
                "currency": frame["currency"],
                "payment_terms": frame["payment_terms"].map(TERMS),
                "legal_entity_id": "le-au01",
            }
        )
        del frame
        golden = pd.DataFrame.from_records(
            _golden_rows(workdir, wanted), columns=["erp_id", *wanted]
        )
        loaded = time.perf_counter()
        compare = datacompy.PandasCompare(source, golden, join_columns="erp_id")
    out = {
        "load_s": round(loaded - began, 1),
        "missing": len(compare.df1_unq_rows),
        "deleted": len(compare.df2_unq_rows),
        "drift": len(compare.all_mismatch()),
        "in_step": int(compare.count_matching_rows()),
        "compare_s": round(time.perf_counter() - loaded, 1),
    }
    print(json.dumps(out))


def run_datacompy(workdir: Path, engine: str) -> dict[str, Any]:
    command = [sys.executable, __file__, "--peer-datacompy", str(workdir), "--engine", engine]
    before = load()
    seconds, peak, out = measured(command, workdir)
    return {
        "seconds": round(seconds, 1),
        "peak_rss_mb": round(peak),
        "load_1m_before": before,
        **json.loads(out),
    }


def load() -> float:
    return round(os.getloadavg()[0], 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--repair-records", type=int, default=2000)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--peer-datacompy", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--engine", default="pandas", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.peer_datacompy:
        peer_datacompy(args.peer_datacompy, args.engine)
        return
    with tempfile.TemporaryDirectory(prefix="bench-reconcile-") as tmp:
        workdir = args.workdir or Path(tmp)
        result: dict[str, Any] = {"bench": "reconcile", **repair_path(workdir / "repair", args)}
        began = time.perf_counter()
        planted = build(workdir / "compare", args.records)
        result |= {"records": args.records, **planted}
        result["setup_s"] = round(time.perf_counter() - began, 1)
        result["load_avg_1m_before"] = load()
        # Alternating contenders, so a change in the machine's load falls on both sides; the
        # ratios are taken between neighbouring runs (pssync's first report against the
        # datacompy polars run before it, its second against the one after it).
        compare = workdir / "compare"
        result["datacompy_polars"] = run_datacompy(compare, "polars")
        result["pssync_first_report"] = run_pssync(compare, repair=False)
        result["datacompy_polars_sql"] = run_datacompy(compare, "polars-sql")
        result["datacompy_pandas"] = run_datacompy(compare, "pandas")
        result["pssync_report"] = run_pssync(compare, repair=False)
        result["datacompy_polars_again"] = run_datacompy(compare, "polars")
        result["load_avg_1m_after"] = load()
        first, second = result["pssync_first_report"], result["pssync_report"]
        polars_runs = [result["datacompy_polars"], result["datacompy_polars_again"]]
        result["speedup_vs_datacompy_polars"] = [
            round(peer["seconds"] / ours["seconds"], 2)
            for ours, peer in zip((first, second), polars_runs, strict=True)
        ]
        result["speedup_vs_datacompy_polars_sql"] = round(
            result["datacompy_polars_sql"]["seconds"] / first["seconds"], 2
        )
        result["speedup_vs_datacompy_pandas"] = round(
            result["datacompy_pandas"]["seconds"] / second["seconds"], 2
        )
        peers = [*polars_runs, result["datacompy_polars_sql"], result["datacompy_pandas"]]
        fastest_peak = min(p["peak_rss_mb"] for p in peers)
        result["memory_vs_least_datacompy"] = round(
            max(first["peak_rss_mb"], second["peak_rss_mb"]) / fastest_peak, 2
        )
        result["same_findings"] = all(
            ours[k] == peer[k] == planted[f"planted_{k}"]
            for k in ("drift", "missing", "deleted")
            for peer in peers
            for ours in (first, second)
        )
        result["every_finding_raised"] = all(
            ours["raised"] == sum(planted[f"planted_{k}"] for k in ("drift", "missing", "deleted"))
            for ours in (first, second)
        )
        result["at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        print(json.dumps(result))


def repair_path(workdir: Path, args: argparse.Namespace) -> dict[str, Any]:
    """`--repair` on a smaller world (every repaired account passes the duplicate check,
    whose cost grows with the number of golden accounts), then a report that finds nothing."""
    planted = build(workdir, args.repair_records)
    repaired = run_pssync(workdir, repair=True)
    after = run_pssync(workdir, repair=False)
    expected = sum(planted[f"planted_{k}"] for k in ("drift", "missing", "deleted"))
    return {
        "repair_records": args.repair_records,
        "pssync_repair": repaired,
        "pssync_after_repair": after,
        "repair_complete": repaired["repaired"] == expected
        and after["in_step"] == after["checked"]
        and not (after["drift"] or after["missing"] or after["deleted"]),
    }


if __name__ == "__main__":
    main()
