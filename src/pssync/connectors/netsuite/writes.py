"""Upserts by external ID: ``PUT /record/v1/{type}/eid:{externalId}``, one call per record, or
SOAP ``upsertList`` for large batches (`soap`).

NetSuite's REST record API has no batch upsert (batches exist only in SOAP and as async jobs), so
over REST a batch of N changed records costs N calls; a batch of at least
`soap_batch_threshold` records goes through SOAP's upsertList instead, `soap_batch_size` records a
call. Two things keep the REST path affordable and safe:

- Unchanged detection. One SuiteQL call per batch (``externalid IN (...)``) reads what NetSuite
  holds; records whose every field already has the value sent are reported UNCHANGED and not
  written. The same read tells CREATED from UPDATED, which the 204 of a PUT does not say.
  A record carrying a sublist (``line``, ``item``) cannot be compared from the body row and is
  always written.
- A client-side concurrency cap. An account allows a few requests in flight (5 on a standard
  account) and refuses the rest with 429 CONCURRENCY_LIMIT_EXCEEDED, which also counts against
  other integrations. The writes go through a pool of `max_concurrency` threads; records sharing
  an external ID are sent one after the other by one thread.

A 400 fails only its record, naming NetSuite's ``o:errorPath`` as the field; a retriable or auth
failure aborts the call once the writes in flight have finished (safe to replay: every write is
keyed by external ID).
"""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol
from urllib.parse import quote as url_quote

from pssync.connectors.base import Outcome, UpsertResult
from pssync.connectors.errors import ConnectorError, PermanentError
from pssync.connectors.netsuite import soap
from pssync.connectors.netsuite.auth import SYSTEM
from pssync.connectors.netsuite.objects import Kind, NsObject, quote
from pssync.connectors.netsuite.settings import NetSuiteSettings
from pssync.connectors.netsuite.transport import RECORD_ROOT, Transport


class RecordSource(Protocol):
    """What an upsert needs of its connector: the transport, settings and the SuiteQL read of
    one object (the pre-read that finds which external IDs exist)."""

    @property
    def transport(self) -> Transport: ...

    @property
    def config(self) -> NetSuiteSettings: ...

    def where_of(self, ns: NsObject) -> str | None: ...

    def columns(self, ns: NsObject) -> str: ...

    def plain(self, ns: NsObject, row: dict[str, Any]) -> dict[str, Any]: ...


Keyed = tuple[int, str, dict[str, Any]]


def _blank(value: Any) -> bool:
    return value is None or value == "" or value == {} or value == []


def _sublist(value: Any) -> bool:
    return isinstance(value, list) or (isinstance(value, dict) and "items" in value)


def same(kind: Kind | None, sent: Any, stored: Any) -> bool:
    """Whether NetSuite already holds `sent` (a REST value) as `stored` (a plain read value)."""
    if isinstance(sent, dict) and not _sublist(sent):
        if not sent.get("id"):
            return False  # {"externalId": ...}: only the write can resolve it
        sent = sent["id"]
    if _blank(sent) or _blank(stored):
        return _blank(sent) and _blank(stored)
    if kind == "bool" or isinstance(sent, bool):
        return bool(sent) is (stored in (True, "T", "true"))
    if kind == "number" or isinstance(sent, int | float | Decimal):
        try:
            return Decimal(str(sent)) == Decimal(str(stored))
        except InvalidOperation:
            return False
    if kind == "datetime":
        try:
            return _instant(sent) == _instant(stored)
        except ValueError:
            return False
    return str(sent) == str(stored)


def _instant(value: Any) -> dt.datetime:
    moment = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return (moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)).replace(microsecond=0)


def location_id(location: str | None) -> str:
    """The internal ID at the end of a 204's ``Location`` (``.../record/v1/customer/107``)."""
    return (location or "").rstrip("/").rsplit("/", 1)[-1]


def _failed(key: str, message: str, field: str | None = None) -> UpsertResult:
    error = PermanentError(message, system=SYSTEM, record_id=key, field=field)
    return UpsertResult(key, Outcome.FAILED, error=error)


