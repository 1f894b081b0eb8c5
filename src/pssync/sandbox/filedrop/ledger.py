"""The legacy ERP's own books: customers, projects and invoices keyed by ERP id and external id,
and the records it only exports (contracts, billing schedules, milestones, payments).

Imports are idempotent by external id (the id pssync sends): a line naming a known external id
updates that record and is acknowledged with the ERP id it already has, so re-dropping a batch
never duplicates anything. The outbound exports are written from here, as such an ERP's nightly
job would, with write-then-rename so a reader never sees half a file.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import threading
from pathlib import Path
from typing import Any

from pssync.sandbox.common.objects import ObjectStore
from pssync.sandbox.filedrop.layouts import ALL_LAYOUTS

# Columns the ERP adds to what pssync sends.
ERP_COLUMNS = {"invoices": ("status", "paid_amount", "paid_date")}
# The audit stamps the ERP keeps on every record and writes on every export row: when it
# created the record and when it last changed it, as business systems keep them on every table
# (Business Central's data audit fields SystemCreatedAt / SystemModifiedAt are "automatically
# included in every table object by the platform",
# https://learn.microsoft.com/en-us/dynamics365/business-central/dev-itpro/developer/devenv-table-system-fields).
AUDIT_COLUMNS = ("created_at", "updated_at")


def write_atomically(path: Path, text: str) -> None:
    """Write to ``<name>.tmp`` then rename, the same contract the inbound folder expects."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8", newline="")
    os.replace(tmp, path)


def to_csv(columns: tuple[str, ...] | list[str], rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(
        out, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n"
    )
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


class Ledger:
    """ERP records over the emulator's ObjectStore, with an external-id index in memory."""

    def __init__(self, store: ObjectStore) -> None:
        self.store = store
        self._lock = threading.RLock()
        self._index: dict[str, dict[str, str]] = {kind: {} for kind in ALL_LAYOUTS}
        for kind in ALL_LAYOUTS:
            for record in store.all(kind):
                self._index[kind][record["external_id"]] = record["erp_id"]

    def erp_id(self, kind: str, external_id: str) -> str | None:
        with self._lock:
            return self._index[kind].get(external_id)

    def upsert(
        self,
        kind: str,
        values: dict[str, str],
        erp_id: str | None = None,
        *,
        changed: dt.datetime | None = None,
        created: dt.datetime | None = None,
    ) -> str:
        """Create or update by external id; returns the ERP id (unchanged on update). The
        record's audit stamps are now, or, for the firm's own books loaded at seeding, when it
        `created` and last `changed` them."""
        now = changed or dt.datetime.now(dt.UTC)
        with self._lock:
            known = self._index[kind].get(values["external_id"])
            record_id = known or erp_id or self._next_id(kind)
            current = self.store.get(kind, record_id) or {
                "created_at": (created or now).isoformat()
            }
            current.update({k: v for k, v in values.items() if v is not None})
            current.update(erp_id=record_id, updated_at=now.isoformat())
            if kind == "invoices":
                current.setdefault("status", "open")
            self.store.put(kind, record_id, current, now)
            self._index[kind][values["external_id"]] = record_id
            return record_id

    def all(self, kind: str) -> list[dict[str, Any]]:
        return list(self.store.all(kind))

    def count(self, kind: str) -> int:
        return self.store.count(kind)

    def _next_id(self, kind: str) -> str:
        prefix = ALL_LAYOUTS[kind].prefix
        used = [
            int(i[len(prefix) :])
            for i in self._index[kind].values()
            if i.startswith(prefix) and i[len(prefix) :].isdigit()
        ]
        return f"{prefix}{max(used, default=0) + 1:06d}"

    def export(self, outbound: Path, day: dt.date) -> list[Path]:
        """Write ``outbound/<kind>_YYYYMMDD.csv`` for every kind; returns the paths."""
        paths = []
        for kind, layout in ALL_LAYOUTS.items():
            columns = ("erp_id", *layout.columns, *ERP_COLUMNS.get(kind, ()), *AUDIT_COLUMNS)
            rows = sorted(self.all(kind), key=lambda r: str(r["erp_id"]))
            path = outbound / f"{kind}_{day:%Y%m%d}.csv"
            write_atomically(path, to_csv(columns, rows))
            paths.append(path)
        return paths
