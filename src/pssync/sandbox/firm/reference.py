"""Reference data of the firm: the controlled values every system must agree on.

Kept as small tables of plain values because every other module looks things up here (a role's
rate in a currency, a region's legal entity and ERP) and the canonical payloads are built from
the same tables, so the two can never disagree.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from typing import Any

from pssync.sandbox.firm.calendars import WorkCalendar, make_calendars
from pssync.sandbox.firm.sizes import SizeParams
from pssync.sandbox.firm.units import add_months, money, month_start


@dataclass(frozen=True)
class RegionDef:
    code: str
    name: str
    timezone: str
    legal_entity: str


@dataclass(frozen=True)
class LegalEntityDef:
    code: str
    name: str
    country: str
    currency: str
    erp: str
    tax_codes: tuple[str, ...]
    payment_terms: tuple[str, ...]


@dataclass(frozen=True)
class RoleDef:
    code: str
    name: str
    bill_usd: int
    cost_usd: int


REGIONS = (
    RegionDef("NA", "North America", "America/New_York", "US01"),
    RegionDef("EMEA", "Europe, Middle East & Africa", "Europe/Berlin", "DE01"),
    RegionDef("APAC", "Asia Pacific", "Australia/Sydney", "AU01"),
)
LEGAL_ENTITIES = (
    LegalEntityDef(
        "US01", "Meridian Advisory Inc.", "US", "USD", "netsuite", ("US-EX",), ("Net 30", "Net 45")
    ),
    LegalEntityDef(
        "DE01",
        "Meridian Advisory GmbH",
        "DE",
        "EUR",
        "sap_s4",
        ("DE-VAT19", "DE-RC"),
        ("Net 30", "Net 60"),
    ),
    LegalEntityDef(
        "AU01",
        "Meridian Advisory Pty Ltd",
        "AU",
        "AUD",
        "filedrop",
        ("AU-GST", "AU-FRE"),
        ("Net 30",),
    ),
)
#: code -> (country, rate in basis points, description)
TAX_CODES = {
    "US-EX": ("US", 0, "US professional services, not taxable"),
    "DE-VAT19": ("DE", 1900, "German VAT standard rate"),
    "DE-RC": ("DE", 0, "EU reverse charge"),
    "AU-GST": ("AU", 1000, "Australian GST"),
    "AU-FRE": ("AU", 0, "GST-free export of services"),
}
CURRENCIES = (
    ("USD", "US Dollar"),
    ("EUR", "Euro"),
    ("AUD", "Australian Dollar"),
    ("GBP", "Pound Sterling"),
)
#: Units of USD per unit of the currency at the start of history; months then drift.
FX_BASE = {"EUR": 1.08, "AUD": 0.66, "GBP": 1.26}
#: Price lists are set per currency, not converted daily: a list price factor per currency.
PRICE_FACTOR = {"USD": 1.0, "EUR": 0.95, "AUD": 1.5, "GBP": 0.8}
SERVICE_LINES = (
    ("ERP", "ERP Implementation"),
    ("CLOUD", "Cloud & Infrastructure"),
    ("DATA", "Data & Analytics"),
    ("TRANS", "Business Transformation"),
    ("SEC", "Cybersecurity"),
    ("AMS", "Application Managed Services"),
)
ROLES = (
    RoleDef("EM", "Engagement Manager", 300, 150),
    RoleDef("SA", "Solution Architect", 275, 140),
    RoleDef("PM", "Project Manager", 210, 105),
    RoleDef("SC", "Senior Consultant", 225, 110),
    RoleDef("CON", "Consultant", 180, 85),
    RoleDef("AN", "Analyst", 140, 60),
    RoleDef("DE", "Data Engineer", 190, 90),
    RoleDef("DEV", "Developer", 170, 80),
    RoleDef("CE", "Cloud Engineer", 195, 95),
    RoleDef("SEC", "Security Specialist", 230, 115),
    RoleDef("CM", "Change Manager", 200, 100),
    RoleDef("QA", "QA Engineer", 150, 70),
)
ROLE_BY_CODE = {r.code: r for r in ROLES}
TEMPLATE_ROLES = {
    "ERP": ("SA", "PM", "SC", "CON", "DEV", "AN"),
    "CLOUD": ("SA", "PM", "CE", "DEV", "SC"),
    "DATA": ("SA", "DE", "AN", "PM", "SC"),
    "TRANS": ("EM", "SA", "SC", "PM", "CON", "CM"),
    "SEC": ("SEC", "SA", "PM", "CON"),
    "AMS": ("PM", "CON", "DEV", "AN", "SC"),
}


def _round5(value: float) -> int:
    return max(5, round(value / 5.0) * 5)


@dataclass
class Reference:
    """The firm's reference tables for one size, plus the calendars derived from them."""

    params: SizeParams
    history_start: dt.date
    today: dt.date
    regions: tuple[RegionDef, ...]
    service_lines: tuple[tuple[str, str], ...]
    roles: tuple[RoleDef, ...]
    calendars: dict[str, WorkCalendar]
    fx: list[tuple[str, dt.date, str]] = field(default_factory=list)

    @property
    def legal_entities(self) -> dict[str, LegalEntityDef]:
        return {le.code: le for le in LEGAL_ENTITIES}

    def entity_of_region(self, region: str) -> LegalEntityDef:
        return self.legal_entities[next(r.legal_entity for r in self.regions if r.code == region)]

    def role(self, code: str) -> RoleDef:
        return ROLE_BY_CODE[code]

    def template_roles(self, service_line: str) -> list[str]:
        have = {r.code for r in self.roles}
        return [c for c in TEMPLATE_ROLES[service_line] if c in have]

    def bill_cents(self, role: str, currency: str) -> int:
        return _round5(self.role(role).bill_usd * PRICE_FACTOR[currency]) * 100

    def cost_cents(self, role: str, currency: str) -> int:
        return _round5(self.role(role).cost_usd * PRICE_FACTOR[currency]) * 100


