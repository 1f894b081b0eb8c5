"""The Dynamics 365 connector against the Dataverse emulator (real HTTP, OAuth client
credentials): the conformance suite, then what only Dataverse has (upsert by alternate key,
lookups bound with @odata.bind, scheduling entities, paging cookies, the default mapping).

The synthetic firm has no Dataverse view, so the suite is seeded with the small hand-made
environment below: accounts, an opportunity, a project and its tasks, linked by lookups.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from conformance import ConnectorConformance, View, drain

from pssync.connectors import registry
from pssync.connectors.base import Connector, Outcome
from pssync.connectors.dynamics import DynamicsConnector, DynamicsSettings
from pssync.connectors.errors import AuthError, PermanentError, RetriableError
from pssync.mapping import Translator, load_spec
from pssync.model import Account, Assignment, Opportunity, Project, WbsElement
from pssync.sandbox.common.emulator import Emulator
from pssync.sandbox.dynamics import DynamicsEmulator

pytestmark = pytest.mark.integration

MAPPING = Path(__file__).parents[2] / "src/pssync/connectors/dynamics/mapping.yaml"


def guid(name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"pssync-test:{name}"))


def environment() -> View:
    """A small Project Operations environment, in the shape the Web API reads it."""
    accounts = [
        {
            "accountid": guid(f"account-{i}"),
            "name": f"Customer {i} Ltd",
            "accountnumber": f"ACC-{i:03}",
            "websiteurl": f"https://customer{i}.example.com",
            "address1_city": ["Zürich", "Lyon", "Austin"][i % 3],
            "revenue": f"{(i + 1) * 125000}.50",
            "modifiedon": f"2026-03-0{1 + i % 3}T10:00:00Z",
        }
        for i in range(9)
    ]
    opportunity = {
        "opportunityid": guid("opportunity-1"),
        "name": "Data platform rollout",
        "pssync_externalid": "OPP-1",
        "_parentaccountid_value": accounts[0]["accountid"],
        "estimatedvalue": "240000.00",
        "estimatedclosedate": "2026-06-30",
        "closeprobability": 60,
        "salesstage": 2,
        "modifiedon": "2026-03-02T09:00:00Z",
    }
    project = {
        "msdyn_projectid": guid("project-1"),
        "msdyn_subject": "Data platform",
        "pssync_externalid": "PRJ-1",
        "_msdyn_customer_value": accounts[0]["accountid"],
        "_msdyn_opportunity_value": opportunity["opportunityid"],
        "msdyn_scheduledstart": "2026-07-01",
        "msdyn_finish": "2026-12-18",
        "msdyn_effort": "1200",
        "modifiedon": "2026-03-03T09:00:00Z",
    }
    root = guid("task-root")
    tasks = [
        {
            "msdyn_projecttaskid": root,
            "msdyn_subject": "Discovery",
            "_msdyn_project_value": project["msdyn_projectid"],
            "msdyn_wbsid": "1",
            "msdyn_outlinelevel": 1,
            "msdyn_effort": "200",
        },
        *(
            {
                "msdyn_projecttaskid": guid(f"task-{i}"),
                "msdyn_subject": f"Workshop {i}",
                "_msdyn_project_value": project["msdyn_projectid"],
                "_msdyn_parenttask_value": root,
                "msdyn_wbsid": f"1.{i}",
                "msdyn_outlinelevel": 2,
                "msdyn_effort": "40",
            }
            for i in range(1, 4)
        ),
    ]
    assignments = [
        {
            "msdyn_resourceassignmentid": guid(f"assignment-{i}"),
            "msdyn_name": f"Workshop {i} booking",
            "_msdyn_projectid_value": project["msdyn_projectid"],
            "_msdyn_taskid_value": guid(f"task-{i}"),
            "_msdyn_bookableresourceid_value": guid(f"resource-{i}"),
            "msdyn_committype": [192350002, 192350001][i % 2],  # 1: hard, 2: soft
            "msdyn_fromdate": "2026-07-06",
            "msdyn_todate": "2026-07-10",
            "msdyn_hours": "40",
        }
        for i in range(1, 3)
    ]
    return {
        "accounts": accounts,
        "opportunities": [opportunity],
        "msdyn_projects": [project],
        "msdyn_projecttasks": tasks,
        "msdyn_resourceassignments": assignments,
    }


def settings_for(emulator: Emulator, **overrides: Any) -> DynamicsSettings:
    assert isinstance(emulator, DynamicsEmulator)
    values: dict[str, Any] = {
        "base_url": emulator.base_url,
        "tenant_id": emulator.tenant_id,
        "client_id": emulator.client_id,
        "client_secret": emulator.client_secret,
        "token_url": emulator.token_url,
    }
    return DynamicsSettings.model_validate(values | overrides)


class TestDynamicsConformance(ConnectorConformance):
    write_object = "accounts"
    external_id_field = "accountnumber"
    small_page = 4

    def start_emulator(self) -> Emulator:
        return DynamicsEmulator().start()

    def seed_view(self) -> View:
        return environment()

    def seeded_records(self, view: View) -> dict[str, dict[str, dict[str, Any]]]:
        ids = {"accounts": "accountid", "opportunities": "opportunityid"}
        ids |= {"msdyn_projects": "msdyn_projectid", "msdyn_projecttasks": "msdyn_projecttaskid"}
        ids |= {"msdyn_resourceassignments": "msdyn_resourceassignmentid"}
        return {obj: {r[ids[obj]]: r for r in rows} for obj, rows in view.items()}

    def connector_for(self, emulator: Emulator, **settings: Any) -> Connector:
        return DynamicsConnector(settings_for(emulator, **settings))

    def bad_credentials(self, emulator: Emulator) -> Connector | None:
        return self.connector_for(emulator, client_secret="not-the-secret")

    def rows_for_paging(self, n: int) -> View:
        return {"accounts": [{"name": f"Paging {i}", "accountnumber": f"P{i}"} for i in range(n)]}

    def make_record(self, i: int, tag: str, version: int = 0) -> dict[str, Any]:
        return {
            "accountnumber": f"T{tag}-{i}",
            "name": f"Account {tag} {i}" + (f" v{version}" if version else ""),
            "revenue": f"{1_000_000 + i}.25",
            "address1_city": "Genève",
        }

    def rich_record(self, tag: str) -> dict[str, Any]:
        name = "Zürich Ærø Straße 東京 Ünïcødé ✓ — 'quoted' "
        return {
            "accountnumber": f"R'{tag} é",
            "name": (name * 8)[:160],
            "description": None,
            "websiteurl": None,
        }

    def bad_record(self, tag: str) -> tuple[dict[str, Any], str | None]:
        return {"accountnumber": f"B{tag}", "name": "x" * 161}, "name"


# ---- what only Dataverse has --------------------------------------------------------------


@pytest.fixture(scope="module")
def dataverse() -> Any:
    with DynamicsEmulator() as emu:
        emu.seed(environment())
        yield emu


@pytest.fixture
def conn(dataverse: DynamicsEmulator) -> Any:
    connector = DynamicsConnector(settings_for(dataverse))
    yield connector
    connector.close()


def requests_seen(emulator: Emulator) -> dict[str, int]:
    return dict(httpx.get(f"{emulator.base_url}/__admin/requests").raise_for_status().json())


def reset_requests(emulator: Emulator) -> None:
    httpx.delete(f"{emulator.base_url}/__admin/requests").raise_for_status()


def test_registered_as_builtin() -> None:
    assert registry.connector_class("dynamics") is DynamicsConnector


def test_connector_stays_within_300_lines() -> None:
    package = MAPPING.parent
    lines = sum(len(p.read_text().splitlines()) for p in package.glob("*.py"))
    assert lines <= 300, f"the Dynamics connector has {lines} lines of Python"


def test_a_replayed_create_updates_instead_of_duplicating(
    dataverse: DynamicsEmulator, conn: DynamicsConnector
) -> None:
    """The record was created after the batch's look-up (an earlier attempt whose answer was
    lost, or another writer): the create-only PATCH gets a 412 and the record is updated."""
    record = {"accountnumber": "LOST-1", "name": "Lost answer"}
    first = conn.upsert("accounts", "accountnumber", [record])[0]
    assert first.outcome is Outcome.CREATED
    stale = DynamicsConnector(settings_for(dataverse))
    looked: list[list[str]] = []
    real_lookup = stale.lookup

    def late(spec: Any, field: str, keys: list[str]) -> Any:
        looked.append(keys)
        return {} if len(looked) == 1 else real_lookup(spec, field, keys)  # first: not yet there

    stale.lookup = late  # type: ignore[method-assign]
    reset_requests(dataverse)
    again = stale.upsert("accounts", "accountnumber", [{**record, "name": "Lost answer 2"}])[0]
    assert (again.outcome, again.id) == (Outcome.UPDATED, first.id)
    assert looked == [["LOST-1"], ["LOST-1"]]
    seen = requests_seen(dataverse)
    assert seen["PATCH /api/data/v9.2/accounts(accountnumber='LOST-1')"] == 2
    rows = [r for r in drain(conn.snapshot("accounts"))[0] if r.data["accountnumber"] == "LOST-1"]
    assert len(rows) == 1 and rows[0].data["name"] == "Lost answer 2"


def test_lookups_are_bound_and_read_back(conn: DynamicsConnector) -> None:
    account = environment()["accounts"][1]["accountid"]
    record = {"pssync_externalid": "OPP-BIND", "name": "Bound", "_parentaccountid_value": account}
    (result,) = conn.upsert("opportunities", "pssync_externalid", [record])
    assert result.outcome is Outcome.CREATED
    stored = {r.id: r for r in drain(conn.snapshot("opportunities"))[0]}[str(result.id)]
    assert stored.data["_parentaccountid_value"] == account
    again = conn.upsert("opportunities", "pssync_externalid", [record])[0]
    assert again.outcome is Outcome.UNCHANGED


def test_a_lookup_to_a_missing_row_fails_its_record(conn: DynamicsConnector) -> None:
    record = {"pssync_externalid": "OPP-X", "name": "X", "_parentaccountid_value": guid("none")}
    (result,) = conn.upsert("opportunities", "pssync_externalid", [record])
    assert result.outcome is Outcome.FAILED and result.error is not None
    assert result.error.status == 404 and result.error.vendor_code == "0x80040217"
    assert result.error.record_id == "OPP-X"


def test_project_tasks_are_read_not_written(conn: DynamicsConnector) -> None:
    assert len(drain(conn.snapshot("msdyn_projecttasks"))[0]) == 4
    (result,) = conn.upsert("msdyn_projecttasks", "pssync_externalid", [{"pssync_externalid": "T"}])
    assert result.outcome is Outcome.FAILED and result.error is not None
    assert "schedule" in result.error.message


def test_keys_differing_in_case_are_one_record(conn: DynamicsConnector) -> None:
    first = conn.upsert("accounts", "accountnumber", [{"accountnumber": "case-1", "name": "A"}])
    second = conn.upsert("accounts", "accountnumber", [{"accountnumber": "CASE-1", "name": "A"}])
    assert first[0].outcome is Outcome.CREATED and second[0].outcome is Outcome.UNCHANGED
    assert second[0].id == first[0].id


def test_a_first_read_hands_its_cursor_out_only_at_the_end() -> None:
    """A first read (``Prefer: odata.track-changes``) pages through every row; only its last
    page carries the cursor (the delta link), so an interrupted first read starts over."""
    rows = [{"name": f"Row {i}", "accountnumber": f"S{i}"} for i in range(10)]
    with DynamicsEmulator() as emu:
        emu.seed({"accounts": rows})
        pages = list(DynamicsConnector(settings_for(emu, page_size=4)).changes("accounts", None))
        assert [len(p.records) for p in pages] == [4, 4, 2]
        assert [p.cursor is None for p in pages] == [True, True, False]
        assert len({r.id for p in pages for r in p.records}) == 10
        assert "$deltatoken=" in str(pages[-1].cursor)


def test_change_tracking_reads_changes_and_deletions_since_the_delta_link() -> None:
    rows = [{"name": f"Row {i}", "accountnumber": f"D{i}"} for i in range(6)]
    with DynamicsEmulator() as emu:
        emu.seed({"accounts": rows})
        conn = DynamicsConnector(settings_for(emu, page_size=2))
        first, cursor, _ = drain(conn.changes("accounts", None))
        assert len(first) == 6 and not any(r.deleted for r in first)
        ids = {r.data["accountnumber"]: r.id for r in first}
        conn.upsert("accounts", "accountnumber", [{"accountnumber": "D1", "name": "Renamed"}])
        conn.upsert("accounts", "accountnumber", [{"accountnumber": "D9", "name": "New"}])
        base = f"{emu.base_url}/api/data/v9.2/accounts({ids['D4']})"
        token = conn.transport.oauth.token["access_token"]
        httpx.delete(base, headers={"Authorization": f"Bearer {token}"}).raise_for_status()
        reset_requests(emu)
        changed, after, _ = drain(DynamicsConnector(settings_for(emu)).changes("accounts", cursor))
        by_number = {r.data.get("accountnumber"): r for r in changed if not r.deleted}
        assert set(by_number) == {"D1", "D9"} and by_number["D1"].data["name"] == "Renamed"
        assert [(r.id, r.data) for r in changed if r.deleted] == [(ids["D4"], {})]
        assert after is not None and after != cursor
        assert sum(requests_seen(emu).get(k, 0) for k in requests_seen(emu) if "accounts" in k) == 1
        assert drain(conn.changes("accounts", after))[0] == []


def test_a_stamp_cursor_from_before_reads_everything_once_with_tracking() -> None:
    with DynamicsEmulator() as emu:
        emu.seed({"accounts": [{"name": "Old", "accountnumber": "O1"}]})
        old = '{"v": 1, "at": "2026-03-02T10:00:00+00:00", "seen": {}}'
        records, cursor, _ = drain(DynamicsConnector(settings_for(emu)).changes("accounts", old))
        assert [r.data["accountnumber"] for r in records] == ["O1"]
        assert cursor is not None and "delta" in cursor


def test_a_long_retry_after_is_left_to_the_engine(dataverse: DynamicsEmulator) -> None:
    """A service protection 429 asking for more than `max_retry_wait` is raised at once, with
    the server's Retry-After, after one request."""
    conn = DynamicsConnector(settings_for(dataverse))
    drain(conn.snapshot("opportunities"))
    admin = f"{dataverse.base_url}/__admin/faults"
    httpx.put(admin, json={"error_rate": 1.0, "error_statuses": [429], "retry_after": 30})
    reset_requests(dataverse)
    try:
        with pytest.raises(RetriableError) as caught:
            drain(conn.snapshot("opportunities"))
    finally:
        httpx.put(admin, json={"error_rate": 0.0, "retry_after": 1})
    assert caught.value.retry_after == 30 and caught.value.vendor_code == "0x80072322"
    assert requests_seen(dataverse)["GET /api/data/v9.2/opportunities"] == 1


