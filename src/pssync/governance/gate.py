"""The governed write: system-of-record filtering in front of the golden store.

Every change from a connected system passes here: fields the writer does not own are put back
to their golden values before the write, and each refusal goes to the audit log with its reason.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pssync.governance.ownership import OwnershipPolicy, Refusal
from pssync.model import parse_record
from pssync.store import Change, GoldenStore, RecordVersion, WriteResult
from pssync.store.lookup import known_versions, version_at


@dataclass
class GovernedResult:
    write: WriteResult
    refused: list[tuple[str, str, Refusal]]  # (entity type, record id, refusal)


def write_governed(
    store: GoldenStore,
    policy: OwnershipPolicy,
    changes: Sequence[Change],
    roles: dict[str, str | None],
    *,
    correlation_id: str | None = None,
    payloads: Sequence[dict[str, Any]] | None = None,
    prefetched: Mapping[tuple[str, str], Sequence[RecordVersion]] | None = None,
) -> GovernedResult:
    """Write `changes` after the matrix has had its say; `roles` maps system name -> role.

    `payloads`, when given, are the changes' records as `model_dump(mode="json")` (the engine
    has them already; dumping a record again costs as much as validating it). `prefetched`:
    the `known_versions` the caller read for some records (empty: none held) and nothing has
    written since: the page pipeline reads them up front, and they are not read twice."""
    if payloads is not None and len(payloads) != len(changes):
        raise ValueError("one payload per change")
    governed: list[Change] = []
    refused: list[tuple[str, str, Refusal]] = []
    # One read for the page, not one per change (same answers as `store.get(valid_at=...)`).
    keys = [(c.record.entity_type, c.record.id) for c in changes]
    given = prefetched or {}
    known = {k: list(given[k]) for k in keys if k in given}
    known.update(known_versions(store.engine, [k for k in keys if k not in given]))
    for index, change in enumerate(changes):
        record = change.record
        versions = known.get((record.entity_type, record.id))
        current = version_at(versions, change.valid_from)
        if current is None and policy.fill_gaps:
            # Nothing golden to protect and gaps may be filled: the matrix refuses nothing
            # (`OwnershipPolicy.apply`), which is every record of an initial sync.
            governed.append(change)
            continue
        outcome = policy.apply(
            record.entity_type,
            roles.get(change.system),
            record.model_dump(mode="json") if payloads is None else payloads[index],
            None if current is None else current.payload,
        )
        if outcome.refused:
            refused += [(record.entity_type, record.id, r) for r in outcome.refused]
            store.audit_refusals(
                record.entity_type,
                record.id,
                change.system,
                [(r.field, r.current, r.attempted, r.reason) for r in outcome.refused],
                correlation_id=correlation_id,
            )
            record = parse_record(record.entity_type, outcome.payload)
        governed.append(Change(record, change.valid_from, change.system, change.source_record))
    return GovernedResult(store.write(governed, correlation_id=correlation_id), refused)
