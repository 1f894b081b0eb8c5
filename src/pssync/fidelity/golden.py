"""What the check reads from the golden store: current records, the xref map and the open
exceptions, each in one query. Never the live systems: the point is to judge what was synced.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from pssync.fidelity.truth import SourceKey
from pssync.governance.exceptions import ACTIVE, ExceptionRecord, ExceptionStore
from pssync.store import GoldenStore
from pssync.store.tables import record_merge, xref

RecordKey = tuple[str, str]  # (entity type, record ID)


@dataclass
class GoldenView:
    """The golden store's current state, indexed for matching."""

    records: dict[RecordKey, dict[str, Any]] = field(default_factory=dict)
    #: (system, object, external ID) -> the canonical record it names (merges followed).
    by_source: dict[SourceKey, RecordKey] = field(default_factory=dict)
    sources: dict[RecordKey, set[SourceKey]] = field(default_factory=lambda: defaultdict(set))
    exceptions: list[ExceptionRecord] = field(default_factory=list)

    def of_type(self, entity_type: str) -> dict[str, dict[str, Any]]:
        return {rid: p for (et, rid), p in self.records.items() if et == entity_type}


def _survivor(merges: dict[RecordKey, str], key: RecordKey) -> RecordKey:
    seen = {key}
    while key in merges:
        key = (key[0], merges[key])
        if key in seen:  # a merge cycle would be a store defect; stop rather than loop
            break
        seen.add(key)
    return key


def read_golden(store: GoldenStore, exceptions: ExceptionStore | None = None) -> GoldenView:
    view = GoldenView()
    for version in store.iter_records():
        view.records[(version.entity_type, version.record_id)] = version.payload
    with store.engine.connect() as conn:
        m = record_merge.c
        merges = {
            (str(r.entity_type), str(r.from_id)): str(r.to_id)
            for r in conn.execute(select(m.entity_type, m.from_id, m.to_id))
        }
        x = xref.c
        rows = conn.execute(select(x.entity_type, x.record_id, x.system, x.object, x.external_id))
        for r in rows:
            key = _survivor(merges, (str(r.entity_type), str(r.record_id)))
            source = (str(r.system), str(r.object), str(r.external_id))
            view.by_source[source] = key
            view.sources[key].add(source)
    found = exceptions or ExceptionStore(store.engine)
    view.exceptions = found.find(states=[s.value for s in ACTIVE])
    return view
