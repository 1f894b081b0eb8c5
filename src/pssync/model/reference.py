"""Reference data: the controlled values every system must agree on before numbers roll up."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

from pydantic import Field

from pssync.model.base import CanonicalRecord, CurrencyCode, Money, RecordId


class ServiceLine(CanonicalRecord):
    code: str
    name: str
    active: bool = True


class LegalEntity(CanonicalRecord):
    code: str
    name: str
    country: Annotated[str, Field(pattern=r"^[A-Z]{2}$")]
    functional_currency: CurrencyCode


class Currency(CanonicalRecord):
    code: CurrencyCode
    name: str
    decimals: Annotated[int, Field(ge=0, le=4)] = 2


class FxRate(CanonicalRecord):
    """Units of `to_currency` for one unit of `from_currency`, effective from a date."""

    from_currency: CurrencyCode
    to_currency: CurrencyCode
    rate: Annotated[Decimal, Field(gt=0, allow_inf_nan=False)]
    effective_date: dt.date


class TaxCode(CanonicalRecord):
    code: str
    country: Annotated[str, Field(pattern=r"^[A-Z]{2}$")]
    rate: Annotated[Decimal, Field(ge=0, le=100, allow_inf_nan=False)]
    description: str | None = None


class Role(CanonicalRecord):
    code: str
    name: str
    default_bill_rate: Money | None = None
    default_cost_rate: Money | None = None


class ProjectTemplate(CanonicalRecord):
    code: str
    name: str
    service_line_id: RecordId | None = None
    role_ids: list[RecordId] = Field(default_factory=list)


class Department(CanonicalRecord):
    code: str
    name: str


class Region(CanonicalRecord):
    """A delivery region and its working calendar: which weekdays are worked, which dates not."""

    code: str
    name: str
    timezone: str = "UTC"
    working_weekdays: list[Annotated[int, Field(ge=0, le=6)]] = Field(
        default_factory=lambda: [0, 1, 2, 3, 4]
    )
    holidays: list[dt.date] = Field(default_factory=list)
    hours_per_day: Annotated[Decimal, Field(gt=0, le=24)] = Decimal("8")

    def is_working_day(self, day: dt.date) -> bool:
        return day.weekday() in self.working_weekdays and day not in self.holidays
