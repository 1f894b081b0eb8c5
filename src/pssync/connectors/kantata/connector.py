"""KantataConnector: workspaces, stories, users, allocations, resource requests, time entries and
invoices over the Kantata OX (Mavenlink) API v1.

Reads page with ``page``/``per_page`` (200 a call, Kantata's maximum) and side-load each
record's external references and associations in the same call (see `reads`); incremental reads
filter with ``updated_after``, come in ``updated_at`` order and hand out a cursor per page (see
`cursor`). pssync's external IDs are Kantata external references (see `externals`); writes
create or update record by record with the reference inside the create (see `writes`).

Deletes: Kantata's API has no deleted-objects feed (a deleted object simply stops being listed),
so `deletes` reports nothing and leaves its cursor as it was; the scheduled reconciliation
compares a snapshot with the golden store and finds hard deletes. Archived workspaces are not
deleted: the connector lists them (``include_archived=true``), so reconciliation still sees them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pssync.connectors.base import (
    Connector,
    ConnectorSettings,
    Deletion,
    FieldInfo,
    ObjectDescription,
    Page,
    UpsertResult,
)
from pssync.connectors.errors import PermanentError
from pssync.connectors.kantata.externals import ExternalIds
from pssync.connectors.kantata.objects import OBJECTS, SERVER_FIELDS, KObject
from pssync.connectors.kantata.reads import Reader
from pssync.connectors.kantata.settings import KantataSettings
from pssync.connectors.kantata.transport import SYSTEM, Transport
from pssync.connectors.kantata.writes import Upsert


class KantataConnector(Connector):
    """Kantata OX API v1 with a bearer token."""

    name = "kantata"
    settings_model = KantataSettings
    objects = tuple(OBJECTS)
    write_batch_size = 200
    read_page_size = 200

    def __init__(self, settings: ConnectorSettings) -> None:
        super().__init__(settings)
        assert isinstance(settings, KantataSettings)  # checked by Connector.__init__
        self.config = settings
        self.transport = Transport(settings)
        self.external_ids = ExternalIds(self.transport, settings)
        self.reader = Reader(self.transport, self.external_ids, settings)

    def k_object(self, obj: str) -> KObject:
        try:
            return OBJECTS[obj]
        except KeyError:
            raise PermanentError(
                f"unknown object {obj!r}; supported: {', '.join(OBJECTS)}", system=SYSTEM
            ) from None

    # ---- reads -------------------------------------------------------------------------

    def snapshot(self, obj: str) -> Iterator[Page]:
        """Every record, in Kantata's ID order, `page_size` a call."""
        return self.reader.snapshot(self.k_object(obj))

    def changes(self, obj: str, cursor: str | None) -> Iterator[Page]:
        """Records updated in or after the cursor's second that it has not delivered, in stamp
        order, one page (and one cursor) per call."""
        kobj = self.k_object(obj)
        return self.reader.changes(kobj, cursor)

    def deletes(self, obj: str, cursor: str | None) -> tuple[list[Deletion], str | None]:
        """Nothing: no deleted-objects feed (see the module docstring)."""
        self.k_object(obj)
        return [], cursor

    # ---- writes and schema -------------------------------------------------------------

    def upsert(
        self, obj: str, external_id_field: str, records: list[dict[str, Any]]
    ) -> list[UpsertResult]:
        kobj = self.k_object(obj)
        return Upsert(self.transport, self.external_ids, self.config, kobj, external_id_field).run(
            records
        )

    def describe(self, obj: str) -> ObjectDescription:
        """The fields of the first record Kantata lists (its API publishes no schema)."""
        kobj = self.k_object(obj)
        rows, _ = self.transport.page(kobj.key, kobj.params, 1)
        sample = rows[0] if rows else {}
        fields = [
            FieldInfo(
                name=name,
                type=type(value).__name__ if value is not None else "unknown",
                updateable=kobj.writable and name not in SERVER_FIELDS,
            )
            for name, value in sample.items()
        ]
        fields.append(FieldInfo(self.config.external_id_key, "str", external_id=True))
        return ObjectDescription(obj, fields)

    def close(self) -> None:
        self.transport.close()
