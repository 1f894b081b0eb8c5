"""Compare digests: each cross-reference carries a digest of the golden fields its system's
mapping compares, kept current by every golden write.

Reconciling a million records read every linked record's compared fields out of its current
payload (a join and a JSON extraction per record): half of the whole run. With a digest on the
xref row, reconciliation reads (external ID, digest) only, computes the same digest from the
source's mapped columns, and reads fields for the records whose digests differ
(docs/decisions/0005, 0007).

Which fields a system object compares is the mapping's business, so the process that writes
registers them (`register`, from the runtime builder). A write recomputes the digest of every
xref of each record whose current version it replaced; an xref whose object is not registered
in the writing process, or whose record's current version is deleted or holds a non-string
value there, gets NULL, which reconciliation reads as "compare the fields". So a stored digest
is either NULL or the digest of the current version: never stale
(`tests/store/test_compare_digest.py`).

The digest covers the field names too, so a mapping that compares other fields finds every
stored digest different instead of wrongly equal.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import polars as pl
from sqlalchemy import Connection, bindparam, select, update

from pssync.store.tables import xref
from pssync.store.versions import json_loads

_FIELDS: dict[tuple[str, str], tuple[str, ...]] = {}
# Separates the fields of the digested text (each value is also length-prefixed).
_END = "\x1f"
_IN_CHUNK = 500
_SLICE = 50_000


def register(system: str, obj: str, fields: Iterable[str]) -> None:
    """Have this process's golden writes keep `system`'s `obj` xref digests over `fields`."""
    _FIELDS[(system, obj)] = tuple(sorted(fields))


def registered(system: str, obj: str) -> tuple[str, ...] | None:
    """The fields registered for `system`'s `obj`, sorted; None when none are."""
    return _FIELDS.get((system, obj))


def digest_text(text: str) -> str:
    """BLAKE2b-128 of the digested text, as hex."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def text_of(fields: Sequence[str], values: Sequence[str | None]) -> str:
    """The digested text of `values` (one per sorted field name, None for null)."""
    return "".join(
        f"{name}=-{_END}" if value is None else f"{name}={len(value)}:{value}{_END}"
        for name, value in zip(fields, values, strict=True)
    )


def golden_digest(fields: Sequence[str], payload: Mapping[str, Any]) -> str | None:
    """The digest of a golden payload over sorted `fields`; None where a value is not a
    string or null (the columnar compare applies to string fields only)."""
    values = [payload.get(name) for name in fields]
    if any(v is not None and type(v) is not str for v in values):
        return None
    return digest_text(text_of(fields, values))


def source_digests(frame: pl.DataFrame, fields: Sequence[str]) -> pl.Series:
    """The digest of each row of `frame`, whose columns include sorted `fields` as canonical
    strings (null: absent): the text built by polars, the hash by `hashlib`."""
    parts: list[pl.Expr] = []
    for name in fields:
        value = pl.col(name)
        length = value.str.len_chars().cast(pl.String)
        parts.append(
            pl.when(value.is_null())
            .then(pl.lit(f"{name}=-{_END}"))
            .otherwise(pl.concat_str(pl.lit(f"{name}="), length, pl.lit(":"), value, pl.lit(_END)))
        )
    texts = frame.select(pl.concat_str(parts).alias("text")).get_column("text")
    # A slice at a time, so only one slice's texts and digests are Python strings at once.
    chunks = [
        pl.Series("digest", [digest_text(t) for t in texts.slice(start, _SLICE)], pl.String)
        for start in range(0, len(texts), _SLICE)
    ]
    return pl.concat(chunks) if chunks else pl.Series("digest", [], pl.String)


def digests_for(
    payloads: Mapping[tuple[str, str], str | None], links: Iterable[tuple[str, str, str, str]]
) -> list[str | None]:
    """The digest of each link (entity type, record ID, system, object) whose record's current
    payload (JSON text; None: deleted) is in `payloads`: None where its object is not
    registered, its record deleted, or a compared value not a string."""
    parsed: dict[tuple[str, str], Any] = {}
    out: list[str | None] = []
    for entity_type, record_id, system, obj in links:
        fields = _FIELDS.get((system, obj))
        text = payloads.get((entity_type, record_id))
        if fields is None or text is None:
            out.append(None)
            continue
        key = (entity_type, record_id)
        if key not in parsed:
            parsed[key] = json_loads(text)
        out.append(golden_digest(fields, parsed[key]))
    return out


def refresh(conn: Connection, payloads: Mapping[tuple[str, str], str | None]) -> None:
    """Set the digest of every xref of the records whose current version a write replaced
    (`payloads`: their new current payload, None if deleted), in the write's transaction."""
    x = xref.c
    by_type: dict[str, list[str]] = defaultdict(list)
    for entity_type, record_id in payloads:
        by_type[entity_type].append(record_id)
    changes: list[dict[str, Any]] = []
    for entity_type, ids in by_type.items():
        for start in range(0, len(ids), _IN_CHUNK):
            rows = conn.execute(
                select(x.xref_id, x.record_id, x.system, x.object, x.compare_digest).where(
                    x.entity_type == entity_type, x.record_id.in_(ids[start : start + _IN_CHUNK])
                )
            ).all()
            links = [(entity_type, r.record_id, r.system, r.object) for r in rows]
            for row, digest in zip(rows, digests_for(payloads, links), strict=True):
                if digest != row.compare_digest:
                    changes.append({"id": row.xref_id, "digest": digest})
    if changes:
        conn.execute(
            update(xref)
            .where(x.xref_id == bindparam("id"))
            .values(compare_digest=bindparam("digest")),
            changes,
        )
