"""pssync's external IDs as Kantata external references.

Kantata links its objects to third-party records with external references
(https://developer.kantata.com/tag/External-References): ``service_name`` (here
``external_reference_service_name``, default ``pssync``), ``service_model`` (the Kantata subject
type unless set) and ``service_model_ref`` (pssync's external ID). Every synced type has them,
unlike custom field values, which Kantata keeps only for Estimate, Story, User, Workspace,
WorkspaceGroup and Resource.

The reference travels inside the create (the ``external_reference`` attribute of the object's
create body), so Kantata never holds a record pssync made without its external ID, and a
retried create finds the first one: before each batch the index below is brought up to date
from ``GET /external_references`` (all of a subject type once per connector instance, then by
``updated_after``; one call per 200 references), which is the look-up by external ID every
create attempt is preceded by. Reads take the references side-loaded on each page
(``include=external_references``) and need no index; the references other integrations keep
(the CRM deal a workspace was opened for) are handed out as companions (`foreign`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pssync.connectors.kantata.settings import KantataSettings
from pssync.connectors.kantata.transport import Transport

KEY = "external_references"


def _stamp(text: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


class ExternalIds:
    """External ID -> Kantata ID, per subject type, kept current by `refresh`."""

    def __init__(self, transport: Transport, settings: KantataSettings) -> None:
        self.transport = transport
        self.service_name = settings.external_reference_service_name
        self.service_model = settings.external_reference_service_model
        self._by_external: dict[str, dict[str, str]] = {}
        self._since: dict[str, dt.datetime] = {}

    def model(self, subject_type: str) -> str:
        return self.service_model or subject_type

    def reference(self, subject_type: str, external_id: str) -> dict[str, Any]:
        """The ``external_reference`` of a create or update body."""
        return {
            "service_name": self.service_name,
            "service_model": self.model(subject_type),
            "service_model_ref": external_id,
            "status": "successful",
        }

    def mine(self, ref: dict[str, Any], subject_type: str) -> bool:
        return bool(
            ref.get("service_name") == self.service_name
            and ref.get("service_model") == self.model(subject_type)
        )

    def refresh(self, subject_type: str) -> None:
        """Read the references written since the last refresh (all of them the first time)."""
        params: dict[str, Any] = {
            "subject_type": subject_type,
            "service_name": self.service_name,
            "order": "updated_at:asc",
        }
        since = self._since.get(subject_type)
        if since is not None:  # Kantata shows seconds; re-reading the last second is harmless
            params["updated_after"] = (since - dt.timedelta(seconds=1)).isoformat()
        self._by_external.setdefault(subject_type, {})
        page = 1
        while True:
            refs, last = self.transport.page(KEY, params, page)
            for ref in refs:
                if self.mine(ref, subject_type):
                    self.remember(subject_type, str(ref["service_model_ref"]), ref["subject_id"])
                stamp = _stamp(str(ref["updated_at"]))
                if since is None or stamp > since:
                    since = stamp
            if last or not refs:
                break
            page += 1
        if since is not None:
            self._since[subject_type] = since

    def remember(self, subject_type: str, external_id: str, record_id: Any) -> None:
        self._by_external.setdefault(subject_type, {})[external_id] = str(record_id)

    def record_id(self, subject_type: str, external_id: str) -> str | None:
        return self._by_external.get(subject_type, {}).get(external_id)

    def foreign(self, row: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        """The links other integrations keep on a listed object, as companions
        ``external_reference.<service_name>.<service_model>`` -> ``service_model_ref`` (a
        workspace's CRM deal: ``external_reference.salesforce.Opportunity``)."""
        index = body.get(KEY) or {}
        out: dict[str, Any] = {}
        for ref_id in row.get("external_reference_ids") or []:
            ref = index.get(str(ref_id))
            if not isinstance(ref, dict) or ref.get("service_name") == self.service_name:
                continue
            name = f"external_reference.{ref.get('service_name')}.{ref.get('service_model')}"
            out.setdefault(name, ref.get("service_model_ref"))
        return out

    def external_id(self, subject_type: str, row: dict[str, Any], body: dict[str, Any]) -> Any:
        """pssync's external ID of a listed object, from the references side-loaded with it."""
        index = body.get(KEY) or {}
        for ref_id in row.get("external_reference_ids") or []:
            ref = index.get(str(ref_id))
            if isinstance(ref, dict) and self.mine(ref, subject_type):
                return ref.get("service_model_ref")
        return None
