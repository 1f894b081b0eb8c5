"""PSA-side entities: projects, their structure, the people and how they are booked."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import Field, model_validator

from pssync.model.base import CanonicalRecord, CurrencyCode, Hours, Money, RecordId


class ProjectStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    ON_HOLD = "on_hold"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class BookingType(StrEnum):
    HARD = "hard"
    SOFT = "soft"


def _check_dates(start: dt.date | None, end: dt.date | None, what: str) -> None:
    if start is not None and end is not None and end < start:
        raise ValueError(f"{what} end {end} is before start {start}")


class Project(CanonicalRecord):
    name: str
    account_id: RecordId
    opportunity_id: RecordId | None = None
    status: ProjectStatus = ProjectStatus.DRAFT
    project_code: str | None = None
    service_line_id: RecordId | None = None
    region_id: RecordId | None = None
    legal_entity_id: RecordId | None = None
    department_id: RecordId | None = None
    template_id: RecordId | None = None
    planned_start: dt.date | None = None
    planned_end: dt.date | None = None
    actual_start: dt.date | None = None
    baseline_hours: Hours | None = None
    currency: CurrencyCode | None = None

    @model_validator(mode="after")
    def _dates(self) -> Project:
        _check_dates(self.planned_start, self.planned_end, "planned")
        return self


class WbsElement(CanonicalRecord):
    project_id: RecordId
    code: str
    name: str
    parent_id: RecordId | None = None
    planned_hours: Hours | None = None
    billable: bool = True


class Resource(CanonicalRecord):
    """A person who can be staffed, with the calendar of their region and their cost."""

    name: str
    email: str | None = None
    role_id: RecordId
    region_id: RecordId
    department_id: RecordId | None = None
    cost_rate: Money
    bill_rate: Money | None = None
    weekly_capacity_hours: Annotated[Decimal, Field(gt=0, le=80)] = Decimal("40")
    start_date: dt.date | None = None
    end_date: dt.date | None = None


class ResourceRequest(CanonicalRecord):
    project_id: RecordId
    role_id: RecordId
    region_id: RecordId | None = None
    hours: Hours
    start_date: dt.date
    end_date: dt.date
    status: str = "open"

    @model_validator(mode="after")
    def _dates(self) -> ResourceRequest:
        _check_dates(self.start_date, self.end_date, "request")
        return self


class Assignment(CanonicalRecord):
    """A booking of a resource on a project; hard bookings are committed, soft ones tentative."""

    project_id: RecordId
    resource_id: RecordId
    role_id: RecordId | None = None
    booking_type: BookingType = BookingType.HARD
    start_date: dt.date
    end_date: dt.date
    hours: Hours
    bill_rate: Money | None = None

    @model_validator(mode="after")
    def _dates(self) -> Assignment:
        _check_dates(self.start_date, self.end_date, "assignment")
        return self


class TimeEntry(CanonicalRecord):
    project_id: RecordId
    resource_id: RecordId
    role_id: RecordId | None = None
    wbs_element_id: RecordId | None = None
    work_date: dt.date
    hours: Annotated[Decimal, Field(ge=0, le=24, allow_inf_nan=False)]
    billable: bool = True
    bill_rate: Money | None = None
    cost_rate: Money | None = None
