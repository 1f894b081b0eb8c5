"""OpportunityFieldHistory rows for seeded OpportunityHistory, so the two histories agree.

A real org with field history tracking on StageName, Amount and CloseDate keeps both objects
(Object Reference, "OpportunityHistory" and "OpportunityFieldHistory"): the first a snapshot of
the stage, amount and close date at each save, the second one row per changed field (and a
"created" row). The synthetic firm's view carries the stage history only; seeding derives the
field history from it, consecutive snapshot against snapshot, at the snapshot's CreatedDate and
by its CreatedById. API writes record both as they happen (`Records`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pssync.sandbox.salesforce.data import Base, Record
from pssync.sandbox.salesforce.opportunity import field_history_rows

HISTORY, FIELD_HISTORY = "OpportunityHistory", "OpportunityFieldHistory"


def derive(base: Base, added: list[Record], new_id: Callable[[], str]) -> list[Record]:
    """Field-history rows for the OpportunityHistory rows just `added` (already in `base`)."""
    out: list[Record] = []
    by_opp: dict[str, list[Record]] = {}
    for row in added:
        by_opp.setdefault(str(row["OpportunityId"]), []).append(row)
    for opp_id, rows in by_opp.items():
        mine = {str(r["Id"]) for r in rows}
        table = base.table(HISTORY)
        earlier = [
            r
            for rid in base.find(HISTORY, "OpportunityId", opp_id) - mine
            if (r := table.get(rid)) is not None
        ]
        previous: dict[str, Any] | None = None
        for row in sorted([*earlier, *rows], key=lambda r: (r["CreatedDate"], r["Id"])):
            if row["Id"] in mine:
                for change in field_history_rows(row | {"Id": opp_id}, previous):
                    out.append(
                        change
                        | {
                            "Id": new_id(),
                            "IsDeleted": False,
                            "CreatedDate": row["CreatedDate"],
                            "CreatedById": row.get("CreatedById"),
                            "SystemModstamp": row["CreatedDate"],  # the store's clock only
                        }
                    )
            previous = row
    return out
