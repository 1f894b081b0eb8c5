"""External IDs for an API without them: a custom field value on each record.

Kantata has no external-ID field and no upsert, and its API cannot filter records by a custom
field's value. So the connector keeps pssync's external ID in a custom field value (``{"custom_
field_id", "subject_type", "subject_id", "value"}``) and holds an index of those values per
subject type: read in full once per connector instance (one call per 200 values), then refreshed
by ``updated_after`` before each read or upsert (usually one call). The index answers both ways:
which record holds an external ID (upserts) and which external ID a record has (reads).

The external ID is written right after the record is created, one call later; a crash between
the two leaves a record without its external ID, which the next upsert would create again.
Reconciliation reports such twins (same fields, one without an external ID).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pssync.connectors.kantata.settings import KantataSettings
from pssync.connectors.kantata.transport import Transport, objects_of

KEY = "custom_field_values"


def _stamp(text: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


class ExternalIds:
    """External ID <-> Kantata ID, per subject type, kept current by `refresh`."""

    def __init__(self, transport: Transport, settings: KantataSettings) -> None:
        self.transport = transport
        self.field_id = settings.external_id_custom_field
        self._by_record: dict[str, dict[str, str]] = {}
        self._by_external: dict[str, dict[str, str]] = {}
        self._since: dict[str, dt.datetime] = {}

    def refresh(self, subject_type: str) -> None:
        """Read the values written since the last refresh (all of them the first time)."""
        params: dict[str, Any] = {"custom_field_id": self.field_id, "subject_type": subject_type}
        since = self._since.get(subject_type)
        if since is not None:  # Kantata shows seconds; re-reading the last second is harmless
            params["updated_after"] = (since - dt.timedelta(seconds=1)).isoformat()
        self._by_record.setdefault(subject_type, {})
        self._by_external.setdefault(subject_type, {})
        page = 1
        while True:
            values, last = self.transport.page(KEY, params, page)
            for value in values:
                self.remember(subject_type, str(value["value"]), str(value["subject_id"]))
                stamp = _stamp(str(value["updated_at"]))
                if since is None or stamp > since:
                    since = stamp
            if last or not values:
                break
            page += 1
        if since is not None:
            self._since[subject_type] = since

    def remember(self, subject_type: str, external_id: str, record_id: str) -> None:
        self._by_record.setdefault(subject_type, {})[record_id] = external_id
        self._by_external.setdefault(subject_type, {})[external_id] = record_id

    def record_id(self, subject_type: str, external_id: str) -> str | None:
        return self._by_external.get(subject_type, {}).get(external_id)

    def external_id(self, subject_type: str, record_id: str) -> str | None:
        return self._by_record.get(subject_type, {}).get(record_id)

    def store(self, subject_type: str, record_id: str, external_id: str) -> None:
        """Write the external ID onto a record (one call) and index it."""
        value = {
            "custom_field_id": self.field_id,
            "subject_type": subject_type,
            "subject_id": record_id,
            "value": external_id,
        }
        body = self.transport.call(
            "POST", f"/{KEY}.json", json={"custom_field_value": value}, record_id=external_id
        )
        for saved in objects_of(body, KEY):
            self.remember(subject_type, str(saved["value"]), str(saved["subject_id"]))
