"""The article's worked example as canonical facts, plus a small contracted backlog.

As of 2026-06-15: a 70% transformation deal asks to start on 1 July with 300 architect hours
over three months; the only architect is hard-booked on another project for all of July.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from forecast_fixtures import FirmWriter, at, usd

from pssync.model import (
    Account,
    Assignment,
    ContractLine,
    FxRate,
    Opportunity,
    OpportunityLineItem,
    Project,
    Region,
    Resource,
    RevenueEvent,
    RevenueMethod,
    Role,
)

AS_OF = dt.date(2026, 6, 15)
JUL, AUG, SEP, OCT = (dt.date(2026, m, 1) for m in (7, 8, 9, 10))


def build(path: Path) -> FirmWriter:
    firm = FirmWriter(path)
    t0 = at("2026-01-05")
    firm.put(
        [
            Region(id="reg-na", code="NA", name="North America", holidays=[dt.date(2026, 7, 3)]),
            Role(id="role-arch", code="ARCH", name="Architect", default_cost_rate=usd(100)),
            Role(id="role-cons", code="CONS", name="Consultant", default_cost_rate=usd(60)),
            Account(id="acc-1", name="Northwind", region_id="reg-na", legal_entity_id="le-us"),
            Account(id="acc-2", name="Globex", region_id="reg-na", legal_entity_id="le-us"),
            FxRate(
                id="fx-eur",
                from_currency="EUR",
                to_currency="USD",
                rate=Decimal("1.10"),
                effective_date=dt.date(2026, 1, 1),
            ),
            Resource(
                id="res-arch",
                name="Ada",
                role_id="role-arch",
                region_id="reg-na",
                cost_rate=usd(100),
                bill_rate=usd(250),
            ),
            Resource(
                id="res-cons",
                name="Con",
                role_id="role-cons",
                region_id="reg-na",
                cost_rate=usd(60),
                bill_rate=usd(150),
            ),
        ],
        t0,
    )
    firm.put(
        [
            Project(
                id="prj-2",
                name="Globex platform",
                account_id="acc-2",
                status="active",
                project_code="PRJ-2",
                service_line_id="sl-data",
                region_id="reg-na",
                legal_entity_id="le-us",
                planned_start=dt.date(2026, 5, 1),
                planned_end=dt.date(2026, 7, 31),
            ),
            ContractLine(
                id="cl-2",
                account_id="acc-2",
                project_id="prj-2",
                name="T&M",
                revenue_method=RevenueMethod.TIME_AND_MATERIALS,
                amount=usd("60000"),
                start_date=dt.date(2026, 5, 1),
                end_date=dt.date(2026, 7, 31),
                service_line_id="sl-data",
                legal_entity_id="le-us",
            ),
            # the architect is booked for every July working day (22 days x 8h)
            Assignment(
                id="asg-arch",
                project_id="prj-2",
                resource_id="res-arch",
                start_date=dt.date(2026, 7, 1),
                end_date=dt.date(2026, 7, 31),
                hours=Decimal("176"),
            ),
            RevenueEvent(
                id="rev-may",
                recognized_date=dt.date(2026, 5, 31),
                amount=usd("12000"),
                contract_line_id="cl-2",
            ),
        ],
        at("2026-04-20"),
    )
    firm.put(
        Opportunity(
            id="opp-big",
            account_id="acc-1",
            name="Northwind transformation",
            stage="Negotiation",
            probability=Decimal(70),
            amount=usd("300000"),
            close_date=dt.date(2026, 6, 26),
            service_line_id="sl-erp",
            region_id="reg-na",
            legal_entity_id="le-us",
            requested_start=dt.date(2026, 7, 1),
            duration_months=3,
            line_items=[
                OpportunityLineItem(
                    id="li-1", role_id="role-arch", hours=Decimal(300), rate=usd(1000)
                )
            ],
        ),
        at("2026-05-04"),
    )
    return firm
