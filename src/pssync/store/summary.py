"""A short account of what the golden store holds, for `pssync status` and the demo."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from pssync.store.history import GoldenStore
from pssync.store.tables import xref


def store_summary(store: GoldenStore) -> dict[str, Any]:
    with store.engine.connect() as conn:
        by_system = {
            str(system): int(n)
            for system, n in conn.execute(
                select(xref.c.system, func.count()).group_by(xref.c.system).order_by(xref.c.system)
            )
        }
    records = store.counts()
    return {
        "database": store.engine.url.render_as_string(hide_password=True),
        "records": records,
        "total_records": sum(records.values()),
        "xrefs_by_system": by_system,
        "rows": store.table_counts(),
    }
