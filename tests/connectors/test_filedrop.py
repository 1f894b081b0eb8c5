"""The file-drop connector against the file-drop ERP emulator: the conformance suite plus what
only files have (atomic drops, ack timeouts, column sets, deletions seen in the exports).

The synthetic firm's file-drop view (`customer_no`, day/month/year dates) does not fit the
emulator's batch layouts (`external_id`, ISO dates), so this module seeds its own records.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conformance import ConnectorConformance, View, drain

from pssync.connectors import registry
from pssync.connectors.base import Connector, Outcome
from pssync.connectors.errors import PermanentError, RetriableError
from pssync.connectors.filedrop import FileDropConnector, FileDropSettings
from pssync.mapping import Translator, load_spec
from pssync.model import Account, Invoice, Project
from pssync.sandbox.common.emulator import Emulator
from pssync.sandbox.filedrop import FileDropEmulator

pytestmark = pytest.mark.integration

MAPPING = Path(__file__).parents[2] / "src/pssync/connectors/filedrop/mapping.yaml"

VIEW: View = {
    "customers": [
        {
            "erp_id": f"C{i:06d}",
            "external_id": f"acc-{i}",
            "name": name,
            "country": "AU",
            "currency": "AUD",
            "payment_terms": "NET30",
        }
        for i, name in enumerate(["Granite Mfg", "Proseware", "Northwind", "Contoso"], start=1)
    ],
    "projects": [
        {
            "erp_id": f"P{i:06d}",
            "external_id": f"prj-{i}",
            "customer_external_id": f"acc-{i}",
            "code": f"AU-{i:03d}",
            "name": f"Rollout {i}",
            "start_date": "2026-07-01",
            "end_date": "2026-12-31",
            "currency": "AUD",
        }
        for i in range(1, 3)
    ],
    "invoices": [
        {
            "erp_id": "INV000001",
            "external_id": "inv-1",
            "customer_external_id": "acc-1",
            "project_external_id": "prj-1",
            "invoice_date": "2026-07-31",
            "due_date": "2026-08-30",
            "currency": "AUD",
            "amount": "12500.00",
            "tax_amount": "1250.00",
        }
    ],
}


def settings_for(emulator: FileDropEmulator, **overrides: Any) -> FileDropSettings:
    folders = emulator.credentials()
    values: dict[str, Any] = {
        "inbound_dir": folders["inbound_dir"],
        "ack_dir": folders["ack_dir"],
        "reject_dir": folders["reject_dir"],
        "outbound_dir": folders["outbound_dir"],
        "ack_timeout": 10.0,
        "poll_interval": 0.02,
    }
    return FileDropSettings.model_validate(values | overrides)


class TestFileDropConformance(ConnectorConformance):
    write_object = "customers"
    external_id_field = "external_id"
    http_faults = False

    def start_emulator(self) -> Emulator:
        return FileDropEmulator(poll_interval=0.02).start()

    def seed_view(self) -> View:
        return VIEW

    def seeded_records(self, view: View) -> dict[str, dict[str, dict[str, Any]]]:
        return {kind: {r["erp_id"]: r for r in rows} for kind, rows in view.items()}

    def connector_for(self, emulator: Emulator, **settings: Any) -> Connector:
        assert isinstance(emulator, FileDropEmulator)
        return FileDropConnector(settings_for(emulator, **settings))

    def settle(self, emulator: Emulator) -> None:
        assert isinstance(emulator, FileDropEmulator)
        emulator.export()  # the ERP's export job runs after each import; wait for it

    def rows_for_paging(self, n: int) -> View:
        return {
            "customers": [
                {
                    "external_id": f"pg-{i}",
                    "name": f"Paging {i}",
                    "country": "NZ",
                    "currency": "NZD",
                }
                for i in range(n)
            ]
        }

    def make_record(self, i: int, tag: str, version: int = 0) -> dict[str, Any]:
        return {
            "external_id": f"T{tag}-{i}",
            "name": f"Customer {tag} {i}" + (f" v{version}" if version else ""),
            "country": "AU",
            "currency": "AUD",
        }

    def rich_record(self, tag: str) -> dict[str, Any]:
        name = 'Ünïcødé, "quoted" Pty Ltd — 東京 ✓ '
        return {
            "external_id": f"R{tag}",
            "name": (name * 4)[:80],  # the ERP takes 80 characters
            "country": "AU",
            "currency": "AUD",
            "tax_id": None,
            "billing_email": None,
        }

    def bad_record(self, tag: str) -> tuple[dict[str, Any], str | None]:
        return self.make_record(9, tag) | {"country": "Australia"}, "country"


# ---- what only files have ----------------------------------------------------------------


@pytest.fixture(scope="module")
def erp() -> Any:
    with FileDropEmulator(poll_interval=0.02) as emu:
        emu.seed(VIEW)
        yield emu


@pytest.fixture
def conn(erp: FileDropEmulator) -> FileDropConnector:
    return FileDropConnector(settings_for(erp, page_size=2))


def customer(ext: str, **values: Any) -> dict[str, Any]:
    return {
        "external_id": ext,
        "name": f"Customer {ext}",
        "country": "AU",
        "currency": "AUD",
    } | values


def test_registered_as_builtin() -> None:
    import pssync.connectors.builtin  # noqa: F401 - registers the built-ins

    assert registry.connector_class("filedrop") is FileDropConnector


def test_batch_is_dropped_atomically_and_archived(
    erp: FileDropEmulator, conn: FileDropConnector
) -> None:
    (result,) = conn.upsert("customers", "external_id", [customer("atomic-1")])
    assert result.outcome is Outcome.CREATED and result.id and result.id.startswith("C")
    folders = erp.credentials()
    assert not list(Path(folders["inbound_dir"]).iterdir())  # no .tmp left, batch picked up
    archived = [p.name for p in Path(folders["archive_dir"]).glob("customers_*.csv")]
    assert archived and not any(name.endswith(".tmp") for name in archived)


def test_no_ack_in_time_is_retriable_and_the_retry_is_idempotent(tmp_path: Path) -> None:
    idle = FileDropEmulator(state_dir=tmp_path)  # not started: its import job never runs
    idle.seed(VIEW)
    slow = FileDropConnector(settings_for(idle, ack_timeout=0.2))
    with pytest.raises(RetriableError) as caught:
        slow.upsert("customers", "external_id", [customer("late-1")])
    assert "no ack" in caught.value.message
    idle.process_now()  # the import job runs at last: the pending batch goes in and is exported
    idle.start()  # and keeps running for the retry
    try:
        (retry,) = FileDropConnector(settings_for(idle, skip_unchanged=False)).upsert(
            "customers", "external_id", [customer("late-1")]
        )
    finally:
        idle.stop()
    ids = [r["erp_id"] for r in idle.ledger.all("customers") if r["external_id"] == "late-1"]
    assert retry.outcome is Outcome.UPDATED and [retry.id] == ids


def test_missing_required_column_fails_every_record_of_its_file(conn: FileDropConnector) -> None:
    partial = {"external_id": "part-1", "name": "No country", "currency": "AUD"}
    good = customer("part-2")
    results = conn.upsert("customers", "external_id", [partial, good])
    assert results[0].outcome is Outcome.FAILED and results[0].error is not None
    assert results[0].error.field == "country" and "missing column" in results[0].error.message
    assert results[1].outcome is Outcome.CREATED  # its column set went in a file of its own


def test_columns_left_out_are_left_alone(erp: FileDropEmulator, conn: FileDropConnector) -> None:
    conn.upsert("customers", "external_id", [customer("keep-1", tax_id="ABN 1")])
    (result,) = conn.upsert("customers", "external_id", [customer("keep-1", name="Renamed")])
    assert result.outcome is Outcome.UPDATED
    erp.export()
    (row,) = [
        r.data for r in drain(conn.snapshot("customers"))[0] if r.data["external_id"] == "keep-1"
    ]
    assert (row["name"], row["tax_id"]) == ("Renamed", "ABN 1")
    cleared = conn.upsert(
        "customers", "external_id", [customer("keep-1", name="Renamed", tax_id=None)]
    )
    erp.export()
    assert cleared[0].outcome is Outcome.UPDATED
    (row,) = [
        r.data for r in drain(conn.snapshot("customers"))[0] if r.data["external_id"] == "keep-1"
    ]
    assert row["tax_id"] is None


def test_payment_recorded_by_the_erp_shows_as_a_change(
    erp: FileDropEmulator, conn: FileDropConnector
) -> None:
    cursor = drain(conn.changes("invoices", None))[1]
    erp.ledger.upsert(
        "invoices", {"external_id": "inv-1", "status": "paid", "paid_amount": "13750.00"}
    )
    erp.export()
    records = drain(conn.changes("invoices", cursor))[0]
    assert [(r.id, r.data["status"]) for r in records] == [("INV000001", "paid")]


def test_deletes_are_what_the_newest_export_no_longer_has(
    erp: FileDropEmulator, conn: FileDropConnector
) -> None:
    assert conn.deletes("projects", None)[0] == []
    baseline = conn.deletes("projects", None)[1]
    outbound = Path(erp.credentials()["outbound_dir"])
    current = sorted(outbound.glob("projects_*.csv"))[-1].read_text(encoding="utf-8").splitlines()
    tomorrow = outbound / "projects_29991231.csv"
    tomorrow.write_text(
        "\n".join(line for line in current if "P000002" not in line) + "\n", encoding="utf-8"
    )
    try:
        deletions, after = conn.deletes("projects", baseline)
        assert [d.id for d in deletions] == ["P000002"]
        assert conn.deletes("projects", after)[0] == []
    finally:
        tomorrow.unlink()


def test_line_breaks_and_unknown_columns_fail_before_any_file(conn: FileDropConnector) -> None:
    results = conn.upsert(
        "customers",
        "external_id",
        [customer("nl-1", name="two\nlines"), customer("nl-2", colour="blue")],
    )
    assert [r.error.field if r.error else None for r in results] == ["name", "colour"]


def test_unknown_kind_and_foreign_external_id_are_permanent(conn: FileDropConnector) -> None:
    with pytest.raises(PermanentError):
        conn.describe("suppliers")
    with pytest.raises(PermanentError):
        conn.upsert("customers", "erp_id", [customer("x")])
    fields = {f.name: f for f in conn.describe("invoices").fields}
    assert fields["external_id"].external_id and not fields["status"].updateable
    assert fields["amount"].type == "decimal" and not fields["amount"].nullable


@pytest.mark.parametrize(
    ("kind", "model"), [("customers", Account), ("projects", Project), ("invoices", Invoice)]
)
def test_default_mapping_translates_what_the_connector_reads(
    conn: FileDropConnector, kind: str, model: Any
) -> None:
    translator = Translator(load_spec(MAPPING))
    records = drain(conn.snapshot(kind))[0]
    assert records
    for record in records:
        payload = translator.to_canonical(kind, record.data)
        model.model_validate({"id": f"x-{record.id}", **payload})


def test_reads_add_the_erp_id_of_what_a_row_references(conn: FileDropConnector) -> None:
    """Rows name customers and projects by the external ID they were sent under; reads add
    their ERP ids, which the xref map knows."""
    projects = {r.id: r.data for r in drain(conn.snapshot("projects"))[0]}
    assert projects["P000001"]["customer_erp_id"] == "C000001"
    (invoice,) = [r.data for r in drain(conn.snapshot("invoices"))[0] if r.id == "INV000001"]
    assert (invoice["customer_erp_id"], invoice["project_erp_id"]) == ("C000001", "P000001")
    assert conn.external_id_of("customers", "C000002") == "acc-2"
    assert conn.external_id_of("customers", "C999999") is None
    translator = Translator(load_spec(MAPPING))
    payload = translator.to_canonical("projects", projects["P000001"])
    assert payload["account_id"] == "C000001"  # resolved to canonical through the xref map
