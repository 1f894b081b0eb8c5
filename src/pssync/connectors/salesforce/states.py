"""A deal's earlier states, rebuilt from OpportunityHistory for a first sync's backfill.

Object Reference, "OpportunityHistory": Salesforce writes one row per save that changes the
stage, amount, probability or close date of an opportunity (read-only, kept for the life of
the record), each a snapshot of ``StageName``, ``Amount``, ``Probability``, ``CloseDate`` and
``ForecastCategory`` at that save, dated by the row's ``CreatedDate``. A state is the current
record with those fields as the row gives them, ``IsClosed``/``IsWon`` derived from the stage
(as the org's OpportunityStage says: learned from the current records of the same stage, else
from the forecast category, "Closed" being won and "Omitted" lost), and stamped with the row's
``CreatedDate``. The rows are read per batch of record IDs, in chunks short enough for a URL.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from pssync.connectors.base import SourceRecord
from pssync.connectors.salesforce.soql import in_list, select
from pssync.mapping.convert import to_datetime

OBJECT = "OpportunityHistory"
SNAPSHOT = ("StageName", "Amount", "Probability", "CloseDate")
CHUNK = 200  # IDs per query: 200 x 21 characters stays far below URL limits


def _flags(stage: Any, category: Any, known: dict[Any, tuple[bool, bool]]) -> tuple[bool, bool]:
    """(IsClosed, IsWon) of a stage: as the org's current deals in it say, else its category."""
    if stage in known:
        return known[stage]
    return (category in ("Closed", "Omitted"), category == "Closed")


def earlier_states(
    query: Callable[[str], list[dict[str, Any]]], records: Sequence[SourceRecord]
) -> list[SourceRecord]:
    """Every state each of `records` had before its current one, oldest first per record."""
    current = {r.id: r for r in records if not r.deleted}
    known = {
        r.data.get("StageName"): (bool(r.data.get("IsClosed")), bool(r.data.get("IsWon")))
        for r in current.values()
        if "IsClosed" in r.data
    }
    ids = sorted(current)
    out: list[SourceRecord] = []
    for start in range(0, len(ids), CHUNK):
        soql = select(
            OBJECT,
            ["Id", "OpportunityId", *SNAPSHOT, "ForecastCategory", "CreatedDate"],
            where=f"OpportunityId IN {in_list(ids[start : start + CHUNK])}",
            order_by=["OpportunityId", "CreatedDate", "Id"],
        )
        for row in query(soql):
            record = current[str(row["OpportunityId"])]
            at = to_datetime(row["CreatedDate"])
            if record.modified_at is not None and at >= record.modified_at:
                continue  # the current record already says this (or more)
            data = {**record.data, **{f: row.get(f) for f in SNAPSHOT if f in record.data}}
            closed, won = _flags(row.get("StageName"), row.get("ForecastCategory"), known)
            for name, value in (
                ("IsClosed", closed),
                ("IsWon", won),
                ("ForecastCategoryName", row.get("ForecastCategory")),
                ("SystemModstamp", row["CreatedDate"]),
                ("LastModifiedDate", row["CreatedDate"]),
            ):
                if name in data:
                    data[name] = value
            out.append(replace(record, data=data, modified_at=at))
    return out
