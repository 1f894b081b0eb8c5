"""One exception definition (`store.problems.ExceptionRecord`): the table, the API's schema and
the CLI's list columns are derived from its fields, so a field added there reaches all three."""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import Integer, String, Text

from pssync.api.schemas.exceptions import ExceptionPublic
from pssync.cli.exceptions_cmds import LISTED
from pssync.store.problems import ExceptionRecord, exception_fields
from pssync.store.tables import UtcDateTime, exception_record

NAMES = [f.name for f in dataclasses.fields(ExceptionRecord)]


def test_the_table_has_one_column_per_field_typed_and_nullable_as_the_field() -> None:
    assert [c.name for c in exception_record.columns] == NAMES
    for name, hint, spec in exception_fields():
        column = exception_record.c[name]
        optional = "None" in str(hint)
        assert column.nullable is optional or column.primary_key, name
        if hint in (dt.datetime, dt.datetime | None):
            assert isinstance(column.type, UtcDateTime), name
        elif hint is int:
            assert isinstance(column.type, Integer) and column.default.arg == 0, name
        elif spec["length"]:
            assert isinstance(column.type, String) and column.type.length == spec["length"], name
        else:
            assert isinstance(column.type, Text), name
    assert [c.name for c in exception_record.primary_key] == ["id"]
    assert exception_record.c.correlation_id.type.length == 512  # migration 0008


def test_the_api_serves_every_public_field_then_the_looked_up_names() -> None:
    served = list(ExceptionPublic.model_json_schema()["properties"])
    public = [n for n in NAMES if n != "fingerprint"]
    assert served == [*public, "record_name", "region_name", "service_line_name"]
    required = set(ExceptionPublic.model_json_schema()["required"])
    assert required == set(public)


def test_the_cli_lists_the_fields_that_carry_a_width() -> None:
    assert LISTED == [("id", 12), ("category", 14), ("state", 7), ("owner", 10)]
