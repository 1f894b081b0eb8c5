"""ERP-side entities: what was contracted, billed, collected, spent and recognised."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from pydantic import Field, model_validator

from pssync.model.base import CanonicalRecord, Money, RecordId
from pssync.model.commercial import RevenueMethod


class PercentCompleteBasis(StrEnum):
    COST = "cost"
    HOURS = "hours"


class ContractLine(CanonicalRecord):
    """One priced line of a contract; its revenue method decides how revenue is recognised."""

    account_id: RecordId
    project_id: RecordId | None = None
    opportunity_id: RecordId | None = None
    name: str
    revenue_method: RevenueMethod
    amount: Money
    start_date: dt.date
    end_date: dt.date
    service_line_id: RecordId | None = None
    legal_entity_id: RecordId | None = None
    billing_rule: str | None = None
    percent_complete_basis: PercentCompleteBasis = PercentCompleteBasis.COST
    status: str = "active"

    @model_validator(mode="after")
    def _dates(self) -> ContractLine:
        if self.end_date < self.start_date:
            raise ValueError(f"contract end {self.end_date} is before start {self.start_date}")
        return self


class BillingMilestone(CanonicalRecord):
    contract_line_id: RecordId
    name: str
    due_date: dt.date
    amount: Money
    status: str = "planned"
    invoice_id: RecordId | None = None


class BillingSchedule(CanonicalRecord):
    contract_line_id: RecordId
    frequency: str = Field(pattern=r"^(monthly|quarterly|milestone|on_completion)$")
    start_date: dt.date
    end_date: dt.date | None = None
    amount_per_period: Money | None = None


class Invoice(CanonicalRecord):
    account_id: RecordId
    number: str
    issue_date: dt.date
    due_date: dt.date | None = None
    amount: Money
    tax: Money | None = None
    status: str = "open"
    project_id: RecordId | None = None
    contract_line_id: RecordId | None = None
    legal_entity_id: RecordId | None = None


class Payment(CanonicalRecord):
    invoice_id: RecordId
    account_id: RecordId
    received_date: dt.date
    amount: Money


class CostActual(CanonicalRecord):
    project_id: RecordId
    posting_date: dt.date
    amount: Money
    category: str = "labor"
    legal_entity_id: RecordId | None = None


class RevenueEvent(CanonicalRecord):
    recognized_date: dt.date
    amount: Money
    project_id: RecordId | None = None
    contract_line_id: RecordId | None = None
    revenue_method: RevenueMethod | None = None
    service_line_id: RecordId | None = None
    region_id: RecordId | None = None
    legal_entity_id: RecordId | None = None
