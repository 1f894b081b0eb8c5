"""Shared building blocks of the canonical model: the record base, Money and small value types.

Money is a Decimal with an explicit currency so that no amount ever travels without it, and
Decimals serialise as strings in JSON so that a round trip through any system stays exact.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

CurrencyCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
RecordId = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Percent = Annotated[Decimal, Field(ge=0, le=100, allow_inf_nan=False)]
Hours = Annotated[Decimal, Field(ge=0, allow_inf_nan=False)]


class Money(BaseModel):
    """An exact amount in one currency (ISO 4217 code)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    amount: Annotated[Decimal, Field(allow_inf_nan=False)]
    currency: CurrencyCode

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"


class CanonicalRecord(BaseModel):
    """Base of every canonical entity and reference-data type.

    `id` is the canonical ID pssync owns; `xrefs` maps ``system:Object`` to that system's ID so
    a record always carries where it lives elsewhere. `schema_version` lets integrators and
    migrations tell payload generations apart.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    entity_type: ClassVar[str] = "CanonicalRecord"
    current_schema_version: ClassVar[int] = 1

    id: RecordId
    schema_version: int = Field(default=1, ge=1)
    xrefs: dict[str, str] = Field(default_factory=dict)

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        cls.entity_type = cls.__name__
