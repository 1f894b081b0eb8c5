"""The Kantata connector against the Kantata emulator (real HTTP, bearer token).

The conformance suite runs seeded with the synthetic firm's Kantata view; the tests below it
cover what only Kantata has: external IDs kept in external references (Kantata has no upsert),
hard and soft allocations, changes read in stamp order page by page, and the cost of a read
(200 records a call, external references side-loaded in the same call).
"""

from __future__ import annotations

import copy
import functools
import math
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from conformance import ConnectorConformance, View, drain

from pssync.connectors import registry
from pssync.connectors.base import Connector, Outcome
from pssync.connectors.errors import AuthError, PermanentError
from pssync.connectors.kantata import KantataConnector, KantataSettings
from pssync.mapping import Translator, load_spec
from pssync.model import (
    Assignment,
    Invoice,
    Project,
    Resource,
    ResourceRequest,
    TimeEntry,
    WbsElement,
)
from pssync.sandbox.common.emulator import Emulator
from pssync.sandbox.firm import generate_firm
from pssync.sandbox.kantata import KantataEmulator

pytestmark = pytest.mark.integration

MAPPING = Path(__file__).parents[2] / "src/pssync/connectors/kantata/mapping.yaml"


@functools.cache
def _firm_view() -> View:
    return generate_firm("small").views["kantata"]


def firm_view() -> View:
    return copy.deepcopy(_firm_view())


def settings_for(emulator: Emulator, **overrides: Any) -> KantataSettings:
    assert isinstance(emulator, KantataEmulator)
    values: dict[str, Any] = {"base_url": emulator.base_url, "token": emulator.token}
    return KantataSettings.model_validate(values | overrides)


class TestKantataConformance(ConnectorConformance):
    write_object = "workspaces"
    external_id_field = "external_id"
    small_page = 5

    def start_emulator(self) -> Emulator:
        return KantataEmulator().start()

    def seed_view(self) -> View:
        return firm_view()

    def seeded_records(self, view: View) -> dict[str, dict[str, dict[str, Any]]]:
        return {obj: {str(r["id"]): r for r in rows} for obj, rows in view.items()}

    def connector_for(self, emulator: Emulator, **settings: Any) -> Connector:
        return KantataConnector(settings_for(emulator, **settings))

    def bad_credentials(self, emulator: Emulator) -> Connector | None:
        return self.connector_for(emulator, token="not-the-token")

    def rows_for_paging(self, n: int) -> View:
        return {"workspaces": [{"title": f"Paging {i}"} for i in range(n)]}

    def make_record(self, i: int, tag: str, version: int = 0) -> dict[str, Any]:
        return {
            "external_id": f"T{tag}-{i}",
            "title": f"Workspace {tag} {i}" + (f" v{version}" if version else ""),
            "start_date": "2026-07-01",
            "price_in_cents": 1_000_000 + i,
        }

    def rich_record(self, tag: str) -> dict[str, Any]:
        title = "Zürich Ærø Straße 東京 Ünïcødé ✓ — 'quoted' "
        return {
            "external_id": f"R'{tag} é",
            "title": (title * 8)[:255],
            "description": None,
            "due_date": None,
        }

    def bad_record(self, tag: str) -> tuple[dict[str, Any], str | None]:
        return {"external_id": f"B{tag}", "title": "Bad", "price_in_cents": "lots"}, (
            "price_in_cents"
        )


# ---- what only Kantata has ---------------------------------------------------------------


@pytest.fixture(scope="module")
def kantata() -> Any:
    with KantataEmulator() as emu:
        emu.seed(firm_view())
        yield emu


@pytest.fixture
def conn(kantata: KantataEmulator) -> Any:
    connector = KantataConnector(settings_for(kantata))
    yield connector
    connector.close()


def requests_seen(emulator: Emulator) -> dict[str, int]:
    return dict(httpx.get(f"{emulator.base_url}/__admin/requests").raise_for_status().json())


def reset_requests(emulator: Emulator) -> None:
    httpx.delete(f"{emulator.base_url}/__admin/requests").raise_for_status()


def test_registered_as_builtin() -> None:
    import pssync.connectors.builtin  # noqa: F401 - registers the built-ins

    if "kantata" not in registry.BUILTIN:
        pytest.skip("connectors/builtin.py does not register kantata yet")
    assert registry.connector_class("kantata") is KantataConnector


