"""Edm primitive values in their three shapes: JSON on the wire, URI literal, Python for comparing.

Records are stored exactly as they go over the wire (``/Date(ms)/`` dates, decimals as strings,
lower-case GUIDs), so reads are a copy. Filtering and sorting decode them to Python values; writes
and seeds accept either the wire shape or the plain ISO/number a generator would naturally emit.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

from pssync.sandbox.sap_s4.schema import Prop

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_DATE_RE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")
_TIME_RE = re.compile(r"^PT(\d{1,2})H(\d{1,2})M(\d{1,2})(?:\.\d+)?S$")


class EdmValueError(ValueError):
    """A value that does not fit its Edm type (a 400 for the client)."""


def to_wire_datetime(moment: dt.datetime, *, offset: bool = False) -> str:
    """``/Date(ms)/``; Edm.DateTimeOffset adds SAP's ``+0000`` suffix."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    ms = (moment - EPOCH) // dt.timedelta(milliseconds=1)
    return f"/Date({ms}+0000)/" if offset else f"/Date({ms})/"


def to_wire_time(moment: dt.datetime) -> str:
    return f"PT{moment.hour:02d}H{moment.minute:02d}M{moment.second:02d}S"


def parse_wire_datetime(text: str) -> dt.datetime:
    match = _DATE_RE.match(text)
    if not match:
        raise EdmValueError(f"malformed date {text!r}")
    moment = EPOCH + dt.timedelta(milliseconds=int(match.group(1)))
    if match.group(2):
        sign = 1 if match.group(2)[0] == "+" else -1
        minutes = int(match.group(2)[1:])
        moment = moment.astimezone(dt.timezone(sign * dt.timedelta(minutes=minutes)))
    return moment


def parse_iso(text: str) -> dt.datetime:
    """ISO date or datetime; naive means UTC (SAP's Edm.DateTime carries no zone)."""
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise EdmValueError(f"malformed date/time {text!r}") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def normalize(prop: Prop, raw: Any) -> Any:
    """Coerce an incoming value (request body or seed) to the wire shape of `prop`."""
    if raw is None:
        if not prop.nullable:
            raise EdmValueError(f"{prop.name} must not be null")
        return None
    edm = prop.edm
    if edm == "Edm.String":
        if not isinstance(raw, str):
            raise EdmValueError(f"{prop.name} expects a string")
        if prop.max_length is not None and len(raw) > prop.max_length:
            raise EdmValueError(f"{prop.name} exceeds maximum length {prop.max_length}")
        return raw
    if edm in ("Edm.DateTime", "Edm.DateTimeOffset"):
        moment = _to_datetime(prop, raw)
        if prop.display_format == "Date":
            moment = moment.astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        return to_wire_datetime(moment, offset=edm == "Edm.DateTimeOffset")
    if edm == "Edm.Decimal":
        return _decimal_text(prop, raw)
    if edm == "Edm.Guid":
        try:
            return str(uuid.UUID(str(raw)))
        except ValueError as exc:
            raise EdmValueError(f"{prop.name} expects a GUID") from exc
    if edm == "Edm.Boolean":
        if isinstance(raw, bool):
            return raw
        raise EdmValueError(f"{prop.name} expects true or false")
    if edm == "Edm.Time":
        if isinstance(raw, str) and _TIME_RE.match(raw):
            return raw
        raise EdmValueError(f"{prop.name} expects an Edm.Time like PT10H30M00S")
    return raw


def _to_datetime(prop: Prop, raw: Any) -> dt.datetime:
    if isinstance(raw, dt.datetime):
        return raw if raw.tzinfo else raw.replace(tzinfo=dt.UTC)
    if isinstance(raw, dt.date):
        return dt.datetime(raw.year, raw.month, raw.day, tzinfo=dt.UTC)
    if isinstance(raw, str):
        return parse_wire_datetime(raw) if raw.startswith("/Date(") else parse_iso(raw)
    raise EdmValueError(f"{prop.name} expects a date")


def _decimal_text(prop: Prop, raw: Any) -> str:
    if isinstance(raw, bool) or not isinstance(raw, str | int | float | Decimal):
        raise EdmValueError(f"{prop.name} expects a decimal")
    try:
        value = Decimal(str(raw))
    except InvalidOperation as exc:
        raise EdmValueError(f"{prop.name} expects a decimal") from exc
    scale = prop.scale or 0
    quantized = value.quantize(Decimal(1).scaleb(-scale))
    digits = len(quantized.as_tuple().digits)
    if prop.precision is not None and digits > prop.precision:
        raise EdmValueError(f"{prop.name} exceeds precision {prop.precision}")
    return str(quantized)


def decode(prop: Prop, wire: Any) -> Any:
    """The Python value of a stored (wire-shaped) value, for comparisons and sorting."""
    if wire is None:
        return None
    if prop.edm in ("Edm.DateTime", "Edm.DateTimeOffset"):
        return parse_wire_datetime(wire)
    if prop.edm == "Edm.Decimal":
        return Decimal(wire)
    if prop.edm == "Edm.Time":
        match = _TIME_RE.match(wire)
        if match is None:
            return wire
        hours, minutes, seconds = (int(g) for g in match.groups())
        return dt.timedelta(hours=hours, minutes=minutes, seconds=seconds)
    if prop.edm == "Edm.Guid":
        return uuid.UUID(wire)
    return wire


def key_literal(prop: Prop, wire: Any) -> str:
    """How a key value appears in a URI: ``'1000042'`` or ``guid'…'``."""
    if prop.edm == "Edm.Guid":
        return f"guid'{wire}'"
    return "'" + str(wire).replace("'", "''") + "'"
