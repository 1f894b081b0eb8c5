"""Building SOQL safely: quoted string literals, datetime literals, checked identifiers.

SOQL has no bind parameters over REST, so every value that reaches a query is either an
identifier we checked against a strict pattern or a literal escaped here. A quote or backslash in
an external ID must not be able to end the literal and change the query.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any

_IDENT = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)*$")
_ESCAPES = {
    "\\": "\\\\",
    "'": "\\'",
    '"': '\\"',
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\b": "\\b",
    "\f": "\\f",
}


def ident(name: str) -> str:
    """An object, field or relationship path (``Account.External_Id__c``), refused otherwise."""
    if not _IDENT.match(name):
        raise ValueError(f"not a Salesforce field or object name: {name!r}")
    return name


def quote(value: str) -> str:
    """A SOQL string literal: the escapes of the SOQL reference, in single quotes."""
    return "'" + "".join(_ESCAPES.get(char, char) for char in value) + "'"


def datetime_literal(moment: dt.datetime) -> str:
    """A SOQL dateTime literal in UTC, to the second (``2026-06-01T12:00:00Z``); fractions are
    cut, which widens a ``>=`` bound and never narrows it."""
    if moment.tzinfo is None:
        raise ValueError("a SOQL datetime must be timezone-aware")
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def in_list(values: Iterable[str]) -> str:
    items = [quote(v) for v in values]
    if not items:
        raise ValueError("IN () needs at least one value")
    return "(" + ", ".join(items) + ")"


def select(
    obj: str, fields: Iterable[str], *, where: str | None = None, order_by: Iterable[str] = ()
) -> str:
    """``SELECT f1, f2 FROM Obj [WHERE ...] [ORDER BY ...]``; `where` must be built from the
    helpers above."""
    parts = [f"SELECT {', '.join(ident(f) for f in fields)} FROM {ident(obj)}"]
    if where:
        parts.append(f"WHERE {where}")
    order = [ident(f) for f in order_by]
    if order:
        parts.append(f"ORDER BY {', '.join(order)}")
    return " ".join(parts)


def flatten(record: dict[str, Any]) -> dict[str, Any]:
    """A query result row without ``attributes``, parent-relationship objects flattened to
    dotted names (``{"Product2": {"ProductCode": "X"}}`` -> ``{"Product2.ProductCode": "X"}``),
    the names the mapping file and the SELECT list use."""
    out: dict[str, Any] = {}
    for key, value in record.items():
        if key == "attributes":
            continue
        if isinstance(value, dict) and "attributes" in value:
            for sub, inner in flatten(value).items():
                out[f"{key}.{sub}"] = inner
        else:
            out[key] = value
    return out
