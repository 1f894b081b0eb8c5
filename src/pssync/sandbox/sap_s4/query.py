"""Entity-set reads: `$filter`, `$orderby`, `$skip`/`$top`, `$select`, counts and paging.

Server-driven paging works as SAP's does: a response never holds more than the page size, and a
``__next`` link with ``$skiptoken`` continues the same query. Clients that loop on ``__next``
(pyodata's ``next_url``) and clients that page with ``$skip``/``$top`` both get every row once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pssync.sandbox.sap_s4.errors import ODataError
from pssync.sandbox.sap_s4.filter import FilterError, compile_filter
from pssync.sandbox.sap_s4.schema import EntitySet, Prop
from pssync.sandbox.sap_s4.values import decode

Record = dict[str, Any]


def _int_option(params: Mapping[str, str], name: str) -> int | None:
    raw = params.get(name)
    if raw is None:
        return None
    if not raw.isdigit():
        raise ODataError(400, f"Invalid system query option {name}={raw!r}")
    return int(raw)


@dataclass(frozen=True)
class ReadOptions:
    filter: str | None = None
    orderby: str | None = None
    select: str | None = None
    top: int | None = None
    skip: int | None = None
    skiptoken: int | None = None
    inlinecount: bool = False

    @classmethod
    def parse(cls, params: Mapping[str, str]) -> ReadOptions:
        inline = params.get("$inlinecount", "none")
        if inline not in ("allpages", "none"):
            raise ODataError(400, f"Invalid system query option $inlinecount={inline!r}")
        return cls(
            filter=params.get("$filter"),
            orderby=params.get("$orderby"),
            select=params.get("$select"),
            top=_int_option(params, "$top"),
            skip=_int_option(params, "$skip"),
            skiptoken=_int_option(params, "$skiptoken"),
            inlinecount=inline == "allpages",
        )


@dataclass(frozen=True)
class Page:
    rows: list[Record]
    count: int | None
    next_skiptoken: int | None


def _sorted(entity_set: EntitySet, rows: list[Record], orderby: str | None) -> list[Record]:
    clauses = [(k, "asc") for k in entity_set.keys]
    if orderby:
        clauses = []
        for clause in orderby.split(","):
            name, _, direction = clause.strip().partition(" ")
            direction = direction.strip().lower() or "asc"
            if entity_set.prop(name) is None or direction not in ("asc", "desc"):
                raise ODataError(400, f"Invalid $orderby clause {clause.strip()!r}")
            clauses.append((name, direction))
    for name, direction in reversed(clauses):
        prop = entity_set.prop(name)
        assert prop is not None  # validated above; keys are declared properties

        def sort_key(row: Record, prop: Prop = prop) -> tuple[bool, Any]:
            value = decode(prop, row.get(prop.name))
            return (value is not None, value)

        rows = sorted(rows, key=sort_key, reverse=direction == "desc")
    return rows


def run_query(
    entity_set: EntitySet, records: Iterable[Record], opts: ReadOptions, page_size: int
) -> Page:
    """Filter, count, order and cut one page of `records`."""
    rows = list(records)
    if opts.filter:
        try:
            predicate = compile_filter(opts.filter, entity_set)
        except FilterError as exc:
            raise ODataError(400, f"Invalid filter expression: {exc}") from exc
        rows = [r for r in rows if predicate(r)]
    count = len(rows) if opts.inlinecount else None
    rows = _sorted(entity_set, rows, opts.orderby)
    start = opts.skip or 0
    window = rows[start : start + opts.top] if opts.top is not None else rows[start:]
    offset = opts.skiptoken or 0
    page = window[offset : offset + page_size]
    more = offset + page_size < len(window)
    return Page(page, count, offset + page_size if more else None)


def select_fields(entity_set: EntitySet, select: str | None) -> list[str] | None:
    """Validated `$select` property names, or None for all."""
    if not select or select.strip() == "*":
        return None
    names = [n.strip() for n in select.split(",") if n.strip()]
    for name in names:
        if entity_set.prop(name) is None:
            raise ODataError(400, f"Property {name} not found in type {entity_set.type_name}")
    return names
