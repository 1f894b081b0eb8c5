"""Typed forecast inputs as of one date, read from the analytics store.

Small entity sets (deals, projects, contracts, people, reference data) are parsed back into the
canonical pydantic models so the revenue logic works with exact Decimals and validated dates.
Large fact sets (time entries, cost actuals, revenue events) stay in DuckDB and arrive here
only as aggregates.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TypeVar

from pssync.forecast.analytics import AnalyticsStore
from pssync.forecast.money import FxTable
from pssync.forecast.periods import WorkCalendar, as_of_instant
from pssync.model import (
    Account,
    Assignment,
    BillingMilestone,
    BillingSchedule,
    CanonicalRecord,
    ContractLine,
    FxRate,
    Invoice,
    Opportunity,
    Project,
    Region,
    Resource,
    ResourceRequest,
    Role,
    parse_record,
)

R = TypeVar("R", bound=CanonicalRecord)


@dataclass(frozen=True)
class ActualRow:
    """Recognised revenue of one day and dimension combination, in its own currency."""

    day: dt.date
    service_line_id: str | None
    region_id: str | None
    legal_entity_id: str | None
    contract_line_id: str | None
    currency: str
    amount: Decimal


@dataclass
class Snapshot:
    as_of: dt.date
    known_at: dt.datetime
    input_digest: str
    opportunities: dict[str, Opportunity]
    projects: dict[str, Project]
    resources: dict[str, Resource]
    assignments: dict[str, Assignment]
    contract_lines: dict[str, ContractLine]
    milestones: dict[str, BillingMilestone]
    schedules: dict[str, BillingSchedule]
    accounts: dict[str, Account]
    regions: dict[str, Region]
    roles: dict[str, Role]
    fx: FxTable
    resource_requests: dict[str, ResourceRequest] = field(default_factory=dict)
    invoices: dict[str, Invoice] = field(default_factory=dict)
    actuals: list[ActualRow] = field(default_factory=list)
    hours_to_date: dict[str, Decimal] = field(default_factory=dict)
    cost_to_date: dict[str, dict[str, Decimal]] = field(default_factory=dict)

    def calendar(self, region_id: str | None) -> WorkCalendar:
        return WorkCalendar(self.regions.get(region_id) if region_id else None)

    def recognized_to_date(self) -> dict[str, dict[str, Decimal]]:
        """Recognised revenue per contract line and currency up to the as-of date."""
        out: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
        for row in self.actuals:
            if row.contract_line_id is not None:
                out[row.contract_line_id][row.currency] += row.amount
        return out

    def milestones_of(self, contract_line_id: str) -> list[BillingMilestone]:
        found = [m for m in self.milestones.values() if m.contract_line_id == contract_line_id]
        return sorted(found, key=lambda m: (m.due_date, m.id))

    def assignments_of(self, project_id: str) -> list[Assignment]:
        found = [a for a in self.assignments.values() if a.project_id == project_id]
        return sorted(found, key=lambda a: a.id)


def _parsed(analytics: AnalyticsStore, cls: type[R]) -> dict[str, R]:
    out: dict[str, R] = {}
    for payload in analytics.payloads(cls.__name__):
        record = parse_record(cls.__name__, payload)
        assert isinstance(record, cls)
        out[record.id] = record
    return out


_ACTUALS_SQL = """
SELECT re.recognized_date,
       coalesce(re.service_line_id, cl.service_line_id, p.service_line_id),
       coalesce(re.region_id, p.region_id),
       coalesce(re.legal_entity_id, cl.legal_entity_id, p.legal_entity_id),
       re.contract_line_id, re.amount_currency, sum(re.amount)
FROM revenue_event re
LEFT JOIN contract_line cl ON cl.id = re.contract_line_id
LEFT JOIN project p ON p.id = coalesce(re.project_id, cl.project_id)
WHERE re.recognized_date <= $as_of
GROUP BY ALL ORDER BY ALL
"""

_HOURS_SQL = """
SELECT project_id, sum(hours) FROM time_entry WHERE work_date <= $as_of GROUP BY project_id
"""

_COST_SQL = """
SELECT project_id, amount_currency, sum(amount) FROM cost_actual
WHERE posting_date <= $as_of GROUP BY ALL
UNION ALL
SELECT project_id, cost_rate_currency, sum(hours * cost_rate) FROM time_entry
WHERE work_date <= $as_of AND cost_rate IS NOT NULL
  AND project_id NOT IN (SELECT project_id FROM cost_actual WHERE posting_date <= $as_of)
GROUP BY ALL
"""


def load_snapshot(
    analytics: AnalyticsStore, as_of: dt.date, known_at: dt.datetime | None = None
) -> Snapshot:
    """Materialise the analytics tables as of `as_of` and read the forecast's inputs."""
    analytics.materialize(as_of, known_at)
    params = {"as_of": as_of}
    actuals = [
        ActualRow(r[0], r[1], r[2], r[3], r[4], r[5], Decimal(r[6]))
        for r in analytics.con.execute(_ACTUALS_SQL, params).fetchall()
    ]
    hours = {str(r[0]): Decimal(r[1]) for r in analytics.con.execute(_HOURS_SQL, params).fetchall()}
    costs: dict[str, dict[str, Decimal]] = defaultdict(dict)
    for project_id, currency, amount in analytics.con.execute(_COST_SQL, params).fetchall():
        costs[str(project_id)][str(currency)] = Decimal(amount)
    return Snapshot(
        as_of=as_of,
        known_at=known_at or as_of_instant(as_of),
        input_digest=analytics.input_digest(),
        opportunities=_parsed(analytics, Opportunity),
        projects=_parsed(analytics, Project),
        resources=_parsed(analytics, Resource),
        assignments=_parsed(analytics, Assignment),
        contract_lines=_parsed(analytics, ContractLine),
        milestones=_parsed(analytics, BillingMilestone),
        schedules=_parsed(analytics, BillingSchedule),
        accounts=_parsed(analytics, Account),
        regions=_parsed(analytics, Region),
        roles=_parsed(analytics, Role),
        fx=FxTable(_parsed(analytics, FxRate).values()),
        resource_requests=_parsed(analytics, ResourceRequest),
        invoices=_parsed(analytics, Invoice),
        actuals=actuals,
        hours_to_date=hours,
        cost_to_date=dict(costs),
    )
