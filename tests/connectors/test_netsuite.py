"""The NetSuite connector against the NetSuite emulator (real HTTP, TBA-signed httpx).

The conformance suite runs seeded with the synthetic firm's NetSuite view (plus a few time
bills, which the firm keeps in the PSA); the tests below it cover what only NetSuite has: SuiteQL
economy (1,000 rows a call), the one-call-per-record upsert with unchanged detection, the
account's concurrency limit, TBA and OAuth 2.0, journals split into cost and revenue actuals.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import math
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from conformance import ConnectorConformance, View, drain, plain_equal
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import ValidationError

from pssync.connectors import registry
from pssync.connectors.base import Connector, Outcome
from pssync.connectors.errors import AuthError, PermanentError, RetriableError
from pssync.connectors.netsuite import NetSuiteConnector, NetSuiteSettings
from pssync.connectors.netsuite.cursor import StampCursor
from pssync.mapping import Translator, load_spec
from pssync.model import (
    Account,
    BillingMilestone,
    BillingSchedule,
    ContractLine,
    CostActual,
    Invoice,
    Payment,
    Project,
    RevenueEvent,
    TimeEntry,
    WbsElement,
)
from pssync.sandbox.common.emulator import Emulator
from pssync.sandbox.firm import generate_firm
from pssync.sandbox.netsuite import NetSuiteEmulator

pytestmark = pytest.mark.integration

MAPPING = Path(__file__).parents[2] / "src/pssync/connectors/netsuite/mapping.yaml"
READ_OBJECTS = (
    *("customer", "job", "projecttask", "invoice", "journalentry", "timebill"),
    *("salesorder", "billingschedule", "customerpayment"),
)
SUITEQL = "POST /services/rest/query/v1/suiteql"
SOAP = "POST /services/NetSuitePort_2024_2"


@functools.cache
def _firm_view() -> View:
    view = copy.deepcopy(generate_firm("small").views["netsuite"])
    job, task = view["job"][0], view["projecttask"][0]
    view["employee"] = [{"id": "501", "entityId": "Ada Consultant"}]
    view["timebill"] = [
        {
            "id": str(800 + i),
            "employee": {"id": "501"},
            "customer": {"id": job["id"]},
            "caseTaskEvent": {"id": task["id"]},
            "hours": 7.5 - i,
            "tranDate": f"2026-03-0{i + 2}",
            "isBillable": i != 2,
            "lastModifiedDate": "2026-03-09T18:00:00.000Z",
        }
        for i in range(3)
    ]
    return view


def firm_view() -> View:
    return copy.deepcopy(_firm_view())


def settings_for(emulator: Emulator, **overrides: Any) -> NetSuiteSettings:
    assert isinstance(emulator, NetSuiteEmulator)
    creds = emulator.credentials()
    values: dict[str, Any] = {
        "base_url": emulator.base_url,
        "account_id": creds["account_id"],
        "consumer_key": creds["consumer_key"],
        "consumer_secret": creds["consumer_secret"],
        "token_id": creds["token_id"],
        "token_secret": creds["token_secret"],
    }
    return NetSuiteSettings.model_validate(values | overrides)


def oauth2_settings(emulator: NetSuiteEmulator, key_pem: str | None = None) -> NetSuiteSettings:
    creds = emulator.credentials()
    return NetSuiteSettings(
        base_url=emulator.base_url,
        account_id=creds["account_id"],
        client_id=creds["oauth2_client_id"],
        certificate_id=creds["oauth2_certificate_id"],
        private_key=key_pem or creds["oauth2_private_key_pem"],  # type: ignore[arg-type]
    )


def same_netsuite_value(written: Any, read: Any) -> bool:
    """REST shapes against SuiteQL reads: a reference ``{"id"}`` is read as its ID (one given by
    name only has no ID to compare), datetimes compare as instants, lines line by line."""
    if isinstance(written, dict):
        return "id" not in written or plain_equal(written["id"], read)
    if isinstance(written, list) and isinstance(read, list) and len(written) == len(read):
        return all(
            all(same_netsuite_value(v, got.get(k)) for k, v in line.items() if k in got)
            for line, got in zip(written, read, strict=True)
        )
    texts = isinstance(written, str) and isinstance(read, str)
    if texts and len(written) > 19 and written[10] == "T" and read[10:11] == "T":
        return _instant(written) == _instant(read)
    return plain_equal(written, read)


def _instant(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).replace(microsecond=0)


class TestNetSuiteConformance(ConnectorConformance):
    write_object = "customer"
    external_id_field = "externalId"
    # NetSuite governs REST by concurrency, not a daily quota: a spent allowance is a 429
    # (the suite's default expectation, RetriableError).

    def start_emulator(self) -> Emulator:
        return NetSuiteEmulator().start()

    def seed_view(self) -> View:
        return firm_view()

    def seeded_records(self, view: View) -> dict[str, dict[str, dict[str, Any]]]:
        out = {obj: {str(r["id"]): r for r in view[obj]} for obj in READ_OBJECTS}
        tasks = out.pop("projecttask")
        out["projecttask"] = {k: r for k, r in tasks.items() if not r.get("isMilestone")}
        out["projecttask_milestone"] = {k: r for k, r in tasks.items() if r.get("isMilestone")}
        schedules = out.pop("billingschedule")
        out["billingschedule"] = {k: r for k, r in schedules.items() if r["scheduleType"] == "STD"}
        return out

    def connector_for(self, emulator: Emulator, **settings: Any) -> Connector:
        return NetSuiteConnector(settings_for(emulator, **settings))

    def bad_credentials(self, emulator: Emulator) -> Connector | None:
        return self.connector_for(emulator, consumer_secret="not-the-secret")

    def rows_for_paging(self, n: int) -> View:
        return {
            "customer": [
                {"companyName": f"Paging {i}", "subsidiary": {"id": "2"}} for i in range(n)
            ]
        }

    def make_record(self, i: int, tag: str, version: int = 0) -> dict[str, Any]:
        return {
            "externalId": f"T{tag}-{i}",
            "companyName": f"Org {tag} {i}" + (f" v{version}" if version else ""),
            "subsidiary": {"id": "2"},
            "email": f"ap{i}@example.com",
        }

    def rich_record(self, tag: str) -> dict[str, Any]:
        name = "Zürich Ærø Straße 東京 Ünïcødé ✓ — 'quoted' "
        return {
            "externalId": f"R'{tag} é",  # quotes and non-ASCII in the key: SuiteQL and URL
            "companyName": (name * 3)[:83],  # companyName holds 83 characters
            "subsidiary": {"id": "2"},
            "email": None,
            "phone": None,
            "isInactive": False,
        }

    def bad_record(self, tag: str) -> tuple[dict[str, Any], str | None]:
        return {"externalId": f"B{tag}", "subsidiary": {"id": "2"}}, "companyName"

    def same_value(self, field: str, written: Any, read: Any) -> bool:
        return same_netsuite_value(written, read)


# ---- what only NetSuite has --------------------------------------------------------------


@pytest.fixture(scope="module")
def ns() -> Any:
    with NetSuiteEmulator() as emu:
        emu.seed(firm_view())
        yield emu


@pytest.fixture
def conn(ns: NetSuiteEmulator) -> Any:
    connector = NetSuiteConnector(settings_for(ns))
    yield connector
    connector.close()


def requests_seen(emulator: Emulator) -> dict[str, int]:
    return dict(httpx.get(f"{emulator.base_url}/__admin/requests").raise_for_status().json())


def reset_requests(emulator: Emulator) -> None:
    httpx.delete(f"{emulator.base_url}/__admin/requests").raise_for_status()


def puts(seen: dict[str, int]) -> int:
    return sum(n for key, n in seen.items() if key.startswith("PUT /services/rest/record"))


def test_registered_as_builtin() -> None:
    import pssync.connectors.builtin  # noqa: F401 - registers the built-ins

    if "netsuite" not in registry.BUILTIN:
        pytest.skip("connectors/builtin.py does not register netsuite yet")
    assert registry.connector_class("netsuite") is NetSuiteConnector


def test_importing_the_package_does_not_load_authlib() -> None:
    code = (
        "import sys, pssync.connectors.netsuite as p; p.NetSuiteSettings; "
        "assert 'authlib' not in sys.modules, 'loaded eagerly'; "
        "p.NetSuiteConnector; assert 'authlib' in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_settings_infer_the_flow_and_hide_secrets() -> None:
    base = {"base_url": "https://1-sb1.suitetalk.api.netsuite.com", "account_id": "1_SB1"}
    tba = {"consumer_key": "k", "consumer_secret": "s3cr3t", "token_id": "t", "token_secret": "x"}
    settings = NetSuiteSettings.model_validate(base | tba)
    assert settings.flow == "tba" and "s3cr3t" not in repr(settings)
    assert settings.max_concurrency == 5 and settings.page_size == 1000
    m2m = {"client_id": "c", "certificate_id": "kid", "private_key": "pem"}
    assert NetSuiteSettings.model_validate(base | m2m).flow == "oauth2"
    with pytest.raises(ValidationError, match="token_secret"):
        NetSuiteSettings.model_validate(base | {"consumer_key": "k"})


@pytest.mark.parametrize("n", [1000, 2001])
def test_reads_cost_one_suiteql_call_per_1000_records(n: int) -> None:
    rows = [{"companyName": f"Bulk {i}", "subsidiary": {"id": "2"}} for i in range(n)]
    with NetSuiteEmulator() as emu:
        emu.seed({"customer": rows})
        conn = NetSuiteConnector(settings_for(emu))
        for read in (conn.snapshot, lambda obj: conn.changes(obj, None)):
            reset_requests(emu)
            records, cursor, pages = drain(read("customer"))
            assert len({r.id for r in records}) == len(records) == n
            assert requests_seen(emu).get(SUITEQL) == pages == math.ceil(n / 1000)
        reset_requests(emu)
        assert drain(conn.changes("customer", cursor))[0] == []
        assert requests_seen(emu).get(SUITEQL) == math.ceil(n / 1000)  # re-reads its second


def test_second_upsert_of_unchanged_records_writes_nothing(
    ns: NetSuiteEmulator, conn: NetSuiteConnector
) -> None:
    batch = [
        {"externalId": f"ECO-{i}", "companyName": f"Economy {i}", "subsidiary": {"id": "2"}}
        for i in range(250)
    ]
    reset_requests(ns)
    first = conn.upsert("customer", "externalId", batch)
    assert [r.outcome for r in first] == [Outcome.CREATED] * 250
    seen = requests_seen(ns)
    # 200 (a batch of at least soap_batch_threshold) by one SOAP upsertList, 50 by REST PUTs
    assert seen[SOAP] == 1 and puts(seen) == 50
    assert seen[SUITEQL] == 2  # one pre-read per batch of 200
    reset_requests(ns)
    batch[7]["companyName"] = "Economy seven, renamed"
    second = conn.upsert("customer", "externalId", batch)
    assert second[7].outcome is Outcome.UPDATED
    assert {r.outcome for i, r in enumerate(second) if i != 7} == {Outcome.UNCHANGED}
    assert [r.id for r in second] == [r.id for r in first]
    seen = requests_seen(ns)
    assert puts(seen) == 1 and seen[SUITEQL] == 2
    reset_requests(ns)
    third = conn.upsert("customer", "externalId", batch)
    assert {r.outcome for r in third} == {Outcome.UNCHANGED}
    assert puts(requests_seen(ns)) == 0


def _watch_in_flight(emulator: NetSuiteEmulator, stop: threading.Event, peak: list[int]) -> None:
    while not stop.is_set():
        peak[0] = max(peak[0], emulator.api.in_flight)
        time.sleep(0.002)


def test_parallel_upserts_stay_within_the_account_limit(ns: NetSuiteEmulator) -> None:
    conn = NetSuiteConnector(settings_for(ns))
    batch = [
        {"externalId": f"PAR-{i}", "companyName": f"Parallel {i}", "subsidiary": {"id": "2"}}
        for i in range(40)
    ]
    stop, peak = threading.Event(), [0]
    watcher = threading.Thread(target=_watch_in_flight, args=(ns, stop, peak))
    ns.processing_ms = 40
    watcher.start()
    try:
        results = conn.upsert("customer", "externalId", batch)
    finally:
        stop.set()
        watcher.join()
        ns.processing_ms = 0
    assert [r.outcome for r in results] == [Outcome.CREATED] * 40  # a 429 would have raised
    assert 1 < peak[0] <= ns.concurrency_limit


def test_concurrency_refusal_is_retriable(ns: NetSuiteEmulator) -> None:
    conn = NetSuiteConnector(settings_for(ns, max_concurrency=6))
    batch = [
        {"externalId": f"LIM-{i}", "companyName": f"Limited {i}", "subsidiary": {"id": "2"}}
        for i in range(24)
    ]
    ns.processing_ms, ns.concurrency_limit = 60, 2
    try:
        with pytest.raises(RetriableError) as caught:
            conn.upsert("customer", "externalId", batch)
    finally:
        ns.processing_ms, ns.concurrency_limit = 0, 5
    assert (caught.value.status, caught.value.vendor_code) == (429, "CONCURRENCY_LIMIT_EXCEEDED")
    again = conn.upsert("customer", "externalId", batch)  # the replay completes the batch
    assert Outcome.CREATED in {r.outcome for r in again}  # some were refused the first time
    assert Outcome.FAILED not in {r.outcome for r in again}
    assert len({r.id for r in again}) == 24


def test_bad_signature_raises_auth_error(ns: NetSuiteEmulator) -> None:
    before = sum(ns.verifier.rejections.values())
    conn = NetSuiteConnector(settings_for(ns, token_secret="forged"))
    with pytest.raises(AuthError) as caught:
        drain(conn.snapshot("customer"))
    assert caught.value.status == 401 and caught.value.vendor_code == "INVALID_LOGIN"
    assert sum(ns.verifier.rejections.values()) == before + 1
    with pytest.raises(AuthError):
        conn.upsert("customer", "externalId", [{"externalId": "X", "companyName": "X"}])


def test_oauth2_client_credentials_read_and_write(ns: NetSuiteEmulator) -> None:
    conn = NetSuiteConnector(oauth2_settings(ns))
    assert drain(conn.snapshot("job"))[0]
    record = {"externalId": "M2M-1", "companyName": "Bearer Ltd", "subsidiary": {"id": "2"}}
    assert conn.upsert("customer", "externalId", [record])[0].outcome is Outcome.CREATED
    assert conn.transport.bearer is not None and conn.transport.bearer.fetches == 1
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = other.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    with pytest.raises(AuthError, match="token request refused"):
        drain(NetSuiteConnector(oauth2_settings(ns, pem)).snapshot("job"))


def test_refusal_names_the_error_path(conn: NetSuiteConnector) -> None:
    bad = {"externalId": "JOB-BAD", "companyName": "Orphan", "parent": {"id": "999999"}}
    (result,) = conn.upsert("job", "externalId", [bad])
    assert result.outcome is Outcome.FAILED and result.error is not None
    assert (result.error.record_id, result.error.field) == ("JOB-BAD", "parent")
    assert result.error.status == 400 and result.error.vendor_code == "USER_ERROR"


def test_journals_split_into_cost_and_revenue_with_amounts(conn: NetSuiteConnector) -> None:
    seeded = {r["id"]: r for r in _firm_view()["journalentry"]}
    every = drain(conn.snapshot("journalentry"))[0]
    cost = drain(conn.snapshot("journalentry_cost"))[0]
    revenue = drain(conn.snapshot("journalentry_revenue"))[0]
    assert cost and revenue
    assert sorted(r.id for r in cost + revenue) == sorted(r.id for r in every) == sorted(seeded)
    for record in cost + revenue:
        lines = seeded[record.id]["line"]
        assert plain_equal(sum(line["debit"] for line in lines), record.data["amount"])
        assert record.data["project"] == seeded[record.id]["custbody_project"]["id"]
        assert len(record.data["line"]) == len(lines)
    assert {r.data["custbody_pssync_kind"] for r in cost} == {"cost"}
    (result,) = conn.upsert("journalentry_cost", "externalId", [{"externalId": "J"}])
    assert result.outcome is Outcome.FAILED


def test_records_sharing_a_second_resume_exactly_across_pages() -> None:
    stamp = "2026-03-02T10:00:00.000Z"
    rows = [
        {"companyName": f"Same {i}", "subsidiary": {"id": "2"}, "lastModifiedDate": stamp}
        for i in range(25)
    ]
    with NetSuiteEmulator() as emu:
        emu.seed({"customer": rows})
        pages = iter(NetSuiteConnector(settings_for(emu, page_size=10)).changes("customer", None))
        first = next(pages)
        assert len(first.records) == 10 and first.cursor is not None
        rest, last, _ = drain(
            NetSuiteConnector(settings_for(emu, page_size=10)).changes("customer", first.cursor)
        )
        assert len(rest) == 15 and not {r.id for r in rest} & {r.id for r in first.records}
        assert drain(NetSuiteConnector(settings_for(emu)).changes("customer", last))[0] == []


def test_cursor_delivers_a_record_saved_twice_in_one_second_again() -> None:
    at = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)
    cursor = StampCursor()
    cursor.advance(at, "7", "aaa")
    resumed = StampCursor.decode(cursor.encode())
    assert not resumed.admits(at, "7", "aaa")
    assert resumed.admits(at, "7", "bbb") and resumed.admits(at, "8", "aaa")
    assert resumed.admits(at + dt.timedelta(seconds=1), "7", "aaa")


def test_deletes_are_left_to_reconciliation(conn: NetSuiteConnector) -> None:
    assert conn.deletes("customer", "c1") == ([], "c1")


def test_unknown_object_and_bad_cursor_are_permanent(conn: NetSuiteConnector) -> None:
    with pytest.raises(PermanentError):
        conn.describe("purchaseorder")
    with pytest.raises(PermanentError):
        drain(conn.changes("customer", "not json"))


def test_describe_marks_the_external_id(conn: NetSuiteConnector) -> None:
    fields = {f.name: f for f in conn.describe("customer").fields}
    assert fields["externalId"].external_id and not fields["lastModifiedDate"].updateable
    assert not any(f.updateable for f in conn.describe("journalentry_cost").fields)


@pytest.mark.parametrize(
    ("obj", "model"),
    [
        ("customer", Account),
        ("job", Project),
        ("projecttask", WbsElement),
        ("timebill", TimeEntry),
        ("invoice", Invoice),
        ("journalentry_cost", CostActual),
        ("journalentry_revenue", RevenueEvent),
        ("salesorder", ContractLine),
        ("billingschedule", BillingSchedule),
        ("projecttask_milestone", BillingMilestone),
        ("customerpayment", Payment),
    ],
)
def test_default_mapping_translates_what_the_connector_reads(
    conn: NetSuiteConnector, obj: str, model: Any
) -> None:
    translator = Translator(load_spec(MAPPING))
    records = drain(conn.snapshot(obj))[0]
    assert records
    for record in records:
        payload = translator.to_canonical(obj, record.data)
        model.model_validate({"id": f"x-{record.id}", **payload})


def test_project_tasks_carry_the_firms_wbs_code(conn: NetSuiteConnector) -> None:
    """The firm keeps its WBS code on project tasks in a custom CRM field
    (``custevent_wbs_code``): the mapping reads it, and a task without it keeps its ID."""
    translator = Translator(load_spec(MAPPING))
    tasks = drain(conn.snapshot("projecttask"))[0]
    coded = [t for t in tasks if t.data.get("custevent_wbs_code")]
    assert coded
    for task in coded:
        code = translator.to_canonical("projecttask", task.data)["code"]
        assert code == task.data["custevent_wbs_code"] and code.startswith("PRJ-")
    bare = {k: v for k, v in coded[0].data.items() if k != "custevent_wbs_code"}
    assert translator.to_canonical("projecttask", bare)["code"] == coded[0].id
