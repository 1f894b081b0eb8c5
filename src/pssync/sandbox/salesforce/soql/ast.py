"""The parsed form of a SOQL query, before field names are checked against the schema."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class FieldRef:
    path: tuple[str, ...]  # ("Name",) or ("Account", "Name")
    pos: int

    @property
    def text(self) -> str:
        return ".".join(self.path)


@dataclass(frozen=True)
class Literal:
    # string, number, boolean, null, date, datetime, or range (a date literal like THIS_MONTH)
    kind: str
    value: Any
    pos: int


@dataclass(frozen=True)
class Compare:
    field: FieldRef
    op: str  # = != < <= > >=
    value: Literal


@dataclass(frozen=True)
class InList:
    field: FieldRef
    values: tuple[Literal, ...]
    negate: bool


@dataclass(frozen=True)
class Like:
    field: FieldRef
    pattern: Literal


@dataclass(frozen=True)
class Not:
    operand: Condition


@dataclass(frozen=True)
class BoolOp:
    op: str  # AND / OR
    operands: tuple[Condition, ...]


Condition = Compare | InList | Like | Not | BoolOp


@dataclass(frozen=True)
class OrderItem:
    field: FieldRef
    descending: bool
    nulls_first: bool


@dataclass
class Query:
    text: str
    fields: list[FieldRef]
    count_only: bool
    sobject: str
    sobject_pos: int
    where: Condition | None = None
    order_by: list[OrderItem] = field(default_factory=list)
    limit: int | None = None
    offset: int | None = None
