"""Create-or-update by external ID, idempotent under replays, for any system.

The template receives only the calls it needs:
- `lookup(keys)`: the stored records among these external IDs (one call per batch), as
  external ID -> `Found(id, data)`; this is the look-up by a deterministic key that precedes
  every create attempt;
- `create(key, body)`: create the record keyed by its external ID and return its ID; raise
  `KeyTakenError` when the system says the key exists (a vendor upsert with "create only", e.g.
  Dataverse ``If-None-Match: *``): a create retried after a lost answer then becomes an update
  instead of a duplicate;
- `update(key, record_id, body)`: update the fields sent; raise `KeyGoneError` when the record is
  not there any more (it is then created again);
- optionally `check(key, body)`: a refusal found before sending (None when fine), or
  `read_only`: why no record of this object can be written (each fails with it, unsent).

Per record the answer is UNCHANGED (every field sent already holds that value; nothing is
sent), UPDATED, CREATED or FAILED with a `PermanentError` naming the record (and the field when
the system says). Retriable and auth errors are raised: the whole batch is safe to replay.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from pssync.connectors.base import Outcome, UpsertResult
from pssync.connectors.errors import PermanentError

Body = dict[str, Any]


class KeyTakenError(Exception):
    """`create` found a record with this external ID already (e.g. a replayed create)."""


class KeyGoneError(Exception):
    """`update` found no record with this ID (deleted meanwhile)."""


@dataclass(frozen=True)
class Found:
    id: str
    data: Body | None  # None: the stored fields were not read (the record is updated)


def blank(value: Any) -> bool:
    return value is None or value == "" or value == []


def same(sent: Any, stored: Any) -> bool:
    """Whether the system already holds `sent` (numbers as text or numbers, blanks alike)."""
    if blank(sent) or blank(stored):
        return blank(sent) and blank(stored)
    if isinstance(sent, bool) or isinstance(stored, bool):
        return sent is stored
    if isinstance(sent, int | float | Decimal) or isinstance(stored, int | float | Decimal):
        try:
            return Decimal(str(sent)) == Decimal(str(stored))
        except InvalidOperation:
            return False
    if isinstance(sent, list) and isinstance(stored, list):  # IDs as text or numbers alike
        return len(sent) == len(stored) and all(map(same, sent, stored))
    if isinstance(sent, list | dict) or isinstance(stored, list | dict):
        return bool(sent == stored)
    return str(sent) == str(stored)


@dataclass
class ExternalIdUpsert:
    system: str
    key_field: str
    lookup: Callable[[list[str]], dict[str, Found]]
    create: Callable[[str, Body], str]
    update: Callable[[str, str, Body], object]
    check: Callable[[str, Body], PermanentError | None] | None = None
    read_only: str | None = None
    batch_size: int = 200
    normalise: Callable[[str], str] = str  # how the system compares keys (casefold: no case)

    def run(self, records: list[Body]) -> list[UpsertResult]:
        if self.read_only is not None:
            return [self.failed(self.key(r), self.read_only) for r in records]
        results: list[UpsertResult] = []
        for start in range(0, len(records), self.batch_size):
            chunk = records[start : start + self.batch_size]
            keys = list(dict.fromkeys(k for r in chunk if (k := self.key(r))))
            stored = {self.normalise(k): v for k, v in self.lookup(keys).items()} if keys else {}
            results += [self.one(record, stored) for record in chunk]
        return results

    def key(self, record: Body) -> str:
        value = record.get(self.key_field)
        return "" if blank(value) else str(value)

    def failed(self, key: str, message: str, field: str | None = None) -> UpsertResult:
        error = PermanentError(message, system=self.system, record_id=key, field=field)
        return UpsertResult(key, Outcome.FAILED, error=error)

    def one(self, record: Body, stored: dict[str, Found]) -> UpsertResult:
        key = self.key(record)
        if not key.strip():
            return self.failed(key, f"no value in {self.key_field}", self.key_field)
        body = {k: v for k, v in record.items() if k != self.key_field}
        refusal = self.check(key, body) if self.check else None
        if refusal is not None:
            refusal.record_id = key
            return UpsertResult(key, Outcome.FAILED, error=refusal)
        found = stored.get(self.normalise(key))
        try:
            if found is not None:
                data = found.data
                if data is not None and all(same(v, data.get(k)) for k, v in body.items()):
                    return UpsertResult(key, Outcome.UNCHANGED, id=found.id)
                try:
                    self.update(key, found.id, body)
                    return UpsertResult(key, Outcome.UPDATED, id=found.id)
                except KeyGoneError:
                    pass
            try:
                return UpsertResult(key, Outcome.CREATED, id=self.create(key, body))
            except KeyTakenError:  # an earlier attempt landed: update what it created
                again = next(iter(self.lookup([key]).values()), None)
                if again is None:
                    raise KeyGoneError from None
                self.update(key, again.id, body)
                return UpsertResult(key, Outcome.UPDATED, id=again.id)
        except PermanentError as exc:
            exc.record_id = exc.record_id or key
            return UpsertResult(key, Outcome.FAILED, error=exc)
        except KeyGoneError:
            return self.failed(key, "the record was deleted while it was written; replay it")
