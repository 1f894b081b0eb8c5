"""Upsert by external ID against SAP, record by record, so one bad record fails alone.

SAP's APIs have no upsert: the external-ID property (``BusinessPartnerIDByExtSystem``,
``Project``, ``ProjectElement``) is looked up first, a few dozen IDs per ``$filter``, then each
record is created (POST), updated (MERGE, only the fields that differ) or left alone when every
field already holds the value sent. Problems SAP would refuse anyway (an unknown property, a
value that does not fit its Edm type) are caught before any request. A 400 from SAP fails only
its record, naming the property SAP pointed at; retriable and auth failures abort the batch,
which is safe to replay because every step is keyed by the external ID.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pssync.connectors.base import Outcome, UpsertResult
from pssync.connectors.errors import PermanentError
from pssync.connectors.sap_s4.objects import SapObject
from pssync.connectors.sap_s4.transport import SYSTEM, translated
from pssync.connectors.sap_s4.values import comparable, to_wire

if TYPE_CHECKING:
    from pssync.connectors.sap_s4.connector import SapS4Connector


@dataclass
class _Prepared:
    index: int
    external_id: str
    values: dict[str, Any] = field(default_factory=dict)


def _literal(prop: Any, value: Any) -> str:
    if prop.typ.name == "Edm.Guid":
        return f"guid'{value}'"
    return "'" + str(value).replace("'", "''") + "'"


class Upsert:
    """One upsert call: prepare, look up, then create/update/skip each record in order."""

    def __init__(self, connector: SapS4Connector, sap: SapObject, external_id_field: str) -> None:
        self.connector = connector
        self.sap = sap
        self.ext = external_id_field
        self.props = {p.name: p for p in connector.properties(sap)}
        if external_id_field not in self.props:
            raise PermanentError(
                f"{sap.name} has no property {external_id_field!r} to use as external ID",
                system=SYSTEM,
                field=external_id_field,
            )

    def fail(self, external_id: str, message: str, field: str | None = None) -> UpsertResult:
        error = PermanentError(message, system=SYSTEM, record_id=external_id, field=field)
        return UpsertResult(external_id, Outcome.FAILED, error=error)

    def run(self, records: list[dict[str, Any]]) -> list[UpsertResult]:
        results: list[UpsertResult | None] = [None] * len(records)
        prepared: list[_Prepared] = []
        for index, record in enumerate(records):
            outcome = self.prepare(index, record)
            if isinstance(outcome, UpsertResult):
                results[index] = outcome
            else:
                prepared.append(outcome)
        existing = self.lookup([p.external_id for p in prepared])
        for item in prepared:
            results[item.index] = self.apply(item, existing)
        return [r for r in results if r is not None]

    def prepare(self, index: int, record: dict[str, Any]) -> _Prepared | UpsertResult:
        raw = record.get(self.ext)
        external_id = "" if raw is None else str(raw)
        if not self.sap.writable:
            return self.fail(external_id, f"{self.sap.name} is read-only in SAP")
        if not external_id.strip():
            return self.fail(external_id, f"no value for external ID {self.ext}", self.ext)
        item = _Prepared(index, external_id)
        for name, value in record.items():
            prop = self.props.get(name)
            if prop is None:
                return self.fail(external_id, f"{self.sap.name} has no property {name}", name)
            try:
                item.values[name] = to_wire(prop, value)
            except ValueError as exc:
                return self.fail(external_id, f"{name}: {exc}", name)
        return item

    def lookup(self, external_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
        """Existing records by external ID, a chunk of IDs per request."""
        found: dict[str, list[dict[str, Any]]] = {}
        unique = sorted(set(external_ids))
        chunk = self.connector.config.lookup_chunk
        prop = self.props[self.ext]
        for start in range(0, len(unique), chunk):
            part = unique[start : start + chunk]
            clause = " or ".join(f"{self.ext} eq {_literal(prop, v)}" for v in part)
            rows, _ = self.connector.fetch(self.sap, top=len(part) * 2 + 1, filter_=clause)
            for row in rows:
                found.setdefault(str(row.get(self.ext)), []).append(row)
        return found

    def apply(self, item: _Prepared, existing: dict[str, list[dict[str, Any]]]) -> UpsertResult:
        matches = existing.get(item.external_id, [])
        if len(matches) > 1:
            keys = ", ".join(str(m[self.sap.key]) for m in matches)
            return self.fail(
                item.external_id, f"{len(matches)} records share this external ID: {keys}", self.ext
            )
        try:
            if matches:
                return self.update(item, matches[0])
            created = self.create(item)
        except PermanentError as exc:
            return UpsertResult(item.external_id, Outcome.FAILED, error=exc)
        existing[item.external_id] = [created]  # a repeat later in the batch updates it
        return UpsertResult(item.external_id, Outcome.CREATED, id=str(created[self.sap.key]))

    def update(self, item: _Prepared, current: dict[str, Any]) -> UpsertResult:
        key = str(current[self.sap.key])
        changed = {
            name: value
            for name, value in item.values.items()
            if name not in (self.sap.key, self.ext)
            and self.props[name].updatable
            and comparable(self.props[name], value)
            != comparable(self.props[name], current.get(name))
        }
        if not changed:
            return UpsertResult(item.external_id, Outcome.UNCHANGED, id=key)
        entity_set = self.connector.entity_set(self.sap)

        def send() -> None:
            request = entity_set.update_entity(method="MERGE", **{self.sap.key: key})
            request.set(**changed).execute()

        self.write(send, item.external_id)
        return UpsertResult(item.external_id, Outcome.UPDATED, id=key)

    def create(self, item: _Prepared) -> dict[str, Any]:
        values = dict(self.sap.create_defaults)
        values.update({n: v for n, v in item.values.items() if self.props[n].creatable})
        entity_set = self.connector.entity_set(self.sap)

        def send() -> Any:
            return entity_set.create_entity().set(**values).execute()

        entity = self.write(send, item.external_id)
        return self.connector.plain(self.sap, entity)

    def write(self, send: Any, external_id: str) -> Any:
        """Send with the CSRF token; SAP's refusal of this record becomes its PermanentError."""
        with translated(external_id):
            return self.connector.csrf.write(send)
