"""Property: every canonical entity survives a JSON round trip exactly, Decimals included.

Payloads are drawn from each model's own field annotations, so a new entity or field is covered
without touching this test.
"""

from __future__ import annotations

import datetime as dt
import types
import typing
from decimal import Decimal
from enum import Enum
from typing import Any

import annotated_types
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import AwareDatetime, BaseModel
from pydantic.fields import FieldInfo

from pssync.model import ENTITY_TYPES

_TEXT = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=12
)


def _bounds(metadata: list[Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for item in metadata:
        for name in ("ge", "gt", "le", "lt", "pattern", "min_length", "max_length"):
            value = getattr(item, name, None)
            if value is not None:
                found[name] = value
    return found


def _decimal(b: dict[str, Any]) -> st.SearchStrategy[Decimal]:
    low = b.get("ge", b.get("gt", Decimal("-1e9")))
    high = b.get("le", b.get("lt", Decimal("1e9")))
    strat = st.decimals(
        min_value=Decimal(low),
        max_value=Decimal(high),
        allow_nan=False,
        allow_infinity=False,
        places=4,
    )
    return strat.filter(lambda d: d != b.get("gt") and d != b.get("lt"))


def strategy_for(annotation: Any, metadata: list[Any]) -> st.SearchStrategy[Any]:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        base, *extra = typing.get_args(annotation)
        return strategy_for(base, [*metadata, *extra])
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(annotation) if a is not type(None)]
        inner = st.one_of(*(strategy_for(a, metadata) for a in options))
        return st.none() | inner if type(None) in typing.get_args(annotation) else inner
    if origin is list:
        (item,) = typing.get_args(annotation)
        return st.lists(strategy_for(item, []), max_size=3)
    if origin is dict:
        return st.dictionaries(_TEXT, _TEXT, max_size=2)
    b = _bounds(metadata)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return model_payload(annotation)
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return st.sampled_from([m.value for m in annotation])
    if annotation is AwareDatetime:
        return st.datetimes(
            timezones=st.timezones(),
            min_value=dt.datetime(1990, 1, 1),
            max_value=dt.datetime(2100, 1, 1),
        ).map(lambda d: d.isoformat())
    if annotation is dt.date:
        return st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2100, 1, 1)).map(str)
    if annotation is Decimal:
        return _decimal(b).map(str)
    if annotation is bool:
        return st.booleans()
    if annotation is int:
        return st.integers(min_value=b.get("ge", 0), max_value=b.get("le", 1000))
    if annotation is str:
        if "pattern" in b:
            return st.from_regex(b["pattern"], fullmatch=True)
        return _TEXT
    raise TypeError(f"no strategy for {annotation!r}")


def _field(info: FieldInfo) -> st.SearchStrategy[Any]:
    return strategy_for(info.annotation, list(info.metadata))


def model_payload(cls: type[BaseModel]) -> st.SearchStrategy[dict[str, Any]]:
    fields = {
        name: _field(info) for name, info in cls.model_fields.items() if name != "schema_version"
    }
    return st.fixed_dictionaries(fields)


@pytest.mark.parametrize("name", sorted(ENTITY_TYPES))
def test_entity_round_trips_through_json(name: str) -> None:
    cls = ENTITY_TYPES[name]

    @settings(
        max_examples=40,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(model_payload(cls))
    def check(payload: dict[str, Any]) -> None:
        try:
            record = cls.model_validate(payload)
        except ValueError:
            return  # cross-field rules (end before start) may refuse a draw; not this property
        again = cls.model_validate_json(record.model_dump_json())
        assert again == record
        for money_field in ("amount", "total", "cost_rate"):
            value = getattr(record, money_field, None)
            if value is not None:
                assert getattr(again, money_field).amount == value.amount
                assert str(getattr(again, money_field).amount) == str(value.amount)

    check()


assert annotated_types  # the constraint objects inspected above come from annotated_types
