"""CRM-side entities: who buys, what is being sold, at what stage and probability."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from pssync.model.base import CanonicalRecord, CurrencyCode, Hours, Money, Percent, RecordId


class RevenueMethod(StrEnum):
    TIME_AND_MATERIALS = "time_and_materials"
    FIXED_FEE = "fixed_fee"
    MILESTONE = "milestone"
    RETAINER = "retainer"


class Address(BaseModel):
    model_config = ConfigDict(extra="forbid")

    street: str | None = None
    city: str | None = None
    postal_code: str | None = None
    state: str | None = None
    country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")


class Account(CanonicalRecord):
    name: str
    legal_name: str | None = None
    domain: str | None = None
    tax_id: str | None = None
    billing_address: Address | None = None
    industry: str | None = None
    region_id: RecordId | None = None
    legal_entity_id: RecordId | None = None
    tax_code_id: RecordId | None = None
    payment_terms: str | None = None
    currency: CurrencyCode | None = None
    status: str = "active"


class Contact(CanonicalRecord):
    account_id: RecordId
    first_name: str | None = None
    last_name: str
    email: str | None = None
    phone: str | None = None
    title: str | None = None
    is_billing_contact: bool = False


class OpportunityLineItem(BaseModel):
    """Estimated effort for one role on one service line; hours x rate is the line amount."""

    model_config = ConfigDict(extra="forbid")

    id: RecordId
    service_line_id: RecordId | None = None
    role_id: RecordId | None = None
    hours: Hours
    rate: Money
    description: str | None = None


class Opportunity(CanonicalRecord):
    account_id: RecordId
    name: str
    stage: str
    probability: Percent
    amount: Money
    close_date: dt.date
    is_closed: bool = False
    is_won: bool = False
    service_line_id: RecordId | None = None
    service_category: str | None = None
    region_id: RecordId | None = None
    legal_entity_id: RecordId | None = None
    revenue_method: RevenueMethod | None = None
    requested_start: dt.date | None = None
    delivery_start: dt.date | None = None
    duration_months: int | None = Field(default=None, ge=1, le=120)
    owner: str | None = None
    created_at: AwareDatetime | None = None
    line_items: list[OpportunityLineItem] = Field(default_factory=list)


class Quote(CanonicalRecord):
    opportunity_id: RecordId
    name: str
    status: str = "draft"
    total: Money
    valid_until: dt.date | None = None
