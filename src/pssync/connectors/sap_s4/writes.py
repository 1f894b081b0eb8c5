"""Upsert by external ID against SAP: look up, then create or update in one ``$batch``.

SAP's APIs have no upsert: the external-ID property (``BusinessPartnerIDByExtSystem``,
``Project``, ``ProjectElement``) is looked up first, a few dozen IDs per ``$filter``, then each
record is created (POST, with its deep-insert children such as a partner's roles and customer
data), updated (MERGE, only the fields that differ) or left alone. The writes go in one
``$batch``, a changeset per record, so one refused record fails alone (see `changesets`).

Updates are conditional, as the Enterprise Project API requires: each MERGE carries the ETag of
the read as ``If-Match`` (without it SAP answers 428, SAP KBA 3514624 / 2962502). When SAP
answers 412 (the entity changed since it was read) the record is read again and its update,
recomputed against what SAP holds now, is sent once more. The project definition is listed
among the project elements but is read-only there (SAP KBA 3743470): an element upsert that
lands on it updates the project instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pssync.connectors.base import Outcome, UpsertResult
from pssync.connectors.errors import PermanentError
from pssync.connectors.sap_s4 import changesets
from pssync.connectors.sap_s4.objects import ELEMENT, OBJECTS, ROOT_TO_PROJECT, SapObject, is_root
from pssync.connectors.sap_s4.transport import SYSTEM, classify_response, translated
from pssync.connectors.sap_s4.values import comparable, to_wire

if TYPE_CHECKING:
    from pssync.connectors.sap_s4.service import SapService

# SAP's answers that mean "read again and resend with the current ETag".
_STALE = (412, 428)


@dataclass
class _Prepared:
    index: int
    external_id: str
    values: dict[str, Any] = field(default_factory=dict)
    nested: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Write:
    """One create (``key`` None) or conditional update of `sap`."""

    item: _Prepared
    sap: SapObject
    key: str | None
    values: dict[str, Any]
    etag: str | None = None


def _literal(prop: Any, value: Any) -> str:
    if prop.typ.name == "Edm.Guid":
        return f"guid'{value}'"
    return "'" + str(value).replace("'", "''") + "'"


def _children(entity_type: Any, value: Any) -> Any:
    """Deep-insert children in pyodata's shape: a to-many value is a list (OData V2 JSON also
    writes ``{"results": [...]}``), and each property value is converted for its Edm type."""
    if isinstance(value, dict) and isinstance(value.get("results"), list):
        value = value["results"]
    if isinstance(value, list):
        return [_children(entity_type, v) for v in value]
    if not isinstance(value, dict):
        raise TypeError(f"expects an entity or a list of entities, not {type(value).__name__}")
    out: dict[str, Any] = {}
    props = {p.name: p for p in entity_type.proprties()}
    for name, raw in value.items():
        if name in props:
            out[name] = to_wire(props[name], raw)
        else:
            out[name] = _children(entity_type.nav_proprty(name).typ, raw)
    return out


class Upsert:
    """One upsert call: prepare, look up, plan, then send the writes in a batch."""

    def __init__(self, connector: SapService, sap: SapObject, external_id_field: str) -> None:
        self.connector = connector
        self.sap = sap
        self.ext = external_id_field
        self.props = {p.name: p for p in connector.properties(sap)}
        self.navs = set(connector.navigations(sap))
        self.entity_type = connector.client(sap.service).schema.entity_set(sap.name).entity_type
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
        while prepared:  # a record repeated in the call is applied after its first occurrence
            now: list[_Prepared] = []
            later: list[_Prepared] = []
            for item in prepared:
                (later if any(n.external_id == item.external_id for n in now) else now).append(item)
            prepared = later
            existing, etags = self.lookup([p.external_id for p in now])
            writes: list[_Write] = []
            for item in now:
                planned = self.plan(item, existing.get(item.external_id, []), etags)
                if isinstance(planned, UpsertResult):
                    results[item.index] = planned
                else:
                    writes.append(planned)
            for write, result in self.send(writes, retry=True):
                results[write.item.index] = result
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
            if name in self.navs:  # deep-insert children, sent on create
                try:
                    item.nested[name] = _children(self.entity_type.nav_proprty(name).typ, value)
                except (ValueError, KeyError, TypeError) as exc:
                    return self.fail(external_id, f"{name}: {exc}", name)
                continue
            prop = self.props.get(name)
            if prop is None:
                return self.fail(external_id, f"{self.sap.name} has no property {name}", name)
            try:
                item.values[name] = to_wire(prop, value)
            except ValueError as exc:
                return self.fail(external_id, f"{name}: {exc}", name)
        return item

    def lookup(
        self, external_ids: list[str]
    ) -> tuple[dict[str, list[dict[str, Any]]], dict[str, str]]:
        """Existing records by external ID (a chunk of IDs per request) and ETags by key."""
        found: dict[str, list[dict[str, Any]]] = {}
        etags: dict[str, str] = {}
        unique = sorted(set(external_ids))
        chunk = self.connector.config.lookup_chunk
        prop = self.props[self.ext]
        for start in range(0, len(unique), chunk):
            part = unique[start : start + chunk]
            clause = " or ".join(f"{self.ext} eq {_literal(prop, v)}" for v in part)
            rows, _ = self.connector.fetch(
                self.sap, top=len(part) * 2 + 1, filter_=clause, etags=etags
            )
            for row in rows:
                found.setdefault(str(row.get(self.ext)), []).append(row)
        return found, etags

    def plan(
        self,
        item: _Prepared,
        matches: list[dict[str, Any]],
        etags: dict[str, str],
    ) -> _Write | UpsertResult:
        if len(matches) > 1:
            keys = ", ".join(str(m[self.sap.key]) for m in matches)
            return self.fail(
                item.external_id, f"{len(matches)} records share this external ID: {keys}", self.ext
            )
        if not matches:
            values = dict(self.sap.create_defaults)
            values.update({n: v for n, v in item.values.items() if self.props[n].creatable})
            return _Write(item, self.sap, None, {**values, **item.nested})
        current = matches[0]
        if self.sap.name == ELEMENT and is_root(current):
            return self.plan_root(item, current)
        key = str(current[self.sap.key])
        return self.plan_update(item, self.sap, current, item.values, etags.get(key))

    def plan_update(
        self,
        item: _Prepared,
        sap: SapObject,
        current: dict[str, Any],
        values: dict[str, Any],
        etag: str | None,
    ) -> _Write | UpsertResult:
        props = self.props if sap is self.sap else self.connector.property_map(sap)
        key = str(current[sap.key])
        changed = {
            name: value
            for name, value in values.items()
            if name not in (sap.key, sap.external_id, self.ext)
            and props[name].updatable
            and comparable(props[name], value) != comparable(props[name], current.get(name))
        }
        if not changed:
            return UpsertResult(item.external_id, Outcome.UNCHANGED, id=key)
        return _Write(item, sap, key, changed, etag)

    def plan_root(self, item: _Prepared, root: dict[str, Any]) -> _Write | UpsertResult:
        """The project definition: its element fields are the project's, written there."""
        project = OBJECTS["A_EnterpriseProject"]
        etags: dict[str, str] = {}
        rows = self.connector.read_keys(project, [str(root["ProjectUUID"])], etags)
        if not rows:
            return self.fail(item.external_id, "the project of this root element is gone")
        values = {ROOT_TO_PROJECT[n]: v for n, v in item.values.items() if n in ROOT_TO_PROJECT}
        planned = self.plan_update(
            item, project, rows[0], values, etags.get(str(root["ProjectUUID"]))
        )
        if isinstance(planned, UpsertResult):
            return UpsertResult(item.external_id, planned.outcome, id=str(root[self.sap.key]))
        return planned

    def send(self, writes: list[_Write], *, retry: bool) -> list[tuple[_Write, UpsertResult]]:
        """Send the writes in one batch; stale ETags are read again and resent once."""
        out: list[tuple[_Write, UpsertResult]] = []
        stale: list[_Write] = []
        size = self.connector.write_batch_size
        for start in range(0, len(writes), size):
            chunk = writes[start : start + size]
            requests = [self.request(w) for w in chunk]
            client = self.connector.client(self.sap.service)
            with translated():
                outcomes = changesets.send(client, requests, self.connector.csrf.write)
            for write, outcome in zip(chunk, outcomes, strict=True):
                if outcome.error is None:
                    out.append((write, self.success(write, outcome.result)))
                    continue
                status = outcome.error.status_code
                if status in _STALE and write.key is not None and retry:
                    stale.append(write)
                    continue
                error = classify_response(outcome.error, record_id=write.item.external_id)
                if not isinstance(error, PermanentError):
                    raise error  # retriable/auth: the whole call is replayed, keyed by ext ID
                out.append(
                    (write, UpsertResult(write.item.external_id, Outcome.FAILED, error=error))
                )
        again: list[_Write] = []
        for write in stale:
            fresh = self.reread(write)
            if isinstance(fresh, UpsertResult):
                out.append((write, fresh))
            else:
                again.append(fresh)
        return out + self.send(again, retry=False) if again else out

    def reread(self, write: _Write) -> _Write | UpsertResult:
        """The write again, diffed against SAP's current record and with its current ETag."""
        assert write.key is not None
        etags: dict[str, str] = {}
        rows = self.connector.read_keys(write.sap, [write.key], etags)
        if not rows:
            return write  # deleted meanwhile: SAP's answer to the resend says so
        return self.plan_update(write.item, write.sap, rows[0], write.values, etags.get(write.key))

    def request(self, write: _Write) -> Any:
        entity_set = self.connector.entity_set(write.sap)
        if write.key is None:
            return entity_set.create_entity().set(**write.values)
        request = entity_set.update_entity(method="MERGE", **{write.sap.key: write.key})
        if write.etag:
            request.add_headers({"If-Match": write.etag})
        return request.set(**write.values)

    def success(self, write: _Write, result: Any) -> UpsertResult:
        ext = write.item.external_id
        if write.key is None:
            created = self.connector.plain(self.sap, result)
            return UpsertResult(ext, Outcome.CREATED, id=str(created[self.sap.key]))
        # A root element written through its project: the element's ID is the project's GUID.
        return UpsertResult(ext, Outcome.UPDATED, id=write.key)
