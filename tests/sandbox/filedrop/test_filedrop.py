"""The file-drop ERP: line-level acks and rejects, atomic pickup, idempotent re-drops, exports."""

from __future__ import annotations

import csv
import datetime as dt
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from pssync.sandbox.filedrop import FileDropEmulator

pytestmark = pytest.mark.integration

SEED = {
    "customers": [
        {
            "erp_id": "C000100",
            "external_id": "SF-ACME",
            "name": "Acme",
            "country": "DE",
            "currency": "EUR",
        },
    ],
    "invoices": [
        {
            "erp_id": "INV000900",
            "external_id": "INV-ACME-1",
            "customer_external_id": "SF-ACME",
            "invoice_date": dt.date(2024, 6, 30),
            "due_date": dt.date(2024, 7, 30),
            "currency": "EUR",
            "amount": "1200.00",
            "status": "paid",
        },
    ],
}


@pytest.fixture(scope="module")
def erp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FileDropEmulator]:
    # A long poll interval keeps the background thread out of the way; tests call process_now().
    emulator = FileDropEmulator(state_dir=tmp_path_factory.mktemp("filedrop"), poll_interval=60)
    with emulator:
        emulator.seed(SEED)
        yield emulator


def drop(erp: FileDropEmulator, name: str, text: str) -> Path:
    """Drop a batch the way pssync must: write a .tmp, then rename it to .csv."""
    inbound = Path(erp.credentials()["inbound_dir"])
    tmp = inbound / f"{name}.csv.tmp"
    tmp.write_text(text, encoding="utf-8")
    final = inbound / f"{name}.csv"
    os.replace(tmp, final)
    return final


def read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


PROJECTS = (
    "external_id,customer_external_id,code,name,start_date,end_date,currency,budget\n"
    "OPP-1,SF-ACME,PRJ-1,Transformation,2024-08-01,2025-01-31,EUR,250000.00\n"
    "OPP-2,SF-NOBODY,PRJ-2,Orphan,2024-08-01,2025-01-31,EUR,1.00\n"
    "OPP-3,SF-ACME,PRJ-3,Backwards,2024-09-01,2024-08-01,EUR,1.00\n"
    "OPP-4,SF-ACME,prj 4,Bad,2024-13-01,2024-12-01,EURO,1.005\n"
    "OPP-5,SF-ACME,PRJ-5,Retainer,2024-08-01,2024-12-31,USD,\n"
)


def test_batch_yields_line_level_acks_and_rejects(erp: FileDropEmulator) -> None:
    drop(erp, "projects_20240701_001", PROJECTS)
    (result,) = erp.process_now()
    folders = erp.credentials()
    acks = read(Path(folders["ack_dir"]) / "projects_20240701_001.ack.csv")
    rejects = read(Path(folders["reject_dir"]) / "projects_20240701_001.reject.csv")
    assert [(a["line"], a["external_id"]) for a in acks] == [("2", "OPP-1"), ("6", "OPP-5")]
    assert all(a["erp_id"].startswith("P") for a in acks)
    assert {(r["line"], r["field"], r["reason"]) for r in rejects} == {
        ("3", "customer_external_id", "unknown customer"),
        ("4", "end_date", "before start_date"),
        ("5", "code", "invalid project code"),
        ("5", "start_date", "invalid date, expected YYYY-MM-DD"),
        ("5", "currency", "invalid currency code, expected ISO 4217"),
        ("5", "budget", "more than 2 decimal places"),
    }
    assert (Path(folders["archive_dir"]) / "projects_20240701_001.csv").exists()
    assert not list(Path(folders["inbound_dir"]).iterdir())
    assert result.batch == "projects_20240701_001"


def test_missing_column_and_unknown_kind_reject_the_whole_batch(erp: FileDropEmulator) -> None:
    drop(erp, "customers_bad_header", "external_id,name\nX,Y\n")
    drop(erp, "timesheets_001", "a,b\n1,2\n")
    erp.process_now()
    reject_dir = Path(erp.credentials()["reject_dir"])
    header = read(reject_dir / "customers_bad_header.reject.csv")
    assert [(r["line"], r["field"], r["reason"]) for r in header] == [
        ("1", "country", "missing column"),
        ("1", "currency", "missing column"),
    ]
    assert read(reject_dir / "timesheets_001.reject.csv")[0]["reason"] == "unknown batch type"


def test_tmp_files_are_never_picked_up(erp: FileDropEmulator) -> None:
    inbound = Path(erp.credentials()["inbound_dir"])
    partial = inbound / "customers_20240702_001.csv.tmp"
    partial.write_text("external_id,name,country,currency\nSF-HALF,Half", encoding="utf-8")
    assert erp.process_now() == []
    assert partial.exists()
    assert not (Path(erp.credentials()["ack_dir"]) / "customers_20240702_001.ack.csv").exists()
    partial.unlink()


def test_redropping_a_batch_does_not_duplicate_records(erp: FileDropEmulator) -> None:
    batch = "external_id,name,country,currency,payment_terms\nSF-GLOBEX,Globex,US,USD,NET30\n"
    drop(erp, "customers_20240703_001", batch)
    (first,) = erp.process_now()
    before = erp.ledger.count("customers")
    drop(erp, "customers_20240703_001", batch.replace("NET30", "NET45"))
    (second,) = erp.process_now()
    assert erp.ledger.count("customers") == before
    assert first.acked[0]["erp_id"] == second.acked[0]["erp_id"]
    globex = [c for c in erp.ledger.all("customers") if c["external_id"] == "SF-GLOBEX"]
    assert [c["payment_terms"] for c in globex] == ["NET45"]
    archived = list(Path(erp.credentials()["archive_dir"]).glob("customers_20240703_001*.csv"))
    assert len(archived) == 2


def test_seed_and_accepted_lines_appear_in_outbound_exports(erp: FileDropEmulator) -> None:
    drop(
        erp,
        "invoices_20240704_001",
        "external_id,customer_external_id,invoice_date,due_date,currency,amount\n"
        "INV-NEW-1,SF-ACME,2024-07-04,2024-08-03,EUR,999.99\n",
    )
    (result,) = erp.process_now()
    assert not result.rejected
    today = dt.datetime.now(dt.UTC).date()
    export = Path(erp.credentials()["outbound_dir"]) / f"invoices_{today:%Y%m%d}.csv"
    rows = {r["external_id"]: r for r in read(export)}
    assert rows["INV-ACME-1"]["erp_id"] == "INV000900"
    assert rows["INV-ACME-1"]["status"] == "paid"
    assert (rows["INV-NEW-1"]["amount"], rows["INV-NEW-1"]["status"]) == ("999.99", "open")


def test_status_endpoint_and_background_polling(tmp_path: Path) -> None:
    with FileDropEmulator(state_dir=tmp_path, poll_interval=0.05) as emulator:
        drop(emulator, "customers_poll", "external_id,name,country,currency\nSF-P,Poll,FR,EUR\n")
        ack = Path(emulator.credentials()["ack_dir"]) / "customers_poll.ack.csv"
        deadline = time.monotonic() + 5
        while not ack.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert read(ack)[0]["external_id"] == "SF-P"
        status = requests.get(f"{emulator.base_url}/status", timeout=5).json()
        assert status["records"]["customers"] == 1
        assert status["folders"]["inbound_dir"] == emulator.credentials()["inbound_dir"]
