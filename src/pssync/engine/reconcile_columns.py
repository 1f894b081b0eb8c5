"""Reconciliation's columnar path: a whole snapshot against the golden store in a few frames.

Where the connector can give its snapshot as columns (an export file) and every rule of the
object's mapping is plain (`mapping.columns`), the canonical value of each mapped field is
computed for all records at once, the golden store's linked records are read in one stream
(`store.linked`), and the two are joined on the external ID. A record whose every mapped field
equals its golden value (or is left out by the mapping, as a translation would) is in step:
exactly the records `reconcile._verdict` would find in step with nothing to compare. Every
other record (a field differs, no plain link, a crosswalk miss, a duplicate ID) is handed to
the per-record compare, which gives its verdict, raises or repairs it as before. Linked
records the snapshot lacks are the hard-delete candidates. docs/decisions/0007.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import polars as pl
from pydantic import TypeAdapter

from pssync.engine.records import source_record
from pssync.engine.runtime import Runtime
from pssync.mapping.columns import UNDECIDED, canonical_columns, column_plan
from pssync.mapping.translator import Translator
from pssync.model.registry import entity_class
from pssync.store import compare_digest
from pssync.store.linked import PLAIN, linked_digests, linked_frame

_ID = "__external_id"
_GOLDEN = "__golden:"
_DIGEST = "__digest"
_SINGLE = "__single"


@dataclass
class ColumnCompare:
    """What the columns decided: the count in step, the records still to compare one by one,
    and the linked records the snapshot lacks."""

    checked: int
    in_step: int
    todo: pl.DataFrame
    id_column: str
    stamp: str | None
    gone: list[tuple[str, str, str]]  # (entity type, record ID, external ID)

    def batches(self, size: int) -> Iterator[list[dict[str, Any]]]:
        """The records to compare one by one, as the row snapshot serialises them."""
        for start in range(0, self.todo.height, size):
            rows = self.todo.slice(start, size).iter_rows(named=True)
            yield [source_record(str(r[self.id_column]), r, self.stamp) for r in rows]


def _strings(entity_type: str, names: Iterable[str]) -> bool:
    """Whether the canonical model types each field as a string (or null): the golden JSON
    then holds a string or null there, and text equality is the translator's equality."""
    fields = entity_class(entity_type).model_fields
    for name in names:
        annotation = fields[name].annotation if name in fields else None
        if annotation is None:
            return False
        schema = TypeAdapter(annotation).json_schema()
        kinds = [s.get("type") for s in schema.get("anyOf", [schema])]
        if "string" not in kinds or not set(kinds) <= {"string", "null"}:
            return False
    return True


def compared_fields(translator: Translator, obj: str) -> tuple[str, ...] | None:
    """The canonical fields the columnar compare compares for `obj`, or None where it does
    not apply (a mapping rule that is not plain, a field that is not a string)."""
    plan = column_plan(translator.spec, obj)
    if plan is None or not _strings(translator.object_map(obj).entity, plan.fields):
        return None
    return tuple(plan.fields)


def compare_columns(runtime: Runtime, system: str, obj: str) -> ColumnCompare | None:
    """The columnar compare of `system`'s `obj`, or None where it does not apply (a mapping
    rule that is not plain, a connector without a column snapshot).

    Two steps: each record's source digest against the digest its xref carries (one read of
    the xref rows), then, for the records those do not settle, the fields themselves."""
    translator = runtime.translator(system)
    plan = column_plan(translator.spec, obj)
    if plan is None or not _strings(translator.object_map(obj).entity, plan.fields):
        return None
    snapshot = runtime.connector(system).snapshot_columns(obj)
    if snapshot is None:
        return None
    source = snapshot.frame
    names = sorted(plan.fields)
    mapped = canonical_columns(plan, source).with_columns(
        source.get_column(snapshot.id_column).alias(_ID)
    )
    mapped = mapped.with_columns(
        compare_digest.source_digests(mapped, names).alias(_DIGEST),
        (pl.len().over(_ID) == 1).alias(_SINGLE),  # a duplicate ID is settled by neither step
    )
    links = linked_digests(runtime.store.engine, system, obj)
    single = pl.col(_SINGLE)
    decided = (
        mapped.join(
            links.select(pl.col("external_id").alias(_ID), pl.col("digest"), pl.col(PLAIN)),
            on=_ID,
            how="left",
            maintain_order="left",
        )
        .select(
            (pl.col(PLAIN) & ~pl.col(UNDECIDED) & single & (pl.col("digest") == pl.col(_DIGEST)))
            .fill_null(False)
            .alias("same")
        )
        .get_column("same")
    )
    # The rest: their golden fields, read for those IDs only (or all, if most are left).
    rest = mapped.filter(~decided)
    golden = linked_frame(runtime.store.engine, system, obj, names, rest.get_column(_ID))
    plain = golden.filter(pl.col(PLAIN)).select(
        pl.col("external_id").alias(_ID),
        pl.col("record_id"),
        *(pl.col(n).alias(_GOLDEN + n) for n in names),
    )
    agree = [
        pl.col(n).is_null() | (pl.col(n) == pl.col(_GOLDEN + n)).fill_null(False) for n in names
    ]
    same = (
        pl.col("record_id").is_not_null()
        & ~pl.col(UNDECIDED)
        & single
        & pl.all_horizontal(agree or [pl.lit(True)])
    )
    by_fields = (
        rest.join(plain, on=_ID, how="left", maintain_order="left")
        .select(same.fill_null(False).alias("same"))
        .get_column("same")
    )
    todo = source.filter(~decided).filter(~by_fields)
    seen = source.select(pl.col(snapshot.id_column).alias("external_id")).unique()
    gone = links.join(seen, on="external_id", how="anti").select(
        "entity_type", "record_id", "external_id"
    )
    stamp = snapshot.modified_at.isoformat() if snapshot.modified_at else None
    return ColumnCompare(
        checked=source.height,
        in_step=int(decided.sum()) + int(by_fields.sum()),
        todo=todo,
        id_column=snapshot.id_column,
        stamp=stamp,
        gone=[(str(e), str(r), str(x)) for e, r, x in gone.iter_rows()],
    )
