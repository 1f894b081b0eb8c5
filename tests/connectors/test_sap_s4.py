"""The SAP S/4HANA connector against the SAP emulator: the conformance suite, seeded with the
synthetic firm's SAP view, plus what only SAP has (CSRF, GUID keys, read-only billing, Edm types).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pytest
from conformance import ConnectorConformance, View, drain

from pssync.connectors import registry
from pssync.connectors.base import Connector, Outcome
from pssync.connectors.errors import PermanentError
from pssync.connectors.sap_s4 import SapS4Connector, SapS4Settings
from pssync.mapping import Translator, load_spec
from pssync.model import (
    Account,
    BillingSchedule,
    ContractLine,
    CostActual,
    Invoice,
    Payment,
    Project,
    RevenueEvent,
    WbsElement,
)
from pssync.sandbox.common.emulator import Emulator
from pssync.sandbox.firm import generate_firm
from pssync.sandbox.sap_s4 import SapS4Emulator

pytestmark = pytest.mark.integration

KEYS = {
    "A_BusinessPartner": "BusinessPartner",
    "A_EnterpriseProject": "ProjectUUID",
    "A_EnterpriseProjectElement": "ProjectElementUUID",
    "A_BillingDocument": "BillingDocument",
    "A_JournalEntryItemBasic": "ID",
}
MAPPING = Path(__file__).parents[2] / "src/pssync/connectors/sap_s4/mapping.yaml"


@functools.cache
def firm_view() -> View:
    return generate_firm("small").views["sap_s4"]


def settings_for(emulator: SapS4Emulator, **overrides: Any) -> SapS4Settings:
    values: dict[str, Any] = {
        "base_url": emulator.base_url,
        "username": emulator.username,
        "password": emulator.password,
    }
    return SapS4Settings.model_validate(values | overrides)


class TestSapS4Conformance(ConnectorConformance):
    write_object = "A_BusinessPartner"
    external_id_field = "BusinessPartnerIDByExtSystem"
    # SAP derives the names from Name 1/2 (the firm view plants a typo only in the full name).
    derived_fields = frozenset({"BusinessPartnerFullName", "BusinessPartnerName"})

    def start_emulator(self) -> Emulator:
        return SapS4Emulator(page_size=50).start()

    def seed_view(self) -> View:
        return firm_view()

    def seeded_records(self, view: View) -> dict[str, dict[str, dict[str, Any]]]:
        out = {
            obj: {str(r[KEYS[obj]]): r for r in rows} for obj, rows in view.items() if obj in KEYS
        }
        journal = out.pop("A_JournalEntryItemBasic", {})
        for kind, account in (("revenue", "41000000"), ("cost", "50301000")):
            out[f"A_JournalEntryItemBasic_{kind}"] = {
                i: r for i, r in journal.items() if r["GLAccount"] == account
            }
        parts = ("CompanyCode", "FiscalYear", "AccountingDocument", "AccountingDocumentItem")
        out["A_OperationalAcctgDocItemCube_payment"] = {
            "/".join(r[p] for p in parts): r
            for r in view.get("A_OperationalAcctgDocItemCube", [])
            if r["AccountingDocumentType"] == "DZ" and r["FinancialAccountType"] == "D"
        }
        return out

    def connector_for(self, emulator: Emulator, **settings: Any) -> Connector:
        assert isinstance(emulator, SapS4Emulator)
        return SapS4Connector(settings_for(emulator, **settings))

    def bad_credentials(self, emulator: Emulator) -> Connector | None:
        return self.connector_for(emulator, password="not-the-password")

    def rows_for_paging(self, n: int) -> View:
        return {
            "A_BusinessPartner": [
                {
                    "BusinessPartner": f"18{i:05d}",
                    "BusinessPartnerCategory": "2",
                    "OrganizationBPName1": f"Paging {i}",
                    "BusinessPartnerIDByExtSystem": f"PG-{i}",
                }
                for i in range(n)
            ]
        }

    def make_record(self, i: int, tag: str, version: int = 0) -> dict[str, Any]:
        return {
            "BusinessPartnerIDByExtSystem": f"T{tag}-{i}",
            "BusinessPartnerCategory": "2",
            "OrganizationBPName1": f"Org {tag} {i}" + (f" v{version}" if version else ""),
            "SearchTerm1": f"ORG{tag}",
        }

    def rich_record(self, tag: str) -> dict[str, Any]:
        name = "Zürich Ærø Straße 東京 Ünïcødé ✓ — "
        return {
            "BusinessPartnerIDByExtSystem": f"R{tag}",
            "BusinessPartnerCategory": "2",
            "OrganizationBPName1": (name * 2)[:40],  # Name 1 holds 40 characters
            "OrganizationBPName2": None,
            "Industry": None,
        }

    def bad_record(self, tag: str) -> tuple[dict[str, Any], str | None]:
        record = self.make_record(9, tag)
        record["BusinessPartnerCategory"] = "9"  # SAP knows 1 person, 2 organisation, 3 group
        return record, "BusinessPartnerCategory"


# ---- what only SAP has -------------------------------------------------------------------


@pytest.fixture(scope="module")
def sap() -> Any:
    with SapS4Emulator(page_size=5) as emu:
        emu.seed(firm_view())
        yield emu


@pytest.fixture
def conn(sap: SapS4Emulator) -> SapS4Connector:
    return SapS4Connector(settings_for(sap, page_size=4))


def test_registered_as_builtin() -> None:
    import pssync.connectors.builtin  # noqa: F401 - registers the built-ins

    assert registry.connector_class("sap_s4") is SapS4Connector


def test_stale_csrf_token_is_fetched_again_once(conn: SapS4Connector) -> None:
    record = {"BusinessPartnerIDByExtSystem": "CSRF-1", "OrganizationBPName1": "Token Ltd"}
    assert conn.upsert("A_BusinessPartner", "BusinessPartnerIDByExtSystem", [record])[0].outcome
    assert conn.csrf.fetches == 1
    conn.session.headers["x-csrf-token"] = "expired"
    record["OrganizationBPName1"] = "Token Ltd 2"
    (result,) = conn.upsert("A_BusinessPartner", "BusinessPartnerIDByExtSystem", [record])
    assert result.outcome is Outcome.UPDATED
    assert conn.csrf.fetches == 2


def test_projects_and_elements_upsert_with_guid_keys(conn: SapS4Connector) -> None:
    project = {
        "Project": "PRJ-CONN-1",
        "ProjectDescription": "Connector project",
        "ProjectStartDate": "2026-07-01",
        "ProjectEndDate": "2026-12-31",
        "ProjectCurrency": "EUR",
    }
    (created,) = conn.upsert("A_EnterpriseProject", "Project", [project])
    assert created.outcome is Outcome.CREATED and created.id
    element = {
        "ProjectElement": "PRJ-CONN-1.1",
        "ProjectUUID": created.id,
        "ProjectElementDescription": "Design",
        "PlannedStartDate": "2026-07-01",
        "PlannedEndDate": "2026-08-31",
    }
    assert conn.upsert("A_EnterpriseProjectElement", "ProjectElement", [element])[0].id
    project["ProjectEndDate"] = "2027-01-31"
    (updated,) = conn.upsert("A_EnterpriseProject", "Project", [project])
    assert (updated.outcome, updated.id) == (Outcome.UPDATED, created.id)
    stored = {r.id: r for r in drain(conn.snapshot("A_EnterpriseProject"))[0]}[created.id]
    assert stored.data["ProjectEndDate"] == "2027-01-31"
    assert conn.upsert("A_EnterpriseProject", "Project", [project])[0].outcome is Outcome.UNCHANGED


def test_sap_refusal_names_record_field_and_code(conn: SapS4Connector) -> None:
    bad = {
        "Project": "PRJ-CONN-BAD",
        "ProjectDescription": "Ends before it starts",
        "ProjectStartDate": "2026-07-01",
        "ProjectEndDate": "2026-01-31",
    }
    (result,) = conn.upsert("A_EnterpriseProject", "Project", [bad])
    assert result.outcome is Outcome.FAILED and result.error is not None
    assert (result.error.record_id, result.error.field) == ("PRJ-CONN-BAD", "ProjectEndDate")
    assert result.error.status == 400 and result.error.vendor_code
    (too_long,) = conn.upsert(
        "A_EnterpriseProject", "Project", [bad | {"ProjectDescription": "x" * 61}]
    )
    assert too_long.error is not None and too_long.error.field == "ProjectDescription"


def test_billing_documents_are_read_only(conn: SapS4Connector) -> None:
    results = conn.upsert("A_BillingDocument", "BillingDocument", [{"BillingDocument": "1"}])
    assert results[0].outcome is Outcome.FAILED
    assert results[0].error is not None and "read-only" in results[0].error.message
    assert not any(f.updateable for f in conn.describe("A_BillingDocument").fields)


def test_records_sharing_a_stamp_cross_pages_once(conn: SapS4Connector) -> None:
    """The firm's WBS elements share their project's creation stamp, so pages of 4 cut through
    groups of equal stamps; each element must still come exactly once."""
    records, cursor, pages = drain(conn.changes("A_EnterpriseProjectElement", None))
    ids = [r.id for r in records]
    assert len(ids) == len(set(ids))
    assert {r["ProjectElementUUID"] for r in firm_view()["A_EnterpriseProjectElement"]} <= set(ids)
    assert pages > 2
    assert [r.modified_at for r in records] == sorted(r.modified_at for r in records)  # type: ignore[type-var]
    assert drain(conn.changes("A_EnterpriseProjectElement", cursor))[0] == []


def test_deletes_are_left_to_reconciliation(conn: SapS4Connector) -> None:
    assert conn.deletes("A_EnterpriseProject", "c1") == ([], "c1")


def test_describe_comes_from_metadata(conn: SapS4Connector) -> None:
    fields = {f.name: f for f in conn.describe("A_BusinessPartner").fields}
    assert fields["BusinessPartnerIDByExtSystem"].external_id
    assert fields["OrganizationBPName1"].length == 40
    assert not fields["BusinessPartnerFullName"].updateable
    assert fields["LastChangeTime"].type == "Edm.Time"


def test_unknown_object_and_bad_cursor_are_permanent(conn: SapS4Connector) -> None:
    with pytest.raises(PermanentError):
        conn.describe("A_PurchaseOrder")
    with pytest.raises(PermanentError):
        drain(conn.changes("A_EnterpriseProject", "not json"))


@pytest.mark.parametrize(
    ("obj", "model"),
    [
        ("A_BusinessPartner", Account),
        ("A_EnterpriseProject", Project),
        ("A_EnterpriseProjectElement", WbsElement),
        ("A_BillingDocument", Invoice),
        ("A_JournalEntryItemBasic_revenue", RevenueEvent),
        ("A_JournalEntryItemBasic_cost", CostActual),
        ("A_OperationalAcctgDocItemCube_payment", Payment),
        ("A_SalesOrder", ContractLine),
        ("A_SalesOrderBillingPlan", BillingSchedule),
    ],
)
def test_default_mapping_translates_what_the_connector_reads(
    conn: SapS4Connector, obj: str, model: Any
) -> None:
    translator = Translator(load_spec(MAPPING))
    records = drain(conn.snapshot(obj))[0]
    assert records
    for record in records:
        payload = translator.to_canonical(obj, record.data)
        if "account_id" in model.model_fields:  # references are resolved by the engine
            payload.setdefault("account_id", "acc-x")
        if "contract_line_id" in model.model_fields:
            payload.setdefault("contract_line_id", "cl-x")
        model.model_validate({"id": f"x-{record.id}", **payload})


def test_projects_name_their_customer_by_guid_and_reads_add_its_number(
    conn: SapS4Connector,
) -> None:
    """API_ENTERPRISE_PROJECT_SRV links a project's customer by the partner's GUID; reads add
    the partner's number (`CustomerBusinessPartner`), which the xref map knows."""
    partners = {r["BusinessPartner"]: r for r in firm_view()["A_BusinessPartner"]}
    seeded = [p for p in firm_view()["A_EnterpriseProject"] if p.get("CustomerUUID")]
    assert seeded
    by_uuid = {str(p["BusinessPartnerUUID"]): n for n, p in partners.items()}
    read = {r.id: r.data for r in drain(conn.snapshot("A_EnterpriseProject"))[0]}
    for project in seeded:
        row = read[project["ProjectUUID"]]
        assert row["CustomerUUID"] == project["CustomerUUID"]
        assert row["CustomerBusinessPartner"] == by_uuid[project["CustomerUUID"]]
    number = next(iter(partners))
    assert conn.partner_uuid(number) == str(partners[number]["BusinessPartnerUUID"])
    assert conn.partner_uuid("9999999") is None
    orphan = {
        "Project": "PRJ-CONN-NOBP",
        "ProjectDescription": "No such customer",
        "ProjectStartDate": "2026-07-01",
        "ProjectEndDate": "2026-12-31",
        "CustomerUUID": "00000000-0000-4000-8000-000000000001",
    }
    (created,) = conn.upsert("A_EnterpriseProject", "Project", [orphan])
    assert created.id is not None
    rows = {r.id: r.data for r in drain(conn.snapshot("A_EnterpriseProject"))[0]}
    assert rows[created.id]["CustomerBusinessPartner"] is None


