"""Typed forecast inputs as of one date, read from the analytics store.

Small entity sets (deals, projects, contracts, people, reference data) are parsed back into the
canonical pydantic models so the revenue logic works with exact Decimals and validated dates.
Large fact sets (time entries, cost actuals, revenue events) stay in DuckDB and arrive here
only as aggregates.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import Any, TypeVar

from pydantic import ValidationError

from pssync.forecast.analytics import AnalyticsStore
from pssync.forecast.money import FxTable
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
from pssync.planning.periods import WorkCalendar, as_of_instant, month_start

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
    _calendars: dict[str, WorkCalendar] = field(default_factory=dict, init=False, repr=False)

    def calendar(self, region_id: str | None) -> WorkCalendar:
        key = region_id or ""
        cal = self._calendars.get(key)
        if cal is None:
            cal = self._calendars[key] = WorkCalendar(
                self.regions.get(region_id) if region_id else None
            )
        return cal

    @cached_property
    def _recognized(self) -> dict[str, dict[str, Decimal]]:
        out: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
        for row in self.actuals:
            if row.contract_line_id is not None:
                out[row.contract_line_id][row.currency] += row.amount
        return out

    def recognized_to_date(self) -> dict[str, dict[str, Decimal]]:
        """Recognised revenue per contract line and currency up to the as-of date (cached:
        every contract line asks)."""
        return self._recognized

    @cached_property
    def _milestones_by_line(self) -> dict[str, list[BillingMilestone]]:
        return _group(
            self.milestones.values(), lambda m: m.contract_line_id, lambda m: (m.due_date, m.id)
        )

    @cached_property
    def _assignments_by_project(self) -> dict[str, list[Assignment]]:
        return _group(self.assignments.values(), lambda a: a.project_id, lambda a: a.id)

    @cached_property
    def _lines_by_project(self) -> dict[str, list[ContractLine]]:
        return _group(self.contract_lines.values(), lambda c: c.project_id, lambda c: c.id)

    @cached_property
    def _projects_by_opportunity(self) -> dict[str, list[Project]]:
        return _group(self.projects.values(), lambda p: p.opportunity_id, lambda p: p.id)

    @cached_property
    def _requests_by_project(self) -> dict[str, list[ResourceRequest]]:
        return _group(self.resource_requests.values(), lambda r: r.project_id, lambda r: r.id)

    @cached_property
    def _schedule_by_line(self) -> dict[str, BillingSchedule]:
        out: dict[str, BillingSchedule] = {}
        for s in self.schedules.values():  # first by ID wins, as a scan in ID order would
            out.setdefault(s.contract_line_id, s)
        return out

    def schedule_of(self, contract_line_id: str) -> BillingSchedule | None:
        return self._schedule_by_line.get(contract_line_id)

    def milestones_of(self, contract_line_id: str) -> list[BillingMilestone]:
        return self._milestones_by_line.get(contract_line_id, [])

    def assignments_of(self, project_id: str) -> list[Assignment]:
        return self._assignments_by_project.get(project_id, [])

    def lines_of(self, project_id: str) -> list[ContractLine]:
        return self._lines_by_project.get(project_id, [])

    def projects_of(self, opportunity_id: str) -> list[Project]:
        """Projects of a deal, by ID (the order `projects` is loaded in)."""
        return self._projects_by_opportunity.get(opportunity_id, [])

    def requests_of(self, project_id: str) -> list[ResourceRequest]:
        return self._requests_by_project.get(project_id, [])


def _group(
    items: Iterable[R], key: Callable[[R], str | None], order: Callable[[R], Any]
) -> dict[str, list[R]]:
    """Index records by a foreign key (records without one are left out), each list sorted."""
    out: dict[str, list[R]] = defaultdict(list)
    for item in items:
        k = key(item)
        if k is not None:
            out[k].append(item)
    return {k: sorted(v, key=order) for k, v in out.items()}


def _parsed(
    analytics: AnalyticsStore,
    cls: type[R],
    where: str | None = None,
    params: dict[str, Any] | None = None,
) -> dict[str, R]:
    """Records of one type from the as-of table, validated straight from their JSON text.

    `model_validate_json` gives the same model as `parse_record(json.loads(text))` (payloads
    are the canonical JSON `model_dump_json` wrote) at a fraction of the cost: the large firm
    parses ~50k records per run. A payload that fails goes through `parse_record` for its
    error, so a bad row reads exactly as it would anywhere else.
    """
    out: dict[str, R] = {}
    for text in analytics.payload_texts(cls.__name__, where, params):
        try:
            record = cls.model_validate_json(text)
        except ValidationError:
            parse_record(cls.__name__, json.loads(text))
            raise
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


# A deal matters to a forecast while open, or won recently with its ERP handoff possibly
# pending (pipeline.won_without_contract); closed deals' outcomes reach calibration through
# the history, not through the snapshot, so parsing thousands of them here would be waste.
_LIVE_DEALS = "NOT coalesce(is_closed, false) OR (coalesce(is_won, false) AND close_date > $since)"
_ACCOUNTS_IN_USE = (
    "record_id IN (SELECT account_id FROM contract_line) "
    f"OR record_id IN (SELECT account_id FROM opportunity WHERE {_LIVE_DEALS})"
)
_FUTURE_BOOKINGS = "end_date > $as_of"
_DRAFT_REQUESTS = "payload ->> '$.project_id' IN (SELECT id FROM project WHERE status = 'draft')"


def load_snapshot(
    analytics: AnalyticsStore,
    as_of: dt.date,
    known_at: dt.datetime | None = None,
    *,
    invoices: bool = True,
) -> Snapshot:
    """Materialise the analytics tables as of `as_of` and read the forecast's inputs.

    `opportunities` holds open deals and deals won in the 366 days before T's month;
    `accounts` those of contract lines and of those deals;
    `assignments` those with days after T (the past ones are in time entries);
    `resource_requests` only those of draft projects (what placement reads). Invoices are
    parsed only when asked for (KPIs read them; the forecast does not).
    """
    analytics.materialize(as_of, known_at)
    params = {"as_of": as_of}
    since = {"since": month_start(as_of) - dt.timedelta(days=366)}
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
        opportunities=_parsed(analytics, Opportunity, _LIVE_DEALS, since),
        projects=_parsed(analytics, Project),
        resources=_parsed(analytics, Resource),
        assignments=_parsed(analytics, Assignment, _FUTURE_BOOKINGS, params),
        contract_lines=_parsed(analytics, ContractLine),
        milestones=_parsed(analytics, BillingMilestone),
        schedules=_parsed(analytics, BillingSchedule),
        accounts=_parsed(analytics, Account, _ACCOUNTS_IN_USE, since),
        regions=_parsed(analytics, Region),
        roles=_parsed(analytics, Role),
        fx=FxTable(_parsed(analytics, FxRate).values()),
        resource_requests=_parsed(analytics, ResourceRequest, _DRAFT_REQUESTS),
        invoices=_parsed(analytics, Invoice) if invoices else {},
        actuals=actuals,
        hours_to_date=hours,
        cost_to_date=dict(costs),
    )