def test_importing_the_package_does_not_load_the_transport() -> None:
    code = (
        "import sys, pssync.connectors.kantata as p; p.KantataSettings; "
        "assert 'pssync.connectors.kantata.transport' not in sys.modules, 'loaded eagerly'; "
        "p.KantataConnector; assert 'pssync.connectors.kantata.transport' in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_reads_cost_one_call_per_200_records_and_no_index(kantata: KantataEmulator) -> None:
    conn = KantataConnector(settings_for(kantata))
    n = len(_firm_view()["time_entries"])
    for read, calls in (
        (conn.snapshot, math.ceil(n / 200)),
        # keyset paging re-reads the records of the second a page ended in (a day's entries
        # share their 18:00 stamp in the firm): a few calls more, never a whole second pass
        (lambda obj: conn.changes(obj, None), math.ceil(n / 200) * 11 // 10 + 1),
    ):
        reset_requests(kantata)
        records, _, _ = drain(read("time_entries"))
        assert len({r.id for r in records}) == len(records) == n
        seen = requests_seen(kantata)
        assert math.ceil(n / 200) <= seen["GET /api/v1/time_entries.json"] <= calls
        assert set(seen) == {"GET /api/v1/time_entries.json", "total"}  # nothing read first


def test_external_ids_travel_in_the_create_and_survive_a_new_instance(
    kantata: KantataEmulator,
) -> None:
    record = {"external_id": "PRJ-XR-1", "title": "Reference keyed", "start_date": "2026-08-03"}
    first = KantataConnector(settings_for(kantata))
    reset_requests(kantata)
    (created,) = first.upsert("workspaces", "external_id", [record])
    assert created.outcome is Outcome.CREATED and created.id
    assert requests_seen(kantata)["POST /api/v1/workspaces.json"] == 1
    assert "POST /api/v1/custom_field_values.json" not in requests_seen(kantata)
    refs = httpx.get(
        f"{kantata.base_url}/api/v1/external_references.json",
        params={"subject_type": "Workspace", "subject_id": created.id},
        headers={"Authorization": f"Bearer {kantata.token}"},
    ).json()
    assert [
        (r["service_name"], r["service_model"], r["service_model_ref"])
        for r in refs["external_references"].values()
    ] == [("pssync", "Workspace", "PRJ-XR-1")]
    fresh = KantataConnector(settings_for(kantata))
    reset_requests(kantata)
    assert fresh.upsert("workspaces", "external_id", [record])[0].outcome is Outcome.UNCHANGED
    seen = requests_seen(kantata)
    assert not any(k.startswith(("PUT", "POST")) for k in seen)  # unchanged: nothing written
    record["title"] = "Reference keyed, renamed"
    (updated,) = fresh.upsert("workspaces", "external_id", [record])
    assert (updated.outcome, updated.id) == (Outcome.UPDATED, created.id)
    stored = {r.id: r for r in drain(fresh.snapshot("workspaces"))[0]}[created.id]
    assert stored.data["external_id"] == "PRJ-XR-1" and stored.data["title"].endswith("renamed")


def test_soft_and_hard_allocations(conn: KantataConnector) -> None:
    resource = _firm_view()["workspace_resources"][0]
    soft = {
        "external_id": "ALLOC-SOFT-1",
        "resource_id": resource["id"],
        "start_date": "2026-09-01",
        "end_date": "2026-09-30",
        "minutes": 4800,
        "hard": False,
    }
    (result,) = conn.upsert("workspace_allocations", "external_id", [soft])
    assert result.outcome is Outcome.CREATED
    stored = {r.id: r for r in drain(conn.snapshot("workspace_allocations"))[0]}[str(result.id)]
    assert stored.data["hard"] is False
    assert stored.data["workspace_id"] == resource["workspace_id"]  # copied by the server
    payload = Translator(load_spec(MAPPING)).to_canonical("workspace_allocations", stored.data)
    assert payload["booking_type"] == "soft" and Decimal(payload["hours"]) == 80
    roles = {r["id"]: r["name"] for r in _firm_view()["roles"]}
    assert stored.data["workspace_resource.role_name"] == roles[resource["role_id"]]
    assert payload["role_id"].startswith("role-")  # the booked role, through the crosswalk


def test_validation_error_names_the_field(conn: KantataConnector) -> None:
    bad = {"external_id": "TE-BAD", "workspace_id": "999", "date_performed": "2026-01-05"}
    (result,) = conn.upsert("time_entries", "external_id", [bad])
    assert result.outcome is Outcome.FAILED and result.error is not None
    assert result.error.status == 422 and result.error.vendor_code == "validation"
    assert result.error.field in ("time_in_minutes", "workspace_id")
    assert result.error.record_id == "TE-BAD"


def test_users_are_read_only(conn: KantataConnector) -> None:
    (result,) = conn.upsert("users", "external_id", [{"external_id": "U1", "full_name": "X"}])
    assert result.outcome is Outcome.FAILED


def test_wrong_token_raises_auth_error(kantata: KantataEmulator) -> None:
    conn = KantataConnector(settings_for(kantata, token="nope"))
    with pytest.raises(AuthError) as caught:
        conn.upsert("workspaces", "external_id", [{"external_id": "A", "title": "A"}])
    assert caught.value.status == 401 and caught.value.vendor_code == "oauth"


def test_records_sharing_a_second_resume_exactly_across_pages() -> None:
    stamp = "2026-03-02T10:00:00+00:00"
    rows = [{"title": f"Same {i}", "updated_at": stamp} for i in range(12)]
    with KantataEmulator() as emu:
        emu.seed({"workspaces": rows})
        pages = iter(KantataConnector(settings_for(emu, page_size=5)).changes("workspaces", None))
        first = next(pages)
        assert len(first.records) == 5 and first.cursor is not None and not first.done
        rest, last, _ = drain(
            KantataConnector(settings_for(emu, page_size=5)).changes("workspaces", first.cursor)
        )
        assert len(rest) == 7 and not {r.id for r in rest} & {r.id for r in first.records}
        assert drain(KantataConnector(settings_for(emu)).changes("workspaces", last))[0] == []


def test_changes_come_in_stamp_order_not_id_order() -> None:
    rows = [
        {"id": "1", "title": "Late", "updated_at": "2026-03-03T10:00:00+00:00"},
        {"id": "2", "title": "Early", "updated_at": "2026-03-01T10:00:00+00:00"},
    ]
    with KantataEmulator() as emu:
        emu.seed({"workspaces": rows})
        conn = KantataConnector(settings_for(emu, page_size=1))
        pages = list(conn.changes("workspaces", None))
        assert [r.id for p in pages for r in p.records] == ["2", "1"]
        assert drain(conn.changes("workspaces", pages[0].cursor))[0][0].id == "1"


def test_a_list_that_refuses_the_updated_at_order_is_read_whole() -> None:
    """Not every Kantata list documents `updated_at` among its valid orders; a 400 on the first
    ordered call makes `changes` read the delta whole (ID order) and hand it out in stamp order."""
    rows = [
        {"id": "1", "title": "Late", "updated_at": "2026-03-03T10:00:00+00:00"},
        {"id": "2", "title": "Early", "updated_at": "2026-03-01T10:00:00+00:00"},
        {"id": "3", "title": "Middle", "updated_at": "2026-03-02T10:00:00+00:00"},
    ]
    with KantataEmulator() as emu:
        emu.seed({"workspaces": rows})
        conn = KantataConnector(settings_for(emu, page_size=2))
        real_call = conn.transport.call
        refused: list[str] = []

        def no_order(method: str, path: str, **kwargs: Any) -> dict[str, Any]:
            if (kwargs.get("params") or {}).get("order"):
                refused.append(path)
                raise PermanentError("Invalid order", system="kantata", status=400)
            return real_call(method, path, **kwargs)

        conn.transport.call = no_order  # type: ignore[method-assign]
        records, cursor, pages = drain(conn.changes("workspaces", None))
        assert [r.id for r in records] == ["2", "3", "1"] and pages == 2
        assert refused == ["/workspaces.json"]
        assert drain(conn.changes("workspaces", cursor))[0] == []  # no second refusal either
        assert refused == ["/workspaces.json"]


def test_deletes_are_left_to_reconciliation(conn: KantataConnector) -> None:
    assert conn.deletes("workspaces", "c1") == ([], "c1")


def test_unknown_object_and_bad_cursor_are_permanent(conn: KantataConnector) -> None:
    with pytest.raises(PermanentError):
        conn.describe("expenses")
    with pytest.raises(PermanentError):
        drain(conn.changes("workspaces", "not json"))


def test_describe_names_the_external_id(conn: KantataConnector) -> None:
    fields = {f.name: f for f in conn.describe("workspaces").fields}
    assert fields["external_id"].external_id and not fields["updated_at"].updateable
    assert fields["title"].updateable


@pytest.mark.parametrize(
    ("obj", "model"),
    [
        ("workspaces", Project),
        ("stories", WbsElement),
        ("users", Resource),
        ("workspace_allocations", Assignment),
        ("resource_requests", ResourceRequest),
        ("time_entries", TimeEntry),
        ("invoices", Invoice),
    ],
)
def test_default_mapping_translates_what_the_connector_reads(
    conn: KantataConnector, obj: str, model: Any
) -> None:
    translator = Translator(load_spec(MAPPING))
    records = drain(conn.snapshot(obj))[0]
    assert records
    # Filled by the engine from other systems: accounts behind invoices, a person's region
    # and cost rate (Kantata holds neither).
    enrich = {
        "account_id": "acc-x",
        "region_id": "reg-na",
        "cost_rate": {"amount": "100", "currency": "USD"},
    }
    for record in records[:500]:
        payload = translator.to_canonical(obj, record.data)
        extra = {k: v for k, v in enrich.items() if k in model.model_fields and k not in payload}
        model.model_validate({"id": f"x-{record.id}", **extra, **payload})


def test_time_entries_carry_their_role_and_workspaces_their_crm_deal(
    conn: KantataConnector,
) -> None:
    """`include=role` side-loads a time entry's project role (mapped by name through the role
    crosswalk); the Salesforce external reference the firm's integration keeps on a workspace
    is handed out as a companion and mapped to the workspace's CRM deal link."""
    translator = Translator(load_spec(MAPPING))
    entries, _, _ = drain(conn.snapshot("time_entries"))
    entry = entries[0]
    assert entry.data["role.name"]
    fields = translator.to_canonical("time_entries", entry.data)
    assert str(fields["role_id"]).startswith("role-")
    workspaces, _, _ = drain(conn.snapshot("workspaces"))
    linked = [w for w in workspaces if w.data.get("external_reference.salesforce.Opportunity")]
    assert linked and len(linked) >= len(workspaces) // 2  # the firm's: tests add their own
    fields = translator.to_canonical("workspaces", linked[0].data)
    deal = linked[0].data["external_reference.salesforce.Opportunity"]
    assert fields["xrefs"] == {"crm:Opportunity": deal}


def test_the_firms_custom_fields_give_wbs_codes_and_project_plans(
    conn: KantataConnector,
) -> None:
    """The firm keeps what Kantata has no standard field for in custom fields (side-loaded
    with ``include=custom_field_values``): a task's WBS code, a project's department, template
    baseline hours and the day work started. A story without the field keeps its ID as its
    code."""
    firm = generate_firm("small")
    translator = Translator(load_spec(MAPPING))
    stories, _, _ = drain(conn.snapshot("stories"))
    codes = {w.id: w.code for p in firm.projects for w in p.wbs}
    by_story = {firm.xrefs.get(wbs_id, "kantata:stories"): code for wbs_id, code in codes.items()}
    for story in stories[:50]:
        fields = translator.to_canonical("stories", story.data)
        assert fields["code"] == by_story[story.id], story.data
    bare = {k: v for k, v in stories[0].data.items() if not k.startswith("custom_fields")}
    assert translator.to_canonical("stories", bare)["code"] == stories[0].id
    workspaces, _, _ = drain(conn.snapshot("workspaces"))
    by_workspace = {firm.xrefs.get(p.id, "kantata:workspaces"): p for p in firm.projects}
    started = []
    for workspace in workspaces:
        project = by_workspace.get(workspace.id)
        if project is None:  # created by another test
            continue
        fields = translator.to_canonical("workspaces", workspace.data)
        code = project.service_line.lower()
        assert (fields["department_id"], fields["template_id"]) == (f"dep-{code}", f"tpl-{code}")
        assert Decimal(fields["baseline_hours"]) == project.baseline_hours
        started.append(fields.get("actual_start") == str(project.planned_start))
    assert any(started)  # the day work started, on the projects under way or done