def build_reference(params: SizeParams, today: dt.date, seed: int) -> Reference:
    history_start = add_months(today, -12 * params.history_years)
    ref = Reference(
        params=params,
        history_start=history_start,
        today=today,
        regions=REGIONS[: params.regions],
        service_lines=SERVICE_LINES[: params.service_lines],
        roles=ROLES[: params.roles],
        calendars=make_calendars(history_start.year - 1, today.year + 3),
    )
    rng = random.Random(f"fx:{seed}")
    for code, base in FX_BASE.items():
        rate = base
        month = month_start(history_start)
        while month < today:
            ref.fx.append((code, month, f"{rate:.4f}"))
            rate *= 1 + rng.uniform(-0.02, 0.02)
            month = add_months(month, 1)
    return ref


def reference_payloads(ref: Reference) -> list[tuple[str, dt.date, dict[str, Any]]]:
    """(entity_type, effective date, canonical payload) for every reference record."""
    start = ref.history_start
    out: list[tuple[str, dt.date, dict[str, Any]]] = []
    for code, name in CURRENCIES:
        out.append(("Currency", start, {"id": f"cur-{code.lower()}", "code": code, "name": name}))
    for code, month, rate in ref.fx:
        out.append(
            (
                "FxRate",
                month,
                {
                    "id": f"fx-{code.lower()}-usd-{month:%Y-%m}",
                    "from_currency": code,
                    "to_currency": "USD",
                    "rate": rate,
                    "effective_date": month.isoformat(),
                },
            )
        )
    for le in LEGAL_ENTITIES:
        out.append(
            (
                "LegalEntity",
                start,
                {
                    "id": f"le-{le.code.lower()}",
                    "code": le.code,
                    "name": le.name,
                    "country": le.country,
                    "functional_currency": le.currency,
                },
            )
        )
    for code, (country, bp, desc) in TAX_CODES.items():
        rate = f"{bp // 100}.{bp % 100:02d}"
        out.append(
            (
                "TaxCode",
                start,
                {
                    "id": f"tax-{code.lower()}",
                    "code": code,
                    "country": country,
                    "rate": rate,
                    "description": desc,
                },
            )
        )
    for region in ref.regions:
        cal = ref.calendars[region.code]
        out.append(
            (
                "Region",
                start,
                {
                    "id": f"reg-{region.code.lower()}",
                    "code": region.code,
                    "name": region.name,
                    "timezone": region.timezone,
                    "working_weekdays": [0, 1, 2, 3, 4],
                    "holidays": [d.isoformat() for d in cal.holidays],
                    "hours_per_day": "8",
                },
            )
        )
    for code, name in ref.service_lines:
        out.append(("ServiceLine", start, {"id": f"sl-{code.lower()}", "code": code, "name": name}))
        out.append(
            (
                "Department",
                start,
                {"id": f"dep-{code.lower()}", "code": f"D-{code}", "name": f"{name} Practice"},
            )
        )
        out.append(
            (
                "ProjectTemplate",
                start,
                {
                    "id": f"tpl-{code.lower()}",
                    "code": f"T-{code}",
                    "name": f"{name} standard plan",
                    "service_line_id": f"sl-{code.lower()}",
                    "role_ids": [f"role-{r.lower()}" for r in ref.template_roles(code)],
                },
            )
        )
    for role in ref.roles:
        out.append(
            (
                "Role",
                start,
                {
                    "id": f"role-{role.code.lower()}",
                    "code": role.code,
                    "name": role.name,
                    "default_bill_rate": money(role.bill_usd * 100, "USD"),
                    "default_cost_rate": money(role.cost_usd * 100, "USD"),
                },
            )
        )
    return out
