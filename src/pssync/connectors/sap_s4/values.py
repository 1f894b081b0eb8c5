"""Edm values in the connector's two shapes: plain JSON for the engine, Python for pyodata.

Reads hand the engine plain values (ISO dates, decimals as strings) so a record can be stored in
the inbox and hashed as it is. Writes accept the same plain values and turn them into what
pyodata serialises (aware UTC datetimes become ``/Date(ms)/``; Decimals go as strings because
json cannot encode them). ABAP has no null string: SAP returns ``""`` for an unset text, which
is reported as None here so a null written to SAP reads back as null.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from decimal import Decimal
from typing import Any, Protocol

from pssync.mapping.convert import to_bool, to_datetime, to_decimal


class EdmProperty(Protocol):
    """The slice of a pyodata property these functions need."""

    @property
    def name(self) -> str: ...

    @property
    def typ(self) -> Any: ...

    @property
    def date(self) -> bool: ...


def to_plain(prop: EdmProperty, value: Any) -> Any:
    """pyodata's Python value -> the plain JSON value the engine receives."""
    if value is None:
        return None
    edm = prop.typ.name
    if edm == "Edm.String":
        return value if value != "" else None
    if edm in ("Edm.DateTime", "Edm.DateTimeOffset"):
        moment = to_datetime(value).astimezone(dt.UTC)
        return moment.date().isoformat() if prop.date else moment.isoformat()
    if edm == "Edm.Decimal":
        return str(to_decimal(value))
    if edm == "Edm.Guid":
        return str(value).lower()
    return value


def to_wire(prop: EdmProperty, value: Any) -> Any:
    """A plain value -> what pyodata's ``set()`` serialises; ValueError when it does not fit."""
    if value is None:
        return None
    edm = prop.typ.name
    if edm in ("Edm.DateTime", "Edm.DateTimeOffset"):
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            value = dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
        return to_datetime(value).astimezone(dt.UTC)
    if edm == "Edm.Decimal":
        return str(to_decimal(value))
    if edm == "Edm.Boolean":
        return to_bool(value)
    if edm == "Edm.Guid":
        return str(uuid.UUID(str(value)))
    if edm == "Edm.String":
        return str(value)
    return value


def comparable(prop: EdmProperty, value: Any) -> Any:
    """A value normalised for "is this already what SAP holds?" (plain or Python input)."""
    if value is None or value == "":
        return None
    edm = prop.typ.name
    if edm in ("Edm.DateTime", "Edm.DateTimeOffset"):
        moment = to_wire(prop, value)
        return moment.date() if prop.date else moment
    if edm == "Edm.Decimal":
        return to_decimal(value)
    if edm == "Edm.Guid":
        return uuid.UUID(str(value))
    if edm == "Edm.Boolean":
        return to_bool(value)
    return value


def fingerprint(row: dict[str, Any]) -> str:
    """A short digest of a plain row: tells a changed record from one already delivered when
    both carry the same (second-precision) change stamp."""
    text = json.dumps(row, sort_keys=True, default=_json_default)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _json_default(value: Any) -> str:
    if isinstance(value, Decimal | dt.date | uuid.UUID):
        return str(value)
    raise TypeError(f"cannot fingerprint {type(value).__name__}")