def test_a_short_retry_after_is_retried_by_the_transport(dataverse: DynamicsEmulator) -> None:
    conn = DynamicsConnector(settings_for(dataverse, attempts=3, max_retry_wait=2))
    drain(conn.snapshot("opportunities"))
    admin = f"{dataverse.base_url}/__admin/faults"
    httpx.put(admin, json={"error_rate": 0.5, "error_statuses": [503], "retry_after": 0, "seed": 3})
    try:
        records = [r for _ in range(5) for r in drain(conn.snapshot("opportunities"))[0]]
    finally:
        httpx.put(admin, json={"error_rate": 0.0, "retry_after": 1})
    assert len(records) >= 5  # every read got through, some only on a retry


def test_an_expired_token_is_renewed_before_the_request(dataverse: DynamicsEmulator) -> None:
    conn = DynamicsConnector(settings_for(dataverse))
    conn.transport.oauth.token = {"access_token": "old", "token_type": "Bearer", "expires_at": 1}
    reset_requests(dataverse)
    assert drain(conn.snapshot("opportunities"))[0]
    assert requests_seen(dataverse)[f"POST /{dataverse.tenant_id}/oauth2/v2.0/token"] == 1


def test_wrong_secret_raises_auth_error_naming_entra_code(dataverse: DynamicsEmulator) -> None:
    conn = DynamicsConnector(settings_for(dataverse, client_secret="nope"))
    with pytest.raises(AuthError) as caught:
        conn.describe("accounts")
    assert caught.value.vendor_code == "invalid_client"


