"""Upserts by external ID through sObject Collections, one call per 200 records.

``PATCH /composite/sobjects/{Type}/{ExtField}`` with ``allOrNone: false`` answers one result per
record, in order, so one bad record fails alone and names its Salesforce code and field.

Why read before writing: Salesforce answers "updated" for a write that changes nothing, and such
a write still bumps SystemModstamp, so the record comes back through `changes` as a new change
(an echo the engine must then suppress) and costs a write. One query per chunk finds the records
whose fields already hold the values sent; they are reported UNCHANGED and not written. The query
is a read (1 call per chunk of up to 200); `detect_unchanged: false` skips it, and then every
written record reports CREATED or UPDATED.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol, TypeVar

from tenacity import Retrying, retry_if_result, stop_after_attempt, wait_exponential

from pssync.connectors.base import Outcome, UpsertResult
from pssync.connectors.errors import PermanentError, QuotaExhaustedError
from pssync.connectors.salesforce.soql import ident, in_list, select
from pssync.connectors.salesforce.transport import SYSTEM, ApiMeter
from pssync.mapping.convert import to_datetime

T = TypeVar("T")
LOCKED = "UNABLE_TO_LOCK_ROW"
IN_LIST_CHARS = 8000  # keeps a pre-read's URL well under Salesforce's 16,384-character limit


class Gateway(Protocol):
    meter: ApiMeter

    def call(self, action: Callable[[Any], T]) -> T: ...

    def query_records(self, soql: str) -> list[dict[str, Any]]: ...

    def readable(self, obj: str) -> set[str]: ...


def wire(value: Any) -> Any:
    """A JSON value for Salesforce: Decimals as numbers, dates and datetimes as ISO strings."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: wire(v) for k, v in value.items()}
    return value


def _blank(value: Any) -> bool:
    return value is None or value == ""


def same(sent: Any, stored: Any) -> bool:
    """Whether Salesforce already holds `sent`: "" is null there, numbers compare by value,
    datetimes by instant (``...Z`` vs ``....000+0000``)."""
    if _blank(sent) or _blank(stored):
        return _blank(sent) and _blank(stored)
    if isinstance(sent, bool) or isinstance(stored, bool):
        return sent is stored
    if isinstance(sent, int | float | Decimal) or isinstance(stored, int | float | Decimal):
        try:
            return Decimal(str(sent)) == Decimal(str(stored))
        except InvalidOperation:
            return False
    text_sent, text_stored = str(wire(sent)), str(stored)
    if text_sent == text_stored:
        return True
    if len(text_sent) > 10 and text_sent[10] == "T" and len(text_stored) > 10:
        try:
            return to_datetime(text_sent) == to_datetime(text_stored)
        except ValueError:
            return False
    return False


