"""Regenerate src/pssync/samples/sample_firm.jsonl, the small firm `pssync demo` loads.

Deterministic: the same script writes the same bytes. The full synthetic firm generator lives in
pssync.sandbox; this file is a hand-sized slice for a first look at the golden store.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "src/pssync/samples/sample_firm.jsonl"
T0 = "2026-01-05T09:00:00+00:00"


def money(amount: str, currency: str = "USD") -> dict[str, str]:
    return {"amount": amount, "currency": currency}


def line(
    entity_type: str, payload: dict[str, object], valid_from: str = T0, system: str = "sample"
) -> str:
    return json.dumps(
        {
            "entity_type": entity_type,
            "valid_from": valid_from,
            "system": system,
            "payload": payload,
        },
        sort_keys=True,
    )


def build() -> list[str]:
    rows: list[str] = []
    add = rows.append
    for code, name, hol in [
        ("NA", "North America", ["2026-07-03", "2026-09-07", "2026-11-26", "2026-12-25"]),
        ("EMEA", "Europe, Middle East & Africa", ["2026-04-03", "2026-04-06", "2026-12-25"]),
        ("APAC", "Asia Pacific", ["2026-01-26", "2026-12-25"]),
    ]:
        add(
            line(
                "Region", {"id": f"reg-{code.lower()}", "code": code, "name": name, "holidays": hol}
            )
        )
    for code, name in [("USD", "US Dollar"), ("EUR", "Euro"), ("GBP", "Pound Sterling")]:
        add(line("Currency", {"id": f"cur-{code.lower()}", "code": code, "name": name}))
    for src, rate in [("EUR", "1.0850"), ("GBP", "1.2700")]:
        add(
            line(
                "FxRate",
                {
                    "id": f"fx-{src.lower()}-usd-2026",
                    "from_currency": src,
                    "to_currency": "USD",
                    "rate": rate,
                    "effective_date": "2026-01-01",
                },
            )
        )
    add(
        line(
            "LegalEntity",
            {
                "id": "le-us",
                "code": "US01",
                "name": "Acme Consulting Inc.",
                "country": "US",
                "functional_currency": "USD",
            },
        )
    )
    add(
        line(
            "LegalEntity",
            {
                "id": "le-uk",
                "code": "UK01",
                "name": "Acme Consulting Ltd",
                "country": "GB",
                "functional_currency": "GBP",
            },
        )
    )
    add(line("TaxCode", {"id": "tax-us-exempt", "code": "US-EX", "country": "US", "rate": "0"}))
    add(line("TaxCode", {"id": "tax-uk-std", "code": "UK-S", "country": "GB", "rate": "20"}))
    for code, name in [
        ("ERP", "ERP Implementation"),
        ("DATA", "Data & Analytics"),
        ("ADV", "Advisory"),
    ]:
        add(line("ServiceLine", {"id": f"sl-{code.lower()}", "code": code, "name": name}))
    roles = [
        ("ARCH", "Solution Architect", "250", "120"),
        ("CONS", "Consultant", "180", "85"),
        ("PM", "Project Manager", "200", "95"),
    ]
    for code, name, bill, cost in roles:
        add(
            line(
                "Role",
                {
                    "id": f"role-{code.lower()}",
                    "code": code,
                    "name": name,
                    "default_bill_rate": money(bill),
                    "default_cost_rate": money(cost),
                },
            )
        )
    people = [
        ("res-1", "Ana Ruiz", "role-arch", "reg-na"),
        ("res-2", "Ben Okafor", "role-arch", "reg-na"),
        ("res-3", "Chloe Martin", "role-cons", "reg-na"),
        ("res-4", "Dev Patel", "role-pm", "reg-na"),
        ("res-5", "Emma Novak", "role-cons", "reg-emea"),
    ]
    for rid, name, role, region in people:
        cost = {"role-arch": "120", "role-cons": "85", "role-pm": "95"}[role]
        add(
            line(
                "Resource",
                {
                    "id": rid,
                    "name": name,
                    "role_id": role,
                    "region_id": region,
                    "cost_rate": money(cost),
                },
            )
        )
    accounts = [
        ("acc-1", "Northwind Traders", "northwind.example", "US-11-1111111", "le-us"),
        ("acc-2", "Globex Corporation", "globex.example", "US-22-2222222", "le-us"),
        ("acc-3", "Initech Ltd", "initech.example", "GB123456789", "le-uk"),
        ("acc-4", "Umbrella Health", "umbrella.example", None, None),
    ]
    for aid, name, domain, tax, le in accounts:
        add(
            line(
                "Account",
                {
                    "id": aid,
                    "name": name,
                    "domain": domain,
                    "tax_id": tax,
                    "legal_entity_id": le,
                    "region_id": "reg-emea" if le == "le-uk" else "reg-na",
                    "currency": "GBP" if le == "le-uk" else "USD",
                    "payment_terms": "NET30",
                    "xrefs": {"salesforce:Account": f"001{aid[-1]}000000AbCdE"},
                },
            )
        )
        add(
            line(
                "Contact",
                {
                    "id": f"con-{aid[-1]}",
                    "account_id": aid,
                    "first_name": "Pat",
                    "last_name": f"Buyer{aid[-1]}",
                    "email": f"ap@{domain}",
                    "is_billing_contact": True,
                },
            )
        )
    # The worked example: 70% transformation deal, sales expects July, architects free in August.
    big = {
        "id": "opp-1",
        "account_id": "acc-1",
        "name": "Northwind ERP transformation",
        "stage": "Qualification",
        "probability": "20",
        "amount": money("960000.00"),
        "close_date": "2026-06-15",
        "service_line_id": "sl-erp",
        "region_id": "reg-na",
        "legal_entity_id": "le-us",
        "revenue_method": "milestone",
        "requested_start": "2026-07-01",
        "duration_months": 6,
        "created_at": T0,
        "line_items": [
            {
                "id": "oli-1",
                "service_line_id": "sl-erp",
                "role_id": "role-arch",
                "hours": "2400",
                "rate": money("250"),
            },
            {
                "id": "oli-2",
                "service_line_id": "sl-erp",
                "role_id": "role-cons",
                "hours": "1600",
                "rate": money("225"),
            },
        ],
        "xrefs": {"salesforce:Opportunity": "0061000000BigDeal"},
    }
    add(line("Opportunity", big, system="salesforce"))
    add(
        line(
            "Opportunity",
            {**big, "stage": "Proposal/Price Quote", "probability": "50"},
            "2026-03-02T10:00:00+00:00",
            system="salesforce",
        )
    )
    add(
        line(
            "Opportunity",
            {**big, "stage": "Negotiation/Review", "probability": "70"},
            "2026-05-04T10:00:00+00:00",
            system="salesforce",
        )
    )
    add(
        line(
            "Opportunity",
            {
                **big,
                "stage": "Negotiation/Review",
                "probability": "70",
                "delivery_start": "2026-08-03",
            },
            "2026-05-20T08:00:00+00:00",
            system="kantata",
        )
    )
    others = [
        (
            "opp-2",
            "acc-2",
            "Globex data platform",
            "Closed Won",
            "100",
            "240000.00",
            "2026-02-27",
            "sl-data",
            "time_and_materials",
            True,
            True,
        ),
        (
            "opp-3",
            "acc-3",
            "Initech finance advisory",
            "Prospecting",
            "10",
            "90000.00",
            "2026-09-30",
            "sl-adv",
            "fixed_fee",
            False,
            False,
        ),
        (
            "opp-4",
            "acc-4",
            "Umbrella retainer",
            "Closed Lost",
            "0",
            "120000.00",
            "2026-04-10",
            "sl-adv",
            "retainer",
            True,
            False,
        ),
    ]
    for oid, aid, name, stage, prob, amt, close, sl, method, closed, won in others:
        add(
            line(
                "Opportunity",
                {
                    "id": oid,
                    "account_id": aid,
                    "name": name,
                    "stage": stage,
                    "probability": prob,
                    "amount": money(amt, "GBP" if aid == "acc-3" else "USD"),
                    "close_date": close,
                    "service_line_id": sl,
                    "revenue_method": method,
                    "is_closed": closed,
                    "is_won": won,
                    "created_at": T0,
                },
                system="salesforce",
            )
        )
    add(
        line(
            "Project",
            {
                "id": "prj-2",
                "name": "Globex data platform",
                "account_id": "acc-2",
                "opportunity_id": "opp-2",
                "status": "active",
                "project_code": "PRJ-2026-0002",
                "service_line_id": "sl-data",
                "region_id": "reg-na",
                "legal_entity_id": "le-us",
                "planned_start": "2026-03-16",
                "planned_end": "2026-09-30",
                "baseline_hours": "1400",
                "currency": "USD",
                "xrefs": {"kantata:Workspace": "410002", "netsuite:job": "8812"},
            },
            "2026-03-02T12:00:00+00:00",
            system="kantata",
        )
    )
    add(
        line(
            "ContractLine",
            {
                "id": "cl-2",
                "account_id": "acc-2",
                "project_id": "prj-2",
                "opportunity_id": "opp-2",
                "name": "Data platform T&M",
                "revenue_method": "time_and_materials",
                "amount": money("240000.00"),
                "start_date": "2026-03-16",
                "end_date": "2026-09-30",
                "service_line_id": "sl-data",
                "legal_entity_id": "le-us",
                "billing_rule": "monthly_in_arrears",
            },
            "2026-03-02T12:00:00+00:00",
            system="netsuite",
        )
    )
    for i, (rid, role) in enumerate([("res-3", "role-cons"), ("res-4", "role-pm")], start=1):
        add(
            line(
                "Assignment",
                {
                    "id": f"asg-2-{i}",
                    "project_id": "prj-2",
                    "resource_id": rid,
                    "role_id": role,
                    "booking_type": "hard",
                    "start_date": "2026-03-16",
                    "end_date": "2026-09-30",
                    "hours": "700",
                    "bill_rate": money("180" if role == "role-cons" else "200"),
                },
                "2026-03-02T12:00:00+00:00",
                system="kantata",
            )
        )
    day = dt.date(2026, 3, 16)
    while day <= dt.date(2026, 5, 29):
        if day.weekday() < 5:
            add(
                line(
                    "TimeEntry",
                    {
                        "id": f"te-2-{day:%m%d}",
                        "project_id": "prj-2",
                        "resource_id": "res-3",
                        "role_id": "role-cons",
                        "work_date": day.isoformat(),
                        "hours": "8",
                        "bill_rate": money("180"),
                        "cost_rate": money("85"),
                    },
                    f"{day.isoformat()}T18:00:00+00:00",
                    system="kantata",
                )
            )
        day += dt.timedelta(days=1)
    for n, (month, amt) in enumerate([("04", "8640.00"), ("05", "27000.00")], start=1):
        add(
            line(
                "Invoice",
                {
                    "id": f"inv-2-{n}",
                    "account_id": "acc-2",
                    "number": f"INV-2026-00{n}",
                    "issue_date": f"2026-{month}-01",
                    "due_date": f"2026-{month}-30",
                    "amount": money(amt),
                    "status": "paid" if n == 1 else "open",
                    "project_id": "prj-2",
                    "contract_line_id": "cl-2",
                    "legal_entity_id": "le-us",
                },
                f"2026-{month}-01T06:00:00+00:00",
                system="netsuite",
            )
        )
    add(
        line(
            "Payment",
            {
                "id": "pay-2-1",
                "invoice_id": "inv-2-1",
                "account_id": "acc-2",
                "received_date": "2026-04-28",
                "amount": money("8640.00"),
            },
            "2026-04-28T06:00:00+00:00",
            system="netsuite",
        )
    )
    return rows


if __name__ == "__main__":
    OUT.write_text("\n".join(build()) + "\n", encoding="utf-8")
    print(f"wrote {OUT}")
