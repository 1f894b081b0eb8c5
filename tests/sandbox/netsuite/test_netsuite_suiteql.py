"""SuiteQL over REST: incremental reads by lastmodifieddate with paging, and the derived tables."""

from __future__ import annotations

from typing import Any

import pytest
from authlib.integrations.httpx_client import OAuth1Client

pytestmark = pytest.mark.integration
SUITEQL = "/services/rest/query/v1/suiteql"
TRANSIENT = {"Prefer": "transient"}


def run(client: OAuth1Client, q: str, **params: int) -> dict[str, Any]:
    response = client.post(SUITEQL, json={"q": q}, headers=TRANSIENT, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def read_all(client: OAuth1Client, q: str, limit: int) -> list[dict[str, Any]]:
    """A connector's polling loop: follow offset until hasMore is false."""
    rows: list[dict[str, Any]] = []
    offset = 0
    while True:
        page = run(client, q, limit=limit, offset=offset)
        assert page["offset"] == offset and page["count"] == len(page["items"])
        rows += page["items"]
        if not page["hasMore"]:
            return rows
        offset += limit


def test_incremental_read_by_lastmodifieddate_pages_through_changes(client: OAuth1Client) -> None:
    q = (
        "SELECT id, companyname, lastmodifieddate FROM customer "
        "WHERE lastmodifieddate > TO_DATE('2026-03-01 00:00:00', 'YYYY-MM-DD HH24:MI:SS') "
        "AND lastmodifieddate < TO_DATE('2026-07-01', 'YYYY-MM-DD') ORDER BY id"
    )
    first = run(client, q, limit=20)
    assert first["totalResults"] == 50 and first["hasMore"] is True
    assert any(link["rel"] == "next" for link in first["links"])
    rows = read_all(client, q, limit=20)
    assert [r["id"] for r in rows] == [str(1100 + n) for n in range(50)]
    assert rows[0] == {
        "links": [],
        "id": "1100",
        "companyname": "Customer 0100",
        "lastmodifieddate": "6/15/2026 8:00 am",  # the account's display format
    }


def test_change_after_high_water_mark_is_the_only_row_returned(client: OAuth1Client) -> None:
    changed = client.patch("/services/rest/record/v1/customer/1005", json={"phone": "555"})
    assert changed.status_code == 204
    q = (
        "SELECT id FROM customer WHERE lastmodifieddate > "
        "TO_DATE('2026-06-15 08:00:00', 'YYYY-MM-DD HH24:MI:SS') AND isinactive = 'F'"
    )
    ids = {row["id"] for row in read_all(client, q, limit=1000)}
    assert "1005" in ids
    assert not ids & {str(1100 + n) for n in range(50)}


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("id IN (1010, 1011, 1012) AND isinactive = 'T'", {"1010"}),
        ("companyname LIKE 'Customer 001_' AND (id < 1012 OR id = 1019)", {"1010", "1011", "1019"}),
        ("externalid = 'SF-ACC-0042'", {"1042"}),
        ("NOT id <= 1147", {"1148", "1149"}),
        ("id BETWEEN 1003 AND 1004", {"1003", "1004"}),
    ],
)
def test_where_operators(client: OAuth1Client, where: str, expected: set[str]) -> None:
    rows = read_all(client, f"SELECT id FROM customer WHERE {where}", limit=1000)
    assert {row["id"] for row in rows} == expected


def test_transactions_and_lines_carry_actuals(client: OAuth1Client) -> None:
    invoices = run(client, "SELECT id, tranid FROM transaction WHERE type = 'CustInvc'")
    assert [(r["id"], r["tranid"]) for r in invoices["items"]] == [("3000", "INV-3000")]
    lines = run(
        client,
        "SELECT transaction, id, entity FROM transactionline "
        "WHERE transaction = 4000 ORDER BY linesequencenumber",
    )["items"]
    assert [(r["id"], r["entity"]) for r in lines] == [(1, "2000"), (2, "2000")]
    accounting = run(
        client,
        "SELECT transaction, transactionline, account, debit, credit, amount, posting "
        "FROM transactionaccountingline WHERE transaction = 4000 ORDER BY transactionline",
    )["items"]
    assert [
        (r["transactionline"], r["account"], r.get("debit"), r.get("credit"), r["amount"])
        for r in accounting
    ] == [(1, "500", 300.0, None, 300.0), (2, "600", None, 300.0, -300.0)]
    assert {r["posting"] for r in accounting} == {"T"}


