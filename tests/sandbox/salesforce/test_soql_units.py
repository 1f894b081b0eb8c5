"""The pieces under the HTTP layer that have rules of their own: IDs, date literals, the parser."""

from __future__ import annotations

import datetime as dt

import pytest

from pssync.sandbox.salesforce.errors import SalesforceError
from pssync.sandbox.salesforce.ids import IdFactory, checksum, is_valid_id, to18
from pssync.sandbox.salesforce.soql import ast
from pssync.sandbox.salesforce.soql.dates import date_range
from pssync.sandbox.salesforce.soql.parser import parse
from pssync.sandbox.salesforce.timefmt import normalize_datetime

D = dt.date


def test_checksum_matches_a_known_salesforce_id() -> None:
    # The REST API guide's example Account ID is 001D000000IqhSLIAZ.
    assert checksum("001D000000IqhSL") == "IAZ"
    assert to18("001D000000IqhSL") == "001D000000IqhSLIAZ"
    assert is_valid_id("001D000000IqhSLIAZ") and not is_valid_id("001D000000IqhSLAAA")


def test_factory_ids_are_unique_and_valid() -> None:
    factory = IdFactory(seed=1)
    ids = {factory.new("006") for _ in range(1000)}
    assert len(ids) == 1000 and all(is_valid_id(i) and i.startswith("006") for i in ids)


@pytest.mark.parametrize(
    ("literal", "n", "expected"),
    [
        ("TODAY", 0, (D(2026, 6, 17), D(2026, 6, 18))),
        ("YESTERDAY", 0, (D(2026, 6, 16), D(2026, 6, 17))),
        ("THIS_WEEK", 0, (D(2026, 6, 14), D(2026, 6, 21))),  # Sunday to Sunday
        ("THIS_MONTH", 0, (D(2026, 6, 1), D(2026, 7, 1))),
        ("LAST_MONTH", 0, (D(2026, 5, 1), D(2026, 6, 1))),
        ("THIS_QUARTER", 0, (D(2026, 4, 1), D(2026, 7, 1))),
        ("NEXT_QUARTER", 0, (D(2026, 7, 1), D(2026, 10, 1))),
        ("LAST_YEAR", 0, (D(2025, 1, 1), D(2026, 1, 1))),
        ("LAST_N_DAYS", 7, (D(2026, 6, 10), D(2026, 6, 18))),
        ("NEXT_N_DAYS", 2, (D(2026, 6, 18), D(2026, 6, 20))),
        ("N_DAYS_AGO", 3, (D(2026, 6, 14), D(2026, 6, 15))),
        ("LAST_N_MONTHS", 2, (D(2026, 4, 1), D(2026, 6, 1))),
        ("NEXT_N_MONTHS", 7, (D(2026, 7, 1), D(2027, 2, 1))),
    ],
)
def test_date_literal_ranges(literal: str, n: int, expected: tuple[D, D]) -> None:
    assert date_range(literal, n, D(2026, 6, 17)) == expected  # a Wednesday


def test_parser_builds_the_tree() -> None:
    query = parse(
        "select Id, Account.Name from Opportunity where (StageName = 'Closed Won' or Amount > 5)"
        " and not CloseDate = LAST_N_DAYS:30 order by Amount desc nulls last, Name limit 10"
        " offset 5"
    )
    assert [f.path for f in query.fields] == [("Id",), ("Account", "Name")]
    assert isinstance(query.where, ast.BoolOp) and query.where.op == "AND"
    left, right = query.where.operands
    assert isinstance(left, ast.BoolOp) and left.op == "OR"
    assert isinstance(right, ast.Not)
    assert isinstance(right.operand, ast.Compare)
    assert right.operand.value == ast.Literal("range", ("LAST_N_DAYS", 30), right.operand.value.pos)
    assert [(o.field.text, o.descending, o.nulls_first) for o in query.order_by] == [
        ("Amount", True, False),
        ("Name", False, True),
    ]
    assert (query.limit, query.offset) == (10, 5)


@pytest.mark.parametrize(
    "soql",
    [
        "SELECT FROM Account",
        "SELECT Id FROM",
        "SELECT Id FROM Account LIMIT x",
        "SELECT Id FROM Account WHERE Name IN ()",
        "SELECT Id FROM Account WHERE Name = 'a' OR Name = 'b' AND Name = 'c'",
        "SELECT Id FROM Account WHERE Name ~ 'a'",
    ],
)
def test_malformed_queries(soql: str) -> None:
    with pytest.raises(SalesforceError) as caught:
        parse(soql)
    assert caught.value.code == "MALFORMED_QUERY"
    assert "ERROR at Row:1:Column:" in caught.value.message


@pytest.mark.parametrize(
    "text",
    ["2026-06-01T14:00:00+02:00", "2026-06-01T12:00:00Z", "2026-06-01T12:00:00.000+0000"],
)
def test_datetimes_normalise_to_utc_wire_form(text: str) -> None:
    assert normalize_datetime(text) == "2026-06-01T12:00:00.000+0000"