def field_paths(record: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """(SOQL path, value) of each field a record sets; a parent given by external ID
    (``"Account": {"External_Id__c": "A-1"}``) is ``Account.External_Id__c``."""
    for key, value in record.items():
        if key == "attributes":
            continue
        if isinstance(value, dict):
            for sub, inner in value.items():
                if sub != "attributes":
                    yield f"{key}.{sub}", inner
        else:
            yield key, value


def unchanged(record: dict[str, Any], stored: dict[str, Any]) -> bool:
    return all(same(value, stored.get(path)) for path, value in field_paths(record))


def failed(key: str, message: str, **kw: Any) -> UpsertResult:
    return UpsertResult(
        key, Outcome.FAILED, error=PermanentError(message, system=SYSTEM, record_id=key, **kw)
    )


def result_of(key: str, answer: dict[str, Any]) -> UpsertResult:
    """One sObject Collections result -> UpsertResult."""
    if answer.get("success"):
        outcome = Outcome.CREATED if answer.get("created") else Outcome.UPDATED
        return UpsertResult(key, outcome, id=answer.get("id"))
    errors = answer.get("errors") or [{}]
    fields = [f for e in errors for f in (e.get("fields") or [])]
    message = "; ".join(str(e.get("message") or "refused") for e in errors)
    return failed(
        key, message, vendor_code=errors[0].get("statusCode"), field=fields[0] if fields else None
    )


def check_reserve(meter: ApiMeter, reserve: int) -> None:
    """Refuse to write once the org's remaining daily calls fall below the reserve, which is
    kept for the people and other integrations sharing the org's allowance."""
    left = meter.remaining
    if left is not None and left < reserve:
        raise QuotaExhaustedError(
            f"writes stopped: {left} API calls left of the org's daily {meter.limit}, below "
            f"the reserve of {reserve} (settings api_reserve); they resume as the rolling "
            "24-hour allowance frees calls",
            system=SYSTEM,
            vendor_code="API_RESERVE",
        )


class Upsert:
    """One upsert call of the connector: chunks, pre-read, write, per-record results."""

    def __init__(
        self,
        gateway: Gateway,
        obj: str,
        ext_field: str,
        *,
        reserve: int,
        detect: bool,
        lock_retries: int = 0,
        lock_wait: float = 0.0,
    ) -> None:
        self.gateway, self.obj, self.ext = gateway, ident(obj), ident(ext_field)
        self.reserve, self.detect = reserve, detect
        self.lock_retries, self.lock_wait = lock_retries, lock_wait
        self.sleep: Callable[[float], None] = time.sleep

    def chunk(self, records: list[dict[str, Any]]) -> list[UpsertResult]:
        results: dict[int, UpsertResult] = {}
        keyed: list[tuple[int, str, dict[str, Any]]] = []
        for i, record in enumerate(records):
            key = record.get(self.ext)
            if _blank(key):
                results[i] = failed("", f"no value in {self.ext}", field=self.ext)
            else:
                keyed.append((i, str(key), record))
        stored = (
            self.stored([r for _, _, r in keyed], [k for _, k, _ in keyed])
            if self.detect and keyed
            else {}
        )
        pending = []
        for i, key, record in keyed:
            old = stored.get(key.casefold())
            if old is not None and unchanged(record, old):
                results[i] = UpsertResult(key, Outcome.UNCHANGED, id=old.get("Id"))
            else:
                pending.append((i, key, record))

        def send() -> list[tuple[int, str, dict[str, Any]]]:
            """Write what is pending; what comes back locked is pending again."""
            nonlocal pending
            sent = self.write([record for _, _, record in pending], [k for _, k, _ in pending])
            results.update({i: result for (i, _, _), result in zip(pending, sent, strict=True)})
            pending = [p for p, r in zip(pending, sent, strict=True) if _locked(r)]
            return pending

        if pending:  # records locked by another transaction: again after lock_wait, doubling
            Retrying(
                stop=stop_after_attempt(self.lock_retries + 1),
                wait=wait_exponential(multiplier=self.lock_wait),
                retry=retry_if_result(bool),
                sleep=self.sleep,
                retry_error_callback=lambda state: state.outcome.result() if state.outcome else [],
            )(send)
        return [results[i] for i in range(len(records))]

    def stored(self, records: list[dict[str, Any]], keys: list[str]) -> dict[str, dict[str, Any]]:
        """The records already holding these external IDs, by case-folded key ({} when the
        fields cannot be read: the write then reports per record what is wrong with them)."""
        readable = self.gateway.readable(self.obj)
        paths = {"Id", self.ext} | {path for r in records for path, _ in field_paths(r)}
        try:  # a field the org lacks stays out: its record will differ and the write says why
            fields = sorted(ident(p) for p in paths if p.split(".")[0].lower() in readable)
        except ValueError:
            return {}
        found: dict[str, dict[str, Any]] = {}
        for group in _key_groups(keys):
            soql = select(self.obj, fields, where=f"{self.ext} IN {in_list(group)}")
            try:
                rows = self.gateway.query_records(soql)
            except PermanentError:
                return {}
            for row in rows:
                if not _blank(row.get(self.ext)):
                    found[str(row[self.ext]).casefold()] = row
        return found

    def write(self, records: list[dict[str, Any]], keys: list[str]) -> list[UpsertResult]:
        check_reserve(self.gateway.meter, self.reserve)
        body = {
            "allOrNone": False,
            "records": [{"attributes": {"type": self.obj}, **wire(r)} for r in records],
        }
        path = f"composite/sobjects/{self.obj}/{self.ext}"
        try:
            answers = self.gateway.call(lambda sf: sf.restful(path, method="PATCH", json=body))
        except PermanentError as exc:  # the whole call was refused: each record says why
            return [
                failed(
                    k, exc.message, vendor_code=exc.vendor_code, status=exc.status, field=exc.field
                )
                for k in keys
            ]
        if not isinstance(answers, list) or len(answers) != len(records):
            return [failed(k, f"unexpected answer from Salesforce: {answers!r:.200}") for k in keys]
        return [result_of(k, a) for k, a in zip(keys, answers, strict=True)]


def _locked(result: UpsertResult) -> bool:
    """A record refused because another transaction held it (or its parent) locked: the
    SOAP API Developer Guide's StatusCode UNABLE_TO_LOCK_ROW; sent again after a wait."""
    error = result.error
    return error is not None and error.vendor_code == LOCKED


def _key_groups(keys: list[str]) -> Iterator[list[str]]:
    """External IDs in groups whose IN list fits one query URL."""
    group: list[str] = []
    size = 0
    for key in dict.fromkeys(keys):
        if group and size + len(key) + 4 > IN_LIST_CHARS:
            yield group
            group, size = [], 0
        group.append(key)
        size += len(key) + 4
    if group:
        yield group