# ---- concurrency, root elements, deep insert, $batch (issue 16 item 3) -------------------


def _project(code: str) -> dict[str, Any]:
    return {
        "Project": code,
        "ProjectDescription": f"Project {code}",
        "ProjectStartDate": "2026-07-01",
        "ProjectEndDate": "2026-12-31",
    }


def _requests_of(conn: SapS4Connector) -> list[str]:
    """Every request the connector sends, as ``METHOD path`` (a response hook)."""
    seen: list[str] = []
    conn.session.hooks["response"].append(
        lambda r, *a, **k: seen.append(f"{r.request.method} {r.request.path_url.split('?')[0]}")
    )
    return seen


def test_updates_carry_if_match_and_a_stale_etag_is_read_again_once(
    conn: SapS4Connector, sap: SapS4Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Someone changes the project between pssync's read and its MERGE: SAP answers 412, the
    connector reads the project again and resends its change with the new ETag."""
    from pssync.connectors.sap_s4 import writes

    (created,) = conn.upsert("A_EnterpriseProject", "Project", [_project("PRJ-ETAG-1")])
    other = SapS4Connector(settings_for(sap))
    lookup = writes.Upsert.lookup

    def racing_lookup(self: Any, ids: list[str]) -> Any:
        found = lookup(self, ids)
        if self.sap.name == "A_EnterpriseProject" and not racing_lookup.done:  # type: ignore[attr-defined]
            racing_lookup.done = True  # type: ignore[attr-defined]
            change = _project("PRJ-ETAG-1") | {"PriorityCode": "2"}
            assert (
                other.upsert("A_EnterpriseProject", "Project", [change])[0].outcome
                is Outcome.UPDATED
            )
        return found

    racing_lookup.done = False  # type: ignore[attr-defined]
    monkeypatch.setattr(writes.Upsert, "lookup", racing_lookup)
    seen = _requests_of(conn)
    mine = _project("PRJ-ETAG-1") | {"ProjectEndDate": "2027-03-31"}
    (result,) = conn.upsert("A_EnterpriseProject", "Project", [mine])
    assert (result.outcome, result.id) == (Outcome.UPDATED, created.id)
    assert [s for s in seen if s.endswith("$batch")] == [
        "POST /sap/opu/odata/sap/API_ENTERPRISE_PROJECT_SRV/$batch"
    ] * 2
    row = {r.id: r.data for r in drain(conn.snapshot("A_EnterpriseProject"))[0]}[created.id]
    assert (row["ProjectEndDate"], row["PriorityCode"]) == ("2027-03-31", "2")  # both kept


def test_an_update_without_the_etag_is_refused_by_sap(sap: SapS4Emulator) -> None:
    """What every pre-ETag MERGE got: 428 Precondition Required (SAP KBA 3514624)."""
    import requests

    http = requests.Session()
    http.auth = (sap.username, sap.password)
    url = sap.service_url("API_ENTERPRISE_PROJECT_SRV")
    token = http.head(url, headers={"x-csrf-token": "Fetch"}).headers["x-csrf-token"]
    project = firm_view()["A_EnterpriseProject"][0]["ProjectUUID"]
    answer = http.patch(
        f"{url}A_EnterpriseProject(guid'{project}')",
        json={"PriorityCode": "1"},
        headers={"x-csrf-token": token},
    )
    assert answer.status_code == 428


def test_root_element_is_not_read_as_a_wbs_element_and_updates_go_to_the_project(
    conn: SapS4Connector,
) -> None:
    (created,) = conn.upsert("A_EnterpriseProject", "Project", [_project("PRJ-ROOT-1")])
    elements = {
        r.data["ProjectElement"] for r in drain(conn.snapshot("A_EnterpriseProjectElement"))[0]
    }
    changed = {
        r.data["ProjectElement"] for r in drain(conn.changes("A_EnterpriseProjectElement", None))[0]
    }
    assert "PRJ-ROOT-1" not in elements | changed
    root = {
        "ProjectElement": "PRJ-ROOT-1",
        "ProjectUUID": created.id,
        "ProjectElementDescription": "Renamed through the root",
        "PlannedEndDate": "2027-01-31",
    }
    (result,) = conn.upsert("A_EnterpriseProjectElement", "ProjectElement", [root])
    assert (result.outcome, result.id) == (Outcome.UPDATED, created.id)
    row = {r.id: r.data for r in drain(conn.snapshot("A_EnterpriseProject"))[0]}[created.id]
    assert (row["ProjectDescription"], row["ProjectEndDate"]) == (
        "Renamed through the root",
        "2027-01-31",
    )
    assert (
        conn.upsert("A_EnterpriseProjectElement", "ProjectElement", [root])[0].outcome
        is Outcome.UNCHANGED
    )


def test_partner_is_created_with_grouping_roles_and_customer_in_one_deep_insert(
    conn: SapS4Connector,
) -> None:
    partner = {
        "BusinessPartnerIDByExtSystem": "DEEP-1",
        "BusinessPartnerCategory": "2",
        "BusinessPartnerGrouping": "BP02",
        "OrganizationBPName1": "Deep Insert AG",
        "to_BusinessPartnerRole": [
            {"BusinessPartnerRole": "FLCU00"},
            {"BusinessPartnerRole": "FLCU01"},
        ],
        "to_Customer": {"to_CustomerCompany": [{"CompanyCode": "DE01", "PaymentTerms": "0030"}]},
    }
    seen = _requests_of(conn)
    (created,) = conn.upsert("A_BusinessPartner", "BusinessPartnerIDByExtSystem", [partner])
    assert created.outcome is Outcome.CREATED and created.id
    assert [s for s in seen if s.startswith("POST")] == [
        "POST /sap/opu/odata/sap/API_BUSINESS_PARTNER/$batch"
    ]
    client = conn.client("API_BUSINESS_PARTNER").entity_sets
    roles = client.A_BusinessPartnerRole.get_entities().filter(f"BusinessPartner eq '{created.id}'")
    assert sorted(r.BusinessPartnerRole for r in roles.execute()) == ["FLCU00", "FLCU01"]
    company = client.A_CustomerCompany.get_entity(Customer=created.id, CompanyCode="DE01").execute()
    assert company.PaymentTerms == "0030"
    again = conn.upsert("A_BusinessPartner", "BusinessPartnerIDByExtSystem", [partner])
    assert again[0].outcome is Outcome.UNCHANGED  # children are given at creation only


def test_bulk_writes_go_in_one_batch_and_a_refused_record_fails_alone(conn: SapS4Connector) -> None:
    records = [_project(f"PRJ-BULK-{i}") for i in range(6)]
    records[3]["ProjectEndDate"] = "2026-01-01"  # ends before it starts: SAP refuses it
    seen = _requests_of(conn)
    results = conn.upsert("A_EnterpriseProject", "Project", records)
    assert [r.outcome for r in results] == [Outcome.CREATED] * 3 + [Outcome.FAILED] + [
        Outcome.CREATED
    ] * 2
    assert results[3].error is not None and results[3].error.field == "ProjectEndDate"
    assert [s for s in seen if s.startswith("POST")] == [
        "POST /sap/opu/odata/sap/API_ENTERPRISE_PROJECT_SRV/$batch"
    ]


def test_the_firms_customers_carry_their_roles_and_company_code_data(conn: SapS4Connector) -> None:
    """The SAP view is what SAP would hold: every customer partner was created with the customer
    roles and its DE01 data (payment terms), as the handoff now creates new ones."""
    api = conn.client("API_BUSINESS_PARTNER").entity_sets
    partner = firm_view()["A_BusinessPartner"][0]["BusinessPartner"]
    roles = api.A_BusinessPartnerRole.get_entities().filter(f"BusinessPartner eq '{partner}'")
    assert sorted(r.BusinessPartnerRole for r in roles.execute()) == ["FLCU00", "FLCU01"]
    company = api.A_CustomerCompany.get_entity(Customer=partner, CompanyCode="DE01").execute()
    assert company.PaymentTerms in {"0030", "0045", "0060"}


def test_a_record_repeated_in_one_call_is_created_then_updated(conn: SapS4Connector) -> None:
    first = _project("PRJ-TWICE")
    second = first | {"ProjectEndDate": "2027-02-28"}
    created, updated = conn.upsert("A_EnterpriseProject", "Project", [first, second])
    assert (created.outcome, updated.outcome) == (Outcome.CREATED, Outcome.UPDATED)
    assert created.id == updated.id
    row = {r.id: r.data for r in drain(conn.snapshot("A_EnterpriseProject"))[0]}[created.id]
    assert row["ProjectEndDate"] == "2027-02-28"