class Upsert:
    """One upsert call: per batch a pre-read, then concurrent PUTs by external ID."""

    def __init__(self, connector: RecordSource, obj: NsObject, ext_field: str) -> None:
        self.connector = connector
        self.transport = connector.transport
        self.obj = obj
        self.ext = ext_field
        self.settings = connector.config

    def run(self, records: list[dict[str, Any]]) -> list[UpsertResult]:
        size = self.settings.write_batch_size
        results: list[UpsertResult] = []
        for start in range(0, len(records), size):
            results += self.chunk(records[start : start + size])
        return results

    def chunk(self, records: list[dict[str, Any]]) -> list[UpsertResult]:
        results: dict[int, UpsertResult] = {}
        keyed: list[Keyed] = []
        for i, record in enumerate(records):
            key = "" if _blank(record.get(self.ext)) else str(record[self.ext])
            if not self.obj.writable:
                results[i] = _failed(key, f"{self.obj.name} is read-only; write journalentry")
            elif not key.strip():
                results[i] = _failed(key, f"no value in {self.ext}", self.ext)
            else:
                keyed.append((i, key, record))
        stored = self.stored([k for _, k, _ in keyed]) if keyed else {}
        pending: list[Keyed] = []
        for i, key, record in keyed:
            old = stored.get(key)
            if old is not None and self.settings.detect_unchanged and self.unchanged(record, old):
                results[i] = UpsertResult(key, Outcome.UNCHANGED, id=str(old["id"]))
            else:
                pending.append((i, key, record))
        results.update(self.write(pending, set(stored)))
        return [results[i] for i in range(len(records))]

    def stored(self, keys: list[str]) -> dict[str, dict[str, Any]]:
        """What NetSuite holds under these external IDs: one SuiteQL call (<= 1,000 keys)."""
        unique = list(dict.fromkeys(keys))
        condition = f"externalid IN ({', '.join(quote(k) for k in unique)})"
        if self.obj.where:
            condition = f"{self.connector.where_of(self.obj)} AND {condition}"
        query = f"SELECT {self.connector.columns(self.obj)} FROM {self.obj.table} WHERE {condition}"
        body = self.transport.suiteql(query, limit=max(len(unique), 1))
        found: dict[str, dict[str, Any]] = {}
        for row in body.get("items") or []:
            data = self.connector.plain(self.obj, row)
            if data.get("externalId") is not None:
                found[str(data["externalId"])] = data
        return found

    def unchanged(self, record: dict[str, Any], stored: dict[str, Any]) -> bool:
        for name, value in record.items():
            if name == self.ext:
                continue
            if _sublist(value):
                return False
            held = stored.get(name, stored.get(name.lower()))
            if not same(self.obj.kind(name), value, held):
                return False
        return True

    def write(self, pending: list[Keyed], existing: set[str]) -> dict[int, UpsertResult]:
        """Write the pending records: by SOAP upsertList when the batch is large enough (see
        `soap`), else PUT them, at most `max_concurrency` at a time."""
        bodies = [{k: v for k, v in r.items() if k != self.ext} for _, _, r in pending]
        if soap.eligible(self.transport, self.obj, bodies):
            return self.write_soap(pending, bodies, existing)
        groups: dict[str, list[Keyed]] = {}
        for item in pending:
            groups.setdefault(item[1], []).append(item)
        results: dict[int, UpsertResult] = {}
        errors: list[ConnectorError] = []
        workers = min(self.settings.max_concurrency, max(len(groups), 1))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="netsuite-put") as pool:
            for outcome in pool.map(lambda g: self.send_group(g, existing), groups.values()):
                for sent in outcome:
                    if isinstance(sent, ConnectorError):
                        errors.append(sent)
                    else:
                        results[sent[0]] = sent[1]
        if errors:
            raise errors[0]
        return results

    def write_soap(
        self, pending: list[Keyed], bodies: list[dict[str, Any]], existing: set[str]
    ) -> dict[int, UpsertResult]:
        """One upsertList per `soap_batch_size` records; a record whose external ID repeats in
        a batch goes in the next one, so each call holds one version of a record."""
        results: dict[int, UpsertResult] = {}
        queue = list(zip(pending, bodies, strict=True))
        size = self.settings.soap_batch_size
        while queue:
            batch: list[tuple[Keyed, dict[str, Any]]] = []
            later: list[tuple[Keyed, dict[str, Any]]] = []
            keys: set[str] = set()
            for item in queue:
                key = item[0][1]
                if len(batch) < size and key not in keys:
                    batch.append(item)
                    keys.add(key)
                else:
                    later.append(item)
            written = soap.upsert_list(
                self.transport, self.obj, [(k[1], body) for k, body in batch]
            )
            for ((index, key, _), _), answer in zip(batch, written, strict=True):
                if answer.error is not None:
                    results[index] = UpsertResult(key, Outcome.FAILED, error=answer.error)
                    continue
                outcome = Outcome.UPDATED if key in existing else Outcome.CREATED
                existing.add(key)
                results[index] = UpsertResult(key, outcome, id=answer.record_id)
            queue = later
        return results

    def send_group(
        self, group: list[Keyed], existing: set[str]
    ) -> list[tuple[int, UpsertResult] | ConnectorError]:
        out: list[tuple[int, UpsertResult] | ConnectorError] = []
        created = group[0][1] not in existing
        for index, key, record in group:
            body = {k: v for k, v in record.items() if k != self.ext}
            path = f"{RECORD_ROOT}/{self.obj.record_type}/eid:{url_quote(key, safe='')}"
            try:
                response = self.transport.request("PUT", path, json=body, record_id=key)
            except PermanentError as exc:
                out.append((index, UpsertResult(key, Outcome.FAILED, error=exc)))
                continue
            except ConnectorError as exc:
                return [*out, exc]
            record_id = location_id(response.headers.get("location"))
            outcome = Outcome.CREATED if created else Outcome.UPDATED
            out.append((index, UpsertResult(key, outcome, id=record_id or None)))
            created = False
        return out
