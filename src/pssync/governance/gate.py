"""The governed write: system-of-record filtering in front of the golden store.

Every change from a connected system passes here: fields the writer does not own are put back
to their golden values before the write, and each refusal goes to the audit log with its reason.
`OwnershipStage` is the page's store stage built on it, with the govern-stage check that raises
each refusal as a `non_owner_write` exception so somebody sees it (unless it is only another
spelling of a name: "Coho Energy LLC" for "Coho Energy").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pssync.engine.ports import FieldOwnership, FieldRefusal
from pssync.engine.stages import PageContext, Written
from pssync.governance.duplicates import normalise_name
from pssync.governance.quality import flag
from pssync.model import CanonicalRecord, parse_record
from pssync.store import Change, GoldenStore, RecordVersion, WriteResult
from pssync.store.lookup import known_versions, version_at


@dataclass
class GovernedResult:
    write: WriteResult
    refused: list[tuple[str, str, FieldRefusal]]  # (entity type, record id, refusal)


def write_governed(
    store: GoldenStore,
    policy: FieldOwnership,
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
    refused: list[tuple[str, str, FieldRefusal]] = []
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


class OwnershipStage:
    """The system-of-record matrix as the page's store stage and as a govern-stage check."""

    def __init__(self, policy: FieldOwnership) -> None:
        self.policy = policy

    def write(
        self,
        ctx: PageContext,
        changes: Sequence[Change],
        payloads: Sequence[dict[str, Any]],
        prefetched: Mapping[tuple[str, str], Sequence[RecordVersion]],
        correlation_id: str | None,
    ) -> Written:
        governed = write_governed(
            ctx.store,
            self.policy,
            changes,
            dict(ctx.roles),
            correlation_id=correlation_id,
            payloads=payloads,
            prefetched=prefetched,
        )
        return Written({(entity_type, rid) for entity_type, rid, _ in governed.refused})

    def check(self, ctx: PageContext, record: CanonicalRecord) -> None:
        """Raise `non_owner_write` for the fields the store stage is about to refuse."""
        golden = ctx.golden(record.entity_type, record.id)
        if golden is None and self.policy.fill_gaps:
            return  # nothing golden to protect: the matrix refuses nothing
        outcome = self.policy.apply(
            record.entity_type,
            ctx.roles.get(ctx.system),
            record.model_dump(mode="json"),
            None if golden is None else golden.payload,
        )
        for refusal in outcome.refused:
            if _same_name(refusal.field, refusal.attempted, refusal.current):
                continue  # the gate keeps the owner's spelling; nothing for anyone to decide
            flag(
                ctx.exceptions,
                "non_owner_write",
                ctx.system,
                record,
                refusal.field,
                f"{ctx.system} tried to change {record.entity_type} {record.id}.{refusal.field} "
                f"from {refusal.current!r} to {refusal.attempted!r}; {refusal.reason}",
                {"owner": refusal.owner, "attempted": refusal.attempted, "kept": refusal.current},
            )


# Name fields where systems legitimately spell one company differently ("Coho Energy" in the
# CRM, "Coho Energy LLC" in the ERP): a refusal that differs only so is audited, not raised.
_NAME_FIELDS = frozenset({"name", "legal_name"})


def _same_name(field: str, attempted: Any, current: Any) -> bool:
    if field not in _NAME_FIELDS or not isinstance(attempted, str) or not isinstance(current, str):
        return False
    return normalise_name(attempted) == normalise_name(current) != ""