def test_unknown_object_and_bad_cursor_are_permanent(conn: DynamicsConnector) -> None:
    with pytest.raises(PermanentError):
        conn.describe("invoices")
    with pytest.raises(PermanentError):
        drain(conn.changes("accounts", "not json"))
    assert conn.deletes("accounts", "c1") == ([], "c1")


def test_describe_names_the_alternate_key(conn: DynamicsConnector) -> None:
    fields = {f.name: f for f in conn.describe("accounts").fields}
    assert fields["accountnumber"].external_id and fields["name"].length == 160
    assert not fields["modifiedon"].updateable and fields["revenue"].type == "Money"


@pytest.mark.parametrize(
    ("obj", "model"),
    [
        ("accounts", Account),
        ("opportunities", Opportunity),
        ("msdyn_projects", Project),
        ("msdyn_projecttasks", WbsElement),
        ("msdyn_resourceassignments", Assignment),
    ],
)
def test_default_mapping_translates_what_the_connector_reads(
    conn: DynamicsConnector, obj: str, model: Any
) -> None:
    translator = Translator(load_spec(MAPPING))
    seeded = TestDynamicsConformance().seeded_records(environment())[obj]
    records = [r for r in drain(conn.snapshot(obj))[0] if r.id in seeded]
    assert len(records) == len(seeded)
    for record in records:
        payload = translator.to_canonical(obj, record.data)
        model.model_validate({"id": f"x-{record.id}", **payload})


