"""The SuiteQL subset parser and its comparison rules, without a server."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from pssync.sandbox.netsuite.sqlvalues import compare
from pssync.sandbox.netsuite.suiteql import SuiteQLError, parse

ROWS: list[dict[str, Any]] = [
    {"id": "1", "name": "Alpha", "amount": 10, "when": dt.datetime(2026, 1, 1, tzinfo=dt.UTC)},
    {"id": "2", "name": "beta", "amount": 25.5, "when": dt.datetime(2026, 5, 1, tzinfo=dt.UTC)},
    {"id": "10", "name": "Gamma", "amount": None, "when": None},
]


def matching(where: str) -> list[str]:
    query = parse(f"SELECT id FROM t WHERE {where}")
    assert query.where is not None
    return [row["id"] for row in ROWS if query.where(row)]


@pytest.mark.parametrize(
    ("where", "ids"),
    [
        ("amount > 10", ["2"]),
        ("amount >= 10 AND name <> 'beta'", ["1"]),
        ("amount IS NULL", ["10"]),
        ("amount IS NOT NULL OR id = '10'", ["1", "2", "10"]),
        ("id > 2", ["10"]),  # numeric literal: numeric comparison, not text
        ("name LIKE 'a%'", []),  # case-sensitive, like Oracle
        ("name LIKE '_eta'", ["2"]),
        ("UPPER(name) LIKE 'BETA'", ["2"]),
        ("name NOT IN ('Alpha', 'Gamma')", ["2"]),
        ("when > TO_DATE('2026-02-01', 'YYYY-MM-DD')", ["2"]),
        ("NOT (amount < 20) AND t.id <> '10'", ["2"]),
        ("name = 'it''s'", []),
    ],
)
def test_where_clauses(where: str, ids: list[str]) -> None:
    assert matching(where) == ids


def test_select_list_aliases_and_order() -> None:
    query = parse("SELECT c.id AS ident, name n FROM customer c ORDER BY amount DESC, id")
    assert query.table == "customer"
    assert [label for _, label in query.columns or []] == ["ident", "n"]
    assert [descending for _, descending in query.order] == [True, False]


def test_null_compares_as_unknown() -> None:
    assert compare(None, 1) is None
    assert compare("10", 9) == 1  # number on one side: numeric
    assert compare("10", "9") == -1  # text on both sides: text


@pytest.mark.parametrize(
    "text",
    [
        "SELECT FROM customer",
        "SELECT id FROM customer WHERE id = ",
        "SELECT id FROM customer; DROP TABLE customer",
        "SELECT id FROM customer WHERE x.id = 1",
        "SELECT id FROM customer WHERE EVAL('1') = 1",
        "UPDATE customer SET id = 1",
    ],
)
def test_outside_the_subset_is_an_error(text: str) -> None:
    with pytest.raises(SuiteQLError):
        parse(text)
