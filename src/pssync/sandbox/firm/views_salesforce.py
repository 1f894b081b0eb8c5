"""What Salesforce holds: accounts, contacts, deals with their history, products and users.

Field names are Salesforce's (standard fields plus the custom `__c` fields an integration adds);
IDs are 18-character with the real key prefixes. The CRM only knows what sales typed and what
integrations wrote back, so write-back fields (Delivery_Start__c, PSA_Project_Id__c, ...) are
filled only where a sync would have happened.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pssync.sandbox.firm.state import Firm
from pssync.sandbox.firm.units import amount_num, at, zulu
from pssync.sandbox.firm.world import OppRec, StageEvent
from pssync.sandbox.firm.xref import ERP_CUSTOMER, ERP_OF_ENTITY, ERP_PROJECT

SYSTEM = "salesforce"


def forecast_category(ev: StageEvent) -> str:
    if ev.is_closed:
        return "Closed" if ev.is_won else "Omitted"
    if ev.probability >= 90:
        return "Commit"
    return "Best Case" if ev.probability >= 50 else "Pipeline"


def erp_customer_id(firm: Firm, account_idx: int) -> str | None:
    acc = firm.accounts[account_idx]
    system = ERP_OF_ENTITY[acc.legal_entity]
    return firm.xrefs.get(acc.id, f"{system}:{ERP_CUSTOMER[system]}")


def stamp(record: dict[str, Any], moment: dt.datetime) -> None:
    record["LastModifiedDate"] = record["SystemModstamp"] = zulu(moment)


def user_rows(firm: Firm) -> None:
    for rep in firm.reps:
        rid = firm.xrefs.issue(rep.id, "salesforce:User")
        row = {
            "Id": rid,
            "Username": rep.email,
            "FirstName": rep.first,
            "LastName": rep.last,
            "Name": f"{rep.first} {rep.last}",
            "Email": rep.email,
            "IsActive": True,
            "CreatedDate": zulu(rep.created),
        }
        stamp(row, rep.created)
        firm.add_view(SYSTEM, "User", rep.id, row)


def account_rows(firm: Firm) -> None:
    for acc in firm.accounts:
        owner = firm.xrefs.get(firm.reps[acc.owner].id, "salesforce:User")
        erp_id = erp_customer_id(firm, acc.idx)
        row = {
            "Id": firm.xrefs.issue(acc.id, "salesforce:Account"),
            "Name": acc.name,
            "Type": "Customer" if erp_id else "Prospect",
            "Industry": acc.sector,
            "BillingStreet": f"{100 + acc.idx % 800} Market Street",
            "BillingCity": acc.city,
            "BillingCountry": firm.ref.legal_entities[acc.legal_entity].country,
            "Website": f"https://www.{acc.domain}",
            "OwnerId": owner,
            "CurrencyIsoCode": acc.currency,
            "Region__c": acc.region,
            "Legal_Entity__c": acc.legal_entity,
            "Tax_Code__c": acc.tax_code,
            "ERP_Customer_Id__c": erp_id,
            "IsDeleted": False,
            "CreatedDate": zulu(acc.created),
        }
        stamp(row, acc.created)
        firm.add_view(SYSTEM, "Account", acc.id, row)


def contact_rows(firm: Firm) -> None:
    for c in firm.contacts:
        row = {
            "Id": firm.xrefs.issue(c.id, "salesforce:Contact"),
            "AccountId": firm.xrefs.get(firm.accounts[c.account].id, "salesforce:Account"),
            "FirstName": c.first,
            "LastName": c.last,
            "Email": c.email,
            "Phone": c.phone,
            "Title": c.title,
            "Billing_Contact__c": c.is_billing,
            "CreatedDate": zulu(c.created),
        }
        stamp(row, c.created)
        firm.add_view(SYSTEM, "Contact", c.id, row)


def product_rows(firm: Firm) -> None:
    names = dict(firm.ref.service_lines)
    for code, _ in firm.ref.service_lines:
        for role in firm.ref.template_roles(code):
            key = f"prod-{code.lower()}-{role.lower()}"
            row = {
                "Id": firm.xrefs.issue(key, "salesforce:Product2"),
                "Name": f"{names[code]} - {firm.ref.role(role).name}",
                "ProductCode": f"{code}-{role}",
                "Family": names[code],
                "IsActive": True,
                "QuantityUnitOfMeasure": "Hours",
                "CreatedDate": zulu(at(firm.ref.history_start)),
            }
            stamp(row, at(firm.ref.history_start))
            firm.add_view(SYSTEM, "Product2", key, row)


def opportunity_row(firm: Firm, opp: OppRec, ev: StageEvent, moment: dt.datetime) -> dict[str, Any]:
    """The Opportunity as Salesforce shows it at `moment` in stage record `ev`."""
    project = firm.projects[opp.project] if opp.project is not None else None
    psa_id = (
        firm.xrefs.get(project.id, "kantata:workspaces")
        if project and project.draft_at <= moment
        else None
    )
    erp = ERP_OF_ENTITY[opp.legal_entity]
    erp_project = (
        firm.xrefs.get(project.id, f"{erp}:{ERP_PROJECT[erp]}") if project and ev.is_won else None
    )
    status = None
    if ev.is_won:
        status = "Synced" if erp_project else "Error"
    elif psa_id and not ev.is_closed:
        status = "Draft Created"
    return {
        "Id": firm.xrefs.issue(opp.id, "salesforce:Opportunity"),
        "Name": opp.name,
        "AccountId": firm.xrefs.get(firm.accounts[opp.account].id, "salesforce:Account"),
        "StageName": ev.stage,
        "Probability": ev.probability,
        "Amount": amount_num(opp.amount_cents),
        "ExpectedRevenue": amount_num(opp.amount_cents * ev.probability // 100),
        "CloseDate": ev.close_date.isoformat(),
        "IsClosed": ev.is_closed,
        "IsWon": ev.is_won,
        "ForecastCategoryName": forecast_category(ev),
        "CurrencyIsoCode": opp.currency,
        "OwnerId": firm.xrefs.get(firm.reps[opp.owner].id, "salesforce:User"),
        "Type": "New Business",
        "Service_Category__c": opp.category_text,
        "Revenue_Method__c": opp.revenue_method.replace("_", " ").title(),
        "Legal_Entity__c": opp.legal_entity,
        "Requested_Start__c": opp.requested_start.isoformat(),
        "Delivery_Start__c": project.planned_start.isoformat() if psa_id and project else None,
        "Duration_Months__c": opp.duration_months,
        "PSA_Project_Id__c": psa_id,
        "ERP_Customer_Id__c": erp_customer_id(firm, opp.account) if ev.is_won else None,
        "ERP_Project_Id__c": erp_project,
        "Sync_Status__c": status,
        "IsDeleted": False,
        "CreatedDate": zulu(opp.created),
    }


def history_row(firm: Firm, opp: OppRec, ev: StageEvent, n: int) -> dict[str, Any]:
    row = {
        "Id": firm.xrefs.issue(f"{opp.id}@{n}", "salesforce:OpportunityHistory"),
        "OpportunityId": firm.xrefs.get(opp.id, "salesforce:Opportunity"),
        "StageName": ev.stage,
        "Probability": ev.probability,
        "Amount": amount_num(opp.amount_cents),
        "ExpectedRevenue": amount_num(opp.amount_cents * ev.probability // 100),
        "CloseDate": ev.close_date.isoformat(),
        "ForecastCategory": forecast_category(ev),
        "CreatedById": firm.xrefs.get(firm.reps[opp.owner].id, "salesforce:User"),
        "CreatedDate": zulu(ev.at),
        "SystemModstamp": zulu(ev.at),
        "IsDeleted": False,
    }
    return row


def opportunity_rows(firm: Firm) -> None:
    cutoff = at(firm.today)
    for opp in firm.opps:
        past = [e for e in opp.events if e.at < cutoff]
        ev = past[-1]
        row = firm.add_view(SYSTEM, "Opportunity", opp.id, opportunity_row(firm, opp, ev, cutoff))
        touched = [ev.at]
        if opp.project is not None:
            p = firm.projects[opp.project]
            touched += [
                t + dt.timedelta(hours=1) for t in (p.draft_at, p.won_at) if t and t < cutoff
            ]
        stamp(row, min(max(touched), cutoff - dt.timedelta(minutes=1)))
        for k, li in enumerate(opp.lines):
            key = f"{opp.id}-li-{k + 1}"
            item = {
                "Id": firm.xrefs.issue(key, "salesforce:OpportunityLineItem"),
                "OpportunityId": row["Id"],
                "Product2Id": firm.xrefs.get(
                    f"prod-{opp.service_line.lower()}-{li.role.lower()}", "salesforce:Product2"
                ),
                "Quantity": li.hours,
                "UnitPrice": amount_num(li.rate_cents),
                "TotalPrice": amount_num(li.amount_cents),
                "Description": firm.ref.role(li.role).name,
                "CreatedDate": zulu(opp.created),
            }
            stamp(item, opp.created)
            del item["LastModifiedDate"]
            firm.add_view(SYSTEM, "OpportunityLineItem", key, item)
        for n, e in enumerate(past):
            firm.add_view(
                SYSTEM, "OpportunityHistory", f"{opp.id}@{n}", history_row(firm, opp, e, n)
            )


def build(firm: Firm) -> None:
    user_rows(firm)
    account_rows(firm)
    contact_rows(firm)
    product_rows(firm)
    opportunity_rows(firm)
