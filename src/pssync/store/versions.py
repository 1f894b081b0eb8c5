"""The golden store's values: a change to write, a stored version, a write's result, and the
plain `Fact` a change is reduced to before the write plan applies it."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any, NamedTuple

from pydantic_core import from_json

from pssync.model import CanonicalRecord

Clock = Callable[[], dt.datetime]


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def content_hash(payload_json: str) -> str:
    """Digest of a payload's canonical JSON (pydantic's dump: fixed field order, exact Decimals)."""
    return hashlib.sha256(payload_json.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Change:
    """One fact to store: `record` as it is from `valid_from`, as reported by `system`."""

    record: CanonicalRecord
    valid_from: dt.datetime
    system: str
    source_record: str | None = None


@dataclass
class RecordVersion:
    entity_type: str
    record_id: str
    valid_from: dt.datetime
    valid_to: dt.datetime | None
    recorded_from: dt.datetime
    recorded_to: dt.datetime | None
    payload_json: str
    provenance: dict[str, str]
    transaction_id: str
    content_hash: str
    system: str
    source_record: str | None = None
    deleted: bool = False
    version_id: int | None = None

    @cached_property
    def payload(self) -> dict[str, Any]:
        """The canonical payload, parsed on first use (bulk writes of new records never need it)."""
        result: dict[str, Any] = json.loads(self.payload_json)
        return result

    def covers(self, at: dt.datetime) -> bool:
        return self.valid_from <= at and (self.valid_to is None or at < self.valid_to)


@dataclass
class WriteResult:
    transaction_id: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0


def version_of_row(row: Any) -> RecordVersion:
    """A `record_version` row as a RecordVersion (the store's reads and `lookup`'s)."""
    return RecordVersion(
        entity_type=row.entity_type,
        record_id=row.record_id,
        valid_from=row.valid_from,
        valid_to=row.valid_to,
        recorded_from=row.recorded_from,
        recorded_to=row.recorded_to,
        payload_json=row.payload,
        provenance=json.loads(row.provenance),
        transaction_id=row.transaction_id,
        content_hash=row.content_hash,
        system=row.system,
        source_record=row.source_record,
        deleted=bool(row.deleted),
        version_id=row.version_id,
    )


class Fact(NamedTuple):
    """What the write plan needs of a change: a payload for one key from one valid time.

    Plain values only (no pydantic objects), so a bulk import can build facts in a worker
    process and send them back cheaply.
    """

    entity_type: str
    record_id: str
    payload_json: str
    digest: str  # `content_hash(payload_json)`
    valid_from: dt.datetime
    system: str
    source_record: str | None
    deleted: bool = False
    # The payload's non-empty fields (what a new record's provenance lists); None: derive them.
    fields: tuple[str, ...] | None = None
    xrefs: tuple[tuple[str, str], ...] = ()
    valid_from_text: str | None = None  # `valid_from.isoformat()`, as the audit row states it

    @classmethod
    def of(cls, change: Change) -> Fact:
        record = change.record
        payload_json = record.model_dump_json()
        return cls(
            record.entity_type,
            record.id,
            payload_json,
            content_hash(payload_json),
            change.valid_from,
            change.system,
            change.source_record,
            False,
            set_fields(record),
            tuple(record.xrefs.items()),
            change.valid_from.isoformat(),
        )


def set_fields(record: CanonicalRecord) -> tuple[str, ...]:
    """The keys of `record.model_dump_json()` whose value is neither null nor ``[]``, in order.

    Read off the model instead of re-parsing the dump: the dump has exactly the model's fields
    in declaration order (no aliases, exclusions, computed fields or custom serialisers in the
    canonical model, and extra keys are forbidden); a value dumps as null only when it is None
    and as ``[]`` only when it is an empty list, tuple or set. `tests/store/test_history.py`
    checks this against the dump for every entity type.
    """
    values = record.__dict__
    names = _FIELD_NAMES.get(type(record))
    if names is None:
        names = _FIELD_NAMES[type(record)] = tuple(type(record).model_fields)
    return tuple(
        [
            name
            for name in names
            if (v := values[name]) is not None and not (type(v) in _SEQUENCES and not v)
        ]
    )


_SEQUENCES = frozenset({list, tuple, set, frozenset})
# Model class -> its field names (`model_fields` is a descriptor call on every access).
_FIELD_NAMES: dict[type[CanonicalRecord], tuple[str, ...]] = {}


def json_loads(text: str) -> Any:
    """`json.loads`, done by pydantic-core's parser (twice as fast, same values: exact big
    integers, NaN and Infinity). What it refuses (lone surrogates) or any invalid text goes to
    the standard library, which then decides and words the error."""
    try:
        return from_json(text)
    except ValueError:
        return json.loads(text)