def test_debit_and_credit_are_not_transactionline_columns(client: OAuth1Client) -> None:
    """They live on TransactionAccountingLine; transactionline has no such columns."""
    lines = run(client, "SELECT * FROM transactionline WHERE transaction = 4000")["items"]
    assert lines and not any({"debit", "credit", "account"} & set(r) for r in lines)


def test_dates_come_in_the_display_format_unless_formatted_with_to_char(
    client: OAuth1Client,
) -> None:
    q = (
        "SELECT trandate, lastmodifieddate, TO_CHAR(trandate, 'YYYY-MM-DD') AS day, "
        "TO_CHAR(lastmodifieddate, 'YYYY-MM-DD\"T\"HH24:MI:SS') AS stamp, "
        "TO_CHAR(lastmodifieddate, 'FMMonth DD, YYYY HH12:MI AM') AS spoken "
        "FROM transaction WHERE id = 4000"
    )
    (row,) = run(client, q)["items"]
    assert row["trandate"] == "3/14/2024"
    assert row["lastmodifieddate"] == "6/15/2026 8:00 am"
    assert row["day"] == "2024-03-14"
    assert row["stamp"] == "2026-06-15T08:00:00"
    assert row["spoken"] == "June 15, 2026 8:00 AM"  # FM: no padding from there on


def test_dates_compare_with_to_date_in_any_format_model(client: OAuth1Client) -> None:
    q = (
        "SELECT id FROM transaction WHERE trandate = TO_DATE('14.03.2024', 'DD.MM.YYYY') "
        "AND trandate < TO_DATE('15-MAR-2024 1:30 PM', 'DD-MON-YYYY HH:MI AM')"
    )
    assert [r["id"] for r in run(client, q)["items"]] == ["4000"]


@pytest.mark.parametrize(
    "q",
    [
        "SELECT TO_CHAR(trandate, 'YYYY-QQ') FROM transaction",
        "SELECT id FROM transaction WHERE trandate = TO_DATE('2024-03-14', 'DD/MM/YYYY')",
    ],
)
def test_unknown_format_models_and_mismatched_dates_are_400(client: OAuth1Client, q: str) -> None:
    response = client.post(SUITEQL, json={"q": q}, headers=TRANSIENT)
    assert response.status_code == 400, response.text
    assert "TO_" in response.json()["o:errorDetails"][0]["detail"]


def test_missing_prefer_transient_is_refused(client: OAuth1Client) -> None:
    response = client.post(SUITEQL, json={"q": "SELECT id FROM customer"})
    assert response.status_code == 400
    assert response.json()["o:errorDetails"][0]["o:errorHeader"] == "Prefer"


@pytest.mark.parametrize(
    "q",
    ["SELECT id FROM customer WHERE", "DELETE FROM customer", "SELECT id FROM nowhere"],
)
def test_bad_queries_are_400_naming_q(client: OAuth1Client, q: str) -> None:
    response = client.post(SUITEQL, json={"q": q}, headers=TRANSIENT)
    assert response.status_code == 400
    assert response.json()["o:errorDetails"][0]["o:errorPath"] == "q"


def test_lines_join_their_accounting_lines(client: OAuth1Client) -> None:
    q = (
        "SELECT tl.transaction, tl.id, tl.entity, tal.account, tal.debit, tal.credit "
        "FROM transactionline tl INNER JOIN transactionaccountingline tal "
        "ON tal.transaction = tl.transaction AND tal.transactionline = tl.id "
        "WHERE tl.transaction = 4000 AND tal.accountingbook = 1 ORDER BY tl.id"
    )
    rows = run(client, q)["items"]
    assert [
        (r["id"], r["entity"], r["account"], r.get("debit"), r.get("credit")) for r in rows
    ] == [
        (1, "2000", "500", 300.0, None),
        (2, "2000", "600", None, 300.0),
    ]
    outer = run(
        client,
        "SELECT t.id, tal.debit FROM transaction t LEFT OUTER JOIN transactionaccountingline tal "
        "ON tal.transaction = t.id WHERE t.id = 3000",
    )["items"]
    assert outer == [{"links": [], "id": "3000"}]  # an invoice: no journal accounting lines


@pytest.mark.parametrize(
    "on", ["tal.transaction = 4000", "tal.transaction = tal.transactionline", "x.id = tl.id"]
)
def test_join_conditions_must_compare_the_joined_table_with_an_earlier_one(
    client: OAuth1Client, on: str
) -> None:
    q = f"SELECT tl.id FROM transactionline tl JOIN transactionaccountingline tal ON {on}"
    response = client.post(SUITEQL, json={"q": q}, headers=TRANSIENT)
    assert response.status_code == 400, response.text
