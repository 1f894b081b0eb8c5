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
the call (safe to replay, as above). The per-record decisions are the connector kit's
external-ID upsert template (`kit.upsert.ExternalIdUpsert`); this module gives it Kantata's
look-up, create and update calls.
"""

from __future__ import annotations

from typing import Any

from pssync.connectors.base import UpsertResult
from pssync.connectors.errors import PermanentError
from pssync.connectors.kantata.externals import ExternalIds
from pssync.connectors.kantata.objects import SERVER_FIELDS, KObject
from pssync.connectors.kantata.settings import KantataSettings
from pssync.connectors.kantata.transport import SYSTEM, Transport, objects_of
from pssync.connectors.kit import upsert as kit


class Upsert:
    """Kantata's calls for the kit's upsert template, for one object."""

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
        template = kit.ExternalIdUpsert(
            system=SYSTEM,
            key_field=self.ext,
            lookup=self.lookup,
            create=self.create,
            update=self.update,
            read_only=None
            if self.obj.writable
            else f"{self.obj.key} cannot be written through the Kantata API",
            batch_size=self.settings.page_size,
        )
        server = SERVER_FIELDS - {self.ext}
        return template.run([{k: v for k, v in r.items() if k not in server} for r in records])

    def lookup(self, keys: list[str]) -> dict[str, kit.Found]:
        """The records Kantata holds for these external IDs (the reference index brought up to
        date first), with their stored fields when unchanged records are detected."""
        subject = self.obj.subject_type
        self.ids.refresh(subject)
        known = {key: rid for key in keys if (rid := self.ids.record_id(subject, key))}
        current = (
            self.current(list(known.values())) if known and self.settings.detect_unchanged else {}
        )
        return {key: kit.Found(rid, current.get(rid)) for key, rid in known.items()}

    def current(self, record_ids: list[str]) -> dict[str, dict[str, Any]]:
        """The stored records among `record_ids`: one call for up to 200."""
        unique = list(dict.fromkeys(record_ids))
        params = {**self.obj.params, "only": ",".join(unique)}
        found, _ = self.transport.page(self.obj.key, params, 1)
        return {str(r["id"]): r for r in found}

    def update(self, key: str, record_id: str, body: dict[str, Any]) -> None:
        """PUT the fields sent; a record gone meanwhile is created again."""
        try:
            self.transport.call(
                "PUT",
                f"/{self.obj.key}/{record_id}.json",
                json={self.obj.singular: body},
                record_id=key,
            )
        except PermanentError as exc:
            if exc.status == 404:
                raise kit.KeyGoneError from exc
            raise

    def create(self, key: str, body: dict[str, Any]) -> str:
        """POST the record with its external reference; a key created earlier in the same
        batch (a record sent twice) is updated instead."""
        if self.ids.record_id(self.obj.subject_type, key) is not None:
            raise kit.KeyTakenError
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
