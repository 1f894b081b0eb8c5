"""NetSuite as its documentation describes it, not as the connector would like it.

SuiteQL answers dates in the account's display format (a user preference), so the connector
must format them itself with TO_CHAR; journal amounts live on TransactionAccountingLine, so
amounts read from TransactionLine would all be zero. Both against the emulator over real HTTP.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from conformance import drain
from test_netsuite import MAPPING, firm_view, settings_for

from pssync.connectors.netsuite import NetSuiteConnector
from pssync.connectors.netsuite.transport import Transport
from pssync.mapping import Translator, load_spec
from pssync.sandbox.firm import generate_firm
from pssync.sandbox.netsuite import NetSuiteEmulator

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def ns() -> Iterator[NetSuiteEmulator]:
    with NetSuiteEmulator() as emu:
        emu.seed(firm_view())
        yield emu


@pytest.fixture
def conn(ns: NetSuiteEmulator) -> Iterator[NetSuiteConnector]:
    connector = NetSuiteConnector(settings_for(ns))
    yield connector
    connector.close()


def raw_suiteql(ns: NetSuiteEmulator, q: str) -> list[dict[str, Any]]:
    transport = Transport(settings_for(ns))
    try:
        return list(transport.suiteql(q, limit=1000)["items"])
    finally:
        transport.close()


class Spy:
    """Records the SuiteQL the connector sends (wrapping its transport, no mock server)."""

    def __init__(self, conn: NetSuiteConnector) -> None:
        self.queries: list[str] = []
        real = conn.transport.suiteql

        def suiteql(query: str, *, limit: int, offset: int = 0) -> dict[str, Any]:
            self.queries.append(query)
            return real(query, limit=limit, offset=offset)

        conn.transport.suiteql = suiteql  # type: ignore[method-assign]


def test_suiteql_answers_dates_in_the_display_format(ns: NetSuiteEmulator) -> None:
    invoice = firm_view()["invoice"][0]
    (row,) = raw_suiteql(
        ns, f"SELECT trandate, lastmodifieddate FROM transaction WHERE id = {invoice['id']}"
    )
    day = dt.date.fromisoformat(invoice["tranDate"])
    assert row["trandate"] == f"{day.month}/{day.day}/{day.year}"  # e.g. 3/14/2024
    assert row["lastmodifieddate"].endswith((" am", " pm"))
    with pytest.raises(ValueError):
        dt.date.fromisoformat(row["trandate"])  # what `SELECT *` + ISO parsing would hit


@pytest.mark.parametrize(("date_format", "time_format"), [("D.M.YYYY", "H:mm"), ("M/D/YYYY", "")])
def test_connector_reads_iso_dates_whatever_the_account_preferences(
    date_format: str, time_format: str
) -> None:
    view = firm_view()
    with NetSuiteEmulator() as emu:
        emu.seed(copy.deepcopy(view))
        emu.date_format, emu.time_format = date_format, time_format
        conn = NetSuiteConnector(settings_for(emu))
        spy = Spy(conn)
        invoices = {r.id: r for r in drain(conn.changes("invoice", None))[0]}
        jobs = {r.id: r for r in drain(conn.snapshot("job"))[0]}
    for seeded in view["invoice"]:
        data = invoices[str(seeded["id"])].data
        assert data["tranDate"] == seeded["tranDate"] and data["dueDate"] == seeded["dueDate"]
        moment = dt.datetime.fromisoformat(seeded["lastModifiedDate"].replace("Z", "+00:00"))
        assert invoices[str(seeded["id"])].modified_at == moment.replace(microsecond=0)
    for seeded in view["job"]:
        assert jobs[str(seeded["id"])].data["startDate"] == seeded["startDate"]
    assert spy.queries and not any(q.startswith("SELECT *") for q in spy.queries)
    assert all("TO_CHAR(trandate, 'YYYY-MM-DD')" in q for q in spy.queries if "CustInvc" in q)


def test_a_date_not_in_the_asked_format_names_record_and_field(conn: NetSuiteConnector) -> None:
    from pssync.connectors.errors import PermanentError
    from pssync.connectors.netsuite.objects import OBJECTS, plain_row

    with pytest.raises(PermanentError, match="tranDate") as raised:
        plain_row(OBJECTS["invoice"], {"id": "7", "trandate": "3/14/2024"})
    assert (raised.value.record_id, raised.value.field) == ("7", "tranDate")


def test_transactionline_has_no_amounts_transactionaccountingline_does(
    ns: NetSuiteEmulator,
) -> None:
    journal = firm_view()["journalentry"][0]
    lines = raw_suiteql(ns, f"SELECT * FROM transactionline WHERE transaction = {journal['id']}")
    assert lines and not any("debit" in r or "credit" in r for r in lines)
    accounting = raw_suiteql(
        ns,
        "SELECT transactionline, debit, credit FROM transactionaccountingline "
        f"WHERE transaction = {journal['id']}",
    )
    assert sum(Decimal(str(r.get("debit") or 0)) for r in accounting) == Decimal(
        str(journal["line"][0]["debit"])
    )


def test_cost_and_revenue_amounts_match_the_firms_postings(conn: NetSuiteConnector) -> None:
    """Every CostActual and RevenueEvent NetSuite holds has the generator's amount, not 0."""
    firm = generate_firm("small")
    truth = {
        (fact["entity_type"], fact["payload"]["id"]): fact["payload"]
        for fact in map(__import__("json").loads, firm.truth_lines())
        if fact["entity_type"] in ("CostActual", "RevenueEvent")
    }
    by_netsuite_id = {
        payload["xrefs"]["netsuite:journalentry"]: (entity, payload)
        for (entity, _), payload in truth.items()
        if "netsuite:journalentry" in payload.get("xrefs", {})
    }
    translator = Translator(load_spec(MAPPING))
    seen = 0
    for obj, entity in (
        ("journalentry_cost", "CostActual"),
        ("journalentry_revenue", "RevenueEvent"),
    ):
        for record in drain(conn.snapshot(obj))[0]:
            payload = translator.to_canonical(obj, record.data)
            expected_entity, expected = by_netsuite_id[record.id]
            assert expected_entity == entity
            assert payload["amount"]["currency"] == expected["amount"]["currency"]
            assert Decimal(payload["amount"]["amount"]) == Decimal(expected["amount"]["amount"])
            assert Decimal(payload["amount"]["amount"]) > 0
            date_field = "posting_date" if entity == "CostActual" else "recognized_date"
            assert str(payload[date_field]) == expected[date_field]
            seen += 1
    assert seen == len(by_netsuite_id) > 0


