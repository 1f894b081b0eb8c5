"""Canonical payloads of a world's records, each stamped with the day it became true.

Every function returns `(day, entity_type, payload)` facts; `generate.World` stamps them at
noon UTC, drops what lies after the world's today and writes the JSONL lines `pssync import`
and `forecast.bulkload.load_truth` read. Payloads are shaped as `pssync.model` validates them.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from pssync.sandbox.worlds.market import SHARED_PREMIUM, SHARED_ROLE, Deal
from pssync.sandbox.worlds.staffing import Person
from pssync.sandbox.worlds.traits import STAGES, WorldTraits

Fact = tuple[dt.date, str, dict[str, Any]]
REGION = "reg-home"
ENTITY = "le-home"


def usd(amount: Decimal | float | int) -> dict[str, str]:
    return {"amount": str(Decimal(str(amount)).quantize(Decimal("0.01"))), "currency": "USD"}


def reference(traits: WorldTraits, start: dt.date, today: dt.date) -> list[Fact]:
    day = start - dt.timedelta(days=30)
    holidays = [d.isoformat() for d in traits.holidays(start.year - 1, today.year + 3)]
    facts: list[Fact] = [
        (day, "Region", {"id": REGION, "code": "HOME", "name": "Home", "holidays": holidays}),
        (
            day,
            "LegalEntity",
            {
                "id": ENTITY,
                "code": "HOME",
                "name": "Home Ltd",
                "country": "US",
                "functional_currency": "USD",
            },
        ),
    ]
    architect_rate = sum(line.rate for line in traits.lines) / len(traits.lines) * SHARED_PREMIUM
    facts.append(
        (
            day,
            "Role",
            {
                "id": f"role-{SHARED_ROLE}",
                "code": SHARED_ROLE.upper(),
                "name": "Architect",
                "default_bill_rate": usd(round(architect_rate, 2)),
            },
        )
    )
    for line in traits.lines:
        facts.append(
            (
                day,
                "ServiceLine",
                {"id": f"sl-{line.code}", "code": line.code.upper(), "name": line.code.title()},
            )
        )
        facts.append(
            (
                day,
                "Role",
                {
                    "id": f"role-{line.code}",
                    "code": line.code.upper(),
                    "name": f"{line.code.title()} consultant",
                    "default_bill_rate": usd(round(line.rate, 2)),
                },
            )
        )
    return facts


def accounts(n: int, start: dt.date) -> list[Fact]:
    day = start - dt.timedelta(days=30)
    return [
        (
            day,
            "Account",
            {
                "id": f"wacc-{k:04d}",
                "name": f"Client {k:04d}",
                "region_id": REGION,
                "legal_entity_id": ENTITY,
                "currency": "USD",
            },
        )
        for k in range(n)
    ]


def _rate_of(traits: WorldTraits, role: str) -> float:
    rates = {line.code: line.rate for line in traits.lines}
    return rates.get(role, sum(rates.values()) / len(rates) * SHARED_PREMIUM)


def people(traits: WorldTraits, staff: list[Person]) -> list[Fact]:
    out: list[Fact] = []
    for p in staff:
        rate = _rate_of(traits, p.role)
        payload: dict[str, Any] = {
            "id": p.id,
            "name": f"Consultant {p.idx:04d}",
            "role_id": f"role-{p.role}",
            "region_id": REGION,
            "cost_rate": usd(round(rate * 0.55, 2)),
            "bill_rate": usd(round(rate, 2)),
            "weekly_capacity_hours": "40",
            "start_date": p.start.isoformat(),
        }
        out.append((p.start - dt.timedelta(days=14), "Resource", payload))
        if p.end is not None:
            out.append(
                (
                    p.end - dt.timedelta(days=30),
                    "Resource",
                    {**payload, "end_date": p.end.isoformat()},
                )
            )
    return out


def opportunity(deal: Deal) -> list[Fact]:
    base: dict[str, Any] = {
        "id": deal.id,
        "account_id": f"wacc-{deal.account:04d}",
        "name": f"Deal {deal.idx}",
        "amount": usd(deal.amount),
        "service_line_id": f"sl-{deal.line.code}",
        "region_id": REGION,
        "legal_entity_id": ENTITY,
        "revenue_method": deal.method,
        "requested_start": deal.requested_start.isoformat(),
        "duration_months": deal.duration_months,
        "created_at": dt.datetime.combine(deal.created, dt.time(9), tzinfo=dt.UTC).isoformat(),
        "line_items": [
            {
                "id": f"{deal.id}-li-{k + 1}",
                "service_line_id": f"sl-{deal.line.code}",
                "role_id": f"role-{role}",
                "hours": str(round(hours, 1)),
                "rate": usd(round(deal.rate(role), 2)),
            }
            for k, (role, hours) in enumerate(sorted(deal.hours.items()))
        ],
    }
    out: list[Fact] = []
    for ev in deal.events:
        stage, prob = STAGES[ev.stage]
        if ev.is_closed:
            stage, prob = ("Closed Won", 100) if ev.is_won else ("Closed Lost", 0)
        out.append(
            (
                ev.at,
                "Opportunity",
                {
                    **base,
                    "stage": stage,
                    "probability": str(prob),
                    "close_date": ev.close_date.isoformat(),
                    "is_closed": ev.is_closed,
                    "is_won": ev.is_won,
                },
            )
        )
    return out
