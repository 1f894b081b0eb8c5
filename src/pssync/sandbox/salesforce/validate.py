"""Checking and coercing the fields of a record write, with the platform's error codes.

pssync's connector maps these codes to its exception routing (a bad field is a mapping defect,
a duplicate external ID a data problem), so each failure uses the code Salesforce uses.
"""

from __future__ import annotations

from typing import Any

from pssync.sandbox.salesforce.data import Record, Txn
from pssync.sandbox.salesforce.errors import SalesforceError, invalid_field
from pssync.sandbox.salesforce.ids import is_valid_id, to18
from pssync.sandbox.salesforce.schema import NUMERIC, FieldDef, ObjectDef
from pssync.sandbox.salesforce.timefmt import normalize_date, normalize_datetime

_READ_ONLY_MESSAGE = (
    "Unable to create/update fields: {names}. Please check the security settings of this field"
    " and verify that it is read/write for your profile or permission set."
)


def _parse_error(kind: str, value: object) -> SalesforceError:
    return SalesforceError(
        400,
        "JSON_PARSER_ERROR",
        f"Cannot deserialize instance of {kind} from VALUE_STRING value {value} or request may"
        " be missing a required field",
    )


def coerce(f: FieldDef, value: Any, txn: Txn, catalog_get: Any) -> Any:
    """One field's value in stored form (dates normalised, IDs 18 characters, numbers)."""
    if value is None:
        return None
    kind = f.type
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise _parse_error("boolean", value)
    if kind in NUMERIC:
        if isinstance(value, bool):
            raise _parse_error(kind, value)
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise _parse_error(kind, value) from None
        return int(number) if kind == "int" or number.is_integer() else number
    if kind in ("date", "datetime"):
        try:
            text = str(value)
            return normalize_date(text) if kind == "date" else normalize_datetime(text)
        except ValueError:
            raise _parse_error(kind, value) from None
    if isinstance(value, dict | list):
        raise _parse_error(kind, value)
    text = value if isinstance(value, str) else str(value).lower()
    if kind == "reference":
        return _reference(f, text, txn, catalog_get)
    if f.length and len(text) > f.length:
        raise SalesforceError(
            400,
            "STRING_TOO_LONG",
            f"{f.name}: data value too large: {text[:40]} (max length={f.length})",
            [f.name],
        )
    return text


def _reference(f: FieldDef, text: str, txn: Txn, catalog_get: Any) -> str:
    target: ObjectDef = catalog_get(f.reference_to)
    if not is_valid_id(text) or not text.startswith(target.key_prefix):
        raise SalesforceError(
            400,
            "FIELD_INTEGRITY_EXCEPTION",
            f"{f.name}: id value of incorrect type: {text}",
            [f.name],
        )
    record_id = to18(text)
    found = txn.get(target.name, record_id)
    if found is None or found.get("IsDeleted"):
        raise SalesforceError(
            400,
            "INVALID_CROSS_REFERENCE_KEY",
            f"invalid cross reference id: {text}",
            [f.name],
        )
    return record_id


def clean(
    obj: ObjectDef, body: dict[str, Any], *, creating: bool, txn: Txn, catalog_get: Any
) -> Record:
    """The body's fields by canonical name, coerced; raises on unknown or read-only fields.

    A relationship key with an external-ID object (``"Account": {"External_Id__c": "A-1"}``)
    resolves to the parent's ID, so children can be written before the caller knows parent IDs.
    """
    out: Record = {}
    read_only: list[str] = []
    for key, value in body.items():
        if key == "attributes":
            continue
        f = obj.field(key)
        if f is None:
            rel = obj.relationship(key)
            if rel is not None and isinstance(value, dict):
                out[rel.name] = _resolve_foreign_key(rel, value, txn, catalog_get)
                continue
            raise invalid_field(f"No such column '{key}' on sobject of type {obj.name}", [key])
        if f.name == "Id":
            continue
        if not (f.createable if creating else f.updateable):
            read_only.append(f.name)
            continue
        out[f.name] = coerce(f, value, txn, catalog_get)
    if read_only:
        names = ", ".join(read_only)
        raise SalesforceError(
            400,
            "INVALID_FIELD_FOR_INSERT_UPDATE",
            _READ_ONLY_MESSAGE.format(names=names),
            read_only,
        )
    return out


def _resolve_foreign_key(rel: FieldDef, value: dict[str, Any], txn: Txn, catalog_get: Any) -> str:
    target: ObjectDef = catalog_get(rel.reference_to)
    keys = [k for k in value if k != "attributes"]
    ext = target.field(keys[0]) if len(keys) == 1 else None
    if ext is None or not (ext.external_id or ext.name == "Id"):
        raise invalid_field(
            f"Foreign key external ID: {value} is not a single external ID field of {target.name}",
            [rel.name],
        )
    raw = value[keys[0]]
    if ext.name == "Id":
        return _reference(rel, str(raw), txn, catalog_get)
    ids = txn.find(target.name, ext.name, raw)
    if len(ids) != 1:
        state = "not found" if not ids else "matches more than one record"
        raise SalesforceError(
            400,
            "INVALID_FIELD",
            f"Foreign key external ID: {raw} {state} for field {ext.name} in entity {target.name}",
            [rel.name],
        )
    return next(iter(ids))


def check_required(obj: ObjectDef, record: Record) -> None:
    missing = [f.name for f in obj.fields if f.required and record.get(f.name) in (None, "")]
    if missing:
        raise SalesforceError(
            400,
            "REQUIRED_FIELD_MISSING",
            f"Required fields are missing: [{', '.join(missing)}]",
            missing,
        )


def check_unique(obj: ObjectDef, record: Record, txn: Txn) -> None:
    for f in obj.fields:
        if not f.unique or record.get(f.name) is None:
            continue
        others = txn.find(obj.name, f.name, record[f.name]) - {record["Id"]}
        if others:
            other = sorted(others)[0]
            raise SalesforceError(
                400,
                "DUPLICATE_VALUE",
                f"duplicate value found: {f.name} duplicates value on record with id: {other}",
                [f.name],
            )
