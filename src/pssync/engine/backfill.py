"""Valid time from the source: a first sync writes each record's history, not only its present.

A record read for the first time says how it is now; its earlier states (a deal's stages,
amounts and close dates) are what a forecast as of a past date needs. When the stored cursor
of an object is empty (a first or full sync) and the connector keeps a history of the object
(`Connector.history`), each page's records are preceded by their earlier states, each stamped
when the source recorded it. The pipeline then applies them like any change in source order:
every state becomes a version valid from the source's stamp, recorded now, and the current
record closes the chain. Nothing here knows a vendor; the connector builds the states. A
record the golden store already holds (an initial load before the first sync) keeps the
history it has there.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from pssync.connectors.base import Connector, SourceRecord
from pssync.engine.runtime import Runtime
from pssync.store.lookup import resolve_xrefs


def first_sync_page(
    runtime: Runtime, system: str, connector: Connector, obj: str, records: list[SourceRecord]
) -> list[SourceRecord]:
    """A first sync's page with the history of the records the golden store does not hold
    (nothing to do for a connector that keeps no history: it inherits `history`)."""
    if type(connector).history is Connector.history or not records:
        return records
    ids = [r.id for r in records]
    held = resolve_xrefs(runtime.store.engine, system, obj, ids)
    return with_history(connector, obj, records, held=set(held))


def with_history(
    connector: Connector, obj: str, records: list[SourceRecord], held: Collection[str] = ()
) -> list[SourceRecord]:
    """`records`, each preceded by its earlier states from the source, oldest first.

    States stamped at or after the current record's own stamp are dropped (the current record
    already holds what they say), and so are states of records not in the page or `held`."""
    wanted = [r for r in records if r.id not in held and not r.deleted]
    if not wanted:
        return records
    states = connector.history(obj, wanted)
    if not states:
        return records
    current = {r.id: r for r in wanted}
    before: dict[str, list[tuple[dt.datetime, SourceRecord]]] = {}
    for state in states:
        record, stamp = current.get(state.id), state.modified_at
        if record is None or stamp is None:
            continue
        if record.modified_at is not None and stamp >= record.modified_at:
            continue
        before.setdefault(state.id, []).append((stamp, state))
    out: list[SourceRecord] = []
    for record in records:
        earlier = sorted(before.get(record.id, []), key=lambda pair: pair[0])
        out += [*(state for _, state in earlier), record]
    return out
