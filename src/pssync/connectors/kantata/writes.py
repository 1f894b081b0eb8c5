"""Create-or-update by external ID for an API without upsert, idempotent by construction.

Per batch (up to 200 records): the external-reference index is brought up to date (see
`externals`: this is the look-up by external ID that precedes every create attempt), the records
it already knows are read with one ``only=`` call, and then each record is
- left alone (UNCHANGED) when every field sent already holds that value,
- updated with ``PUT /{key}/{id}.json`` (only the fields sent), or
- created with ``POST /{key}.json`` carrying its external reference in the same body
  (``"external_reference": {"service_name", "service_model", "service_model_ref"}``).
One call creates the record and its link, so no failure can leave a record pssync made without
its external ID; a replayed batch (after a 429, 5xx, timeout or lost answer) finds every record
created before the failure in the refreshed index and updates it instead of creating it again.
Kantata's bulk create is not used: it stops at the first refused object, leaving the ones before
it created and the rest unsent, which cannot be reported per record.

A 422 fails only its record, naming the field Kantata names; a retriable or auth failure aborts
the call (safe to replay, as above).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from pssync.connectors.base import Outcome, UpsertResult
from pssync.connectors.errors import PermanentError
from pssync.connectors.kantata.externals import ExternalIds
from pssync.connectors.kantata.objects import SERVER_FIELDS, KObject
from pssync.connectors.kantata.settings import KantataSettings
from pssync.connectors.kantata.transport import SYSTEM, Transport, objects_of


def _blank(value: Any) -> bool:
    return value is None or value == "" or value == []


def same(sent: Any, stored: Any) -> bool:
    """Whether Kantata already holds `sent`: IDs travel as strings, numbers may come as either."""
    if _blank(sent) or _blank(stored):
        return _blank(sent) and _blank(stored)
    if isinstance(sent, bool) or isinstance(stored, bool):
        return sent is stored
    if isinstance(sent, list) and isinstance(stored, list):
        return len(sent) == len(stored) and all(map(same, sent, stored))
    if isinstance(sent, dict) or isinstance(stored, dict):
        return bool(sent == stored)
    if isinstance(sent, int | float | Decimal) or isinstance(stored, int | float | Decimal):
        try:
            return Decimal(str(sent)) == Decimal(str(stored))
        except InvalidOperation:
            return False
    return str(sent) == str(stored)


def _failed(key: str, message: str, field: str | None = None) -> UpsertResult:
    error = PermanentError(message, system=SYSTEM, record_id=key, field=field)
    return UpsertResult(key, Outcome.FAILED, error=error)


class Upsert:
    def __init__(
        self,
        transport: Transport,
        ids: ExternalIds,
        settings: KantataSettings,
        obj: KObject,
        ext_field: str,
    ) -> None:
        self.transport = transport
        self.ids = ids
        self.obj = obj
        self.ext = ext_field
        self.settings = settings

    def run(self, records: list[dict[str, Any]]) -> list[UpsertResult]:
        size = self.settings.page_size
        results: list[UpsertResult] = []
        for start in range(0, len(records), size):
            results += self.chunk(records[start : start + size])
        return results

    def chunk(self, records: list[dict[str, Any]]) -> list[UpsertResult]:
        subject = self.obj.subject_type
        if self.obj.writable:
            self.ids.refresh(subject)
        known = [
            rid
            for r in records
            if not _blank(r.get(self.ext))
            and (rid := self.ids.record_id(subject, str(r[self.ext])))
        ]
        current = self.current(known) if known and self.settings.detect_unchanged else {}
        return [self.one(record, current) for record in records]

    def current(self, record_ids: list[str]) -> dict[str, dict[str, Any]]:
        """The stored records among `record_ids`: one call for up to 200."""
        unique = list(dict.fromkeys(record_ids))
        params = {**self.obj.params, "only": ",".join(unique)}
        found, _ = self.transport.page(self.obj.key, params, 1)
        return {str(r["id"]): r for r in found}

    def one(self, record: dict[str, Any], current: dict[str, dict[str, Any]]) -> UpsertResult:
        key = "" if _blank(record.get(self.ext)) else str(record[self.ext])
        if not self.obj.writable:
            return _failed(key, f"{self.obj.key} cannot be written through the Kantata API")
        if not key.strip():
            return _failed(key, f"no value in {self.ext}", self.ext)
        body = {k: v for k, v in record.items() if k != self.ext and k not in SERVER_FIELDS}
        record_id = self.ids.record_id(self.obj.subject_type, key)
        try:
            if record_id is not None:
                stored = current.get(record_id)
                if stored is not None and all(same(v, stored.get(k)) for k, v in body.items()):
                    return UpsertResult(key, Outcome.UNCHANGED, id=record_id)
                if self.update(key, record_id, body):
                    return UpsertResult(key, Outcome.UPDATED, id=record_id)
            return UpsertResult(key, Outcome.CREATED, id=self.create(key, body))
        except PermanentError as exc:
            return UpsertResult(key, Outcome.FAILED, error=exc)

    def update(self, key: str, record_id: str, body: dict[str, Any]) -> bool:
        """PUT the fields sent; False when the record is gone (it is then created again)."""
        try:
            self.transport.call(
                "PUT",
                f"/{self.obj.key}/{record_id}.json",
                json={self.obj.singular: body},
                record_id=key,
            )
        except PermanentError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    def create(self, key: str, body: dict[str, Any]) -> str:
        link = self.ids.reference(self.obj.subject_type, key)
        answer = self.transport.call(
            "POST",
            f"/{self.obj.key}.json",
            json={self.obj.singular: {**body, "external_reference": link}},
            record_id=key,
        )
        created = objects_of(answer, self.obj.key)
        if not created:
            raise PermanentError(
                f"Kantata created nothing: {answer!r:.200}", system=SYSTEM, record_id=key
            )
        record_id = str(created[0]["id"])
        self.ids.remember(self.obj.subject_type, key, record_id)
        return record_id