def test_only_scheduled_milestones_are_billing_milestones(conn: NetSuiteConnector) -> None:
    """A milestone task no billing schedule bills (as a handoff writes one) stays a project
    task; one on a Fixed Bid Milestone schedule is a billing milestone and not a WBS task."""
    job = firm_view()["job"][0]
    body = {
        "externalId": "MS-UNBILLED",
        "title": "Go-live",
        "company": {"id": job["id"]},
        "isMilestone": True,
    }
    assert conn.upsert("projecttask", "externalId", [body])[0].error is None
    tasks = {r.data.get("externalId"): r for r in drain(conn.snapshot("projecttask"))[0]}
    milestones = drain(conn.snapshot("projecttask_milestone"))[0]
    assert "MS-UNBILLED" in tasks
    assert milestones and "MS-UNBILLED" not in {r.data.get("externalId") for r in milestones}
    assert not {r.id for r in milestones} & {r.id for r in tasks.values()}
    assert all(r.data["milestoneAmount"] and r.data["salesOrder"] for r in milestones)
    changed = drain(conn.changes("projecttask_milestone", None))[0]
    assert {r.id for r in changed} == {r.id for r in milestones}


def test_datetimes_follow_the_users_time_zone() -> None:
    """NetSuite shows datetimes (and reads TO_DATE) in the user's time zone: with the account
    on Pacific time, a connector told so reads the true instants and resumes exactly; one
    assuming UTC would be hours off."""
    view = firm_view()
    with NetSuiteEmulator() as emu:
        emu.seed(copy.deepcopy(view))
        emu.time_zone = ZoneInfo("America/Los_Angeles")
        conn = NetSuiteConnector(settings_for(emu, time_zone="America/Los_Angeles"))
        records, cursor, _ = drain(conn.changes("customer", None))
        naive = NetSuiteConnector(settings_for(emu))
        off = {r.id: r.modified_at for r in drain(naive.changes("customer", None))[0]}
        assert drain(conn.changes("customer", cursor))[0] == []
    for seeded in view["customer"]:
        moment = dt.datetime.fromisoformat(seeded["lastModifiedDate"].replace("Z", "+00:00"))
        record = next(r for r in records if r.id == str(seeded["id"]))
        assert record.modified_at == moment.replace(microsecond=0)
        assert off[record.id] != record.modified_at