def test_assignments_read_hard_and_soft_bookings(conn: DynamicsConnector) -> None:
    translator = Translator(load_spec(MAPPING))
    rows = {r.id: r for r in drain(conn.snapshot("msdyn_resourceassignments"))[0]}
    hard = translator.to_canonical("msdyn_resourceassignments", rows[guid("assignment-1")].data)
    soft = translator.to_canonical("msdyn_resourceassignments", rows[guid("assignment-2")].data)
    assert (hard["booking_type"], soft["booking_type"]) == ("hard", "soft")
    assert Decimal(hard["hours"]) == 40 and hard["resource_id"] == guid("resource-1")
    (refused,) = conn.upsert("msdyn_resourceassignments", "pssync_externalid", [{"x": 1}])
    assert refused.outcome is Outcome.FAILED


def test_mapping_round_trips_an_opportunity_amount(conn: DynamicsConnector) -> None:
    translator = Translator(load_spec(MAPPING))
    (opp,) = [r for r in drain(conn.snapshot("opportunities"))[0] if r.id == guid("opportunity-1")]
    payload = translator.to_canonical("opportunities", opp.data)
    assert payload["amount"] == {"amount": "240000.00", "currency": "USD"}
    assert Decimal(payload["probability"]) == 60 and payload["stage"] == "propose"
    vendor = translator.to_vendor("opportunities", payload)
    assert Decimal(str(vendor["estimatedvalue"])) == Decimal("240000")
