"""The misalignments planted in the system views, and the answer key that lists them.

Some come from how the world was simulated (free-text categories, stale deals, failed ERP
handoffs); the rest are typed into the views after rendering (missing legal entity, invalid
tax codes, duplicate customers, CRM delivery dates that were never updated from the PSA).
Every kind is planted at least once even in the smallest firm.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import random
from collections.abc import Iterator
from typing import Any

from pssync.sandbox.firm.ids import stable_uuid
from pssync.sandbox.firm.names import duplicate_variant
from pssync.sandbox.firm.state import DuplicatePair, Firm, Misalignment
from pssync.sandbox.firm.units import at
from pssync.sandbox.firm.world import ProjectRec

FREE_TEXT_SERVICE_CATEGORY = "free_text_service_category"
MISSING_LEGAL_ENTITY = "missing_legal_entity"
INVALID_TAX_CODE = "invalid_tax_code"
DUPLICATE_CUSTOMER = "duplicate_customer"
STALE_STAGE = "stale_stage"
PSA_CRM_DATE_MISMATCH = "psa_crm_date_mismatch"
WON_WITHOUT_ERP_PROJECT = "won_without_erp_project"
KINDS = (
    FREE_TEXT_SERVICE_CATEGORY,
    MISSING_LEGAL_ENTITY,
    INVALID_TAX_CODE,
    DUPLICATE_CUSTOMER,
    STALE_STAGE,
    PSA_CRM_DATE_MISMATCH,
    WON_WITHOUT_ERP_PROJECT,
)
INVALID_TAX = {
    "US-EX": "US-EXEMPT",
    "DE-VAT19": "DE19%",
    "DE-RC": "RC-EU",
    "AU-GST": "GST10",
    "AU-FRE": "AU-FREE",
}
STALE_DAYS = 60
#: (system, object, id field, name field) of the customer records that get duplicates.
CUSTOMER_OBJECTS = (
    ("salesforce", "Account", "Id", "Name"),
    ("netsuite", "customer", "id", "companyName"),
    ("sap_s4", "A_BusinessPartner", "BusinessPartner", "BusinessPartnerFullName"),
    ("filedrop", "customers", "customer_no", "name"),
)


def choose_erp_missing(
    projects: list[ProjectRec], today: dt.date, seed: int, exclude: set[str]
) -> None:
    """Fail the ERP handoff of a few recently won projects (at least one)."""
    rng = random.Random(f"erp-missing:{seed}")
    recent = [
        p
        for p in projects
        if p.won_at and p.id not in exclude and p.won_at.date() > today - dt.timedelta(days=120)
    ]
    if not recent:
        recent = sorted(
            (p for p in projects if p.won_at and p.id not in exclude),
            key=lambda p: p.won_at or p.draft_at,
        )[-1:]
    for p in rng.sample(recent, k=max(1, len(recent) // 8)):
        p.erp_missing = True


def _add(firm: Firm, kind: str, system: str, obj: str, record_id: str, detail: str) -> None:
    firm.misalignments.append(Misalignment(kind, system, obj, record_id, detail))


def _pick(rng: random.Random, items: list[Any], share: float, minimum: int) -> list[Any]:
    k = min(len(items), max(minimum, int(len(items) * share)))
    return sorted(rng.sample(items, k=k), key=items.index)


def plant(firm: Firm, seed: int) -> None:
    rng = random.Random(f"misalign:{seed}")
    sf = firm.views["salesforce"]
    accounts = sf["Account"]
    for row in _pick(rng, accounts, 0.05, 2):
        row["Legal_Entity__c"] = None
        _add(
            firm,
            MISSING_LEGAL_ENTITY,
            "salesforce",
            "Account",
            row["Id"],
            "Legal_Entity__c is empty",
        )
    valid = [r for r in accounts if r["Legal_Entity__c"]]
    for row in _pick(rng, valid, 0.05, 2):
        bad = INVALID_TAX[row["Tax_Code__c"]]
        _add(
            firm,
            INVALID_TAX_CODE,
            "salesforce",
            "Account",
            row["Id"],
            f"Tax_Code__c {bad!r} is not a tax code (true: {row['Tax_Code__c']})",
        )
        row["Tax_Code__c"] = bad
    _stale_delivery_dates(firm, rng)
    _duplicates(firm, rng)
    _scan(firm)


def _stale_delivery_dates(firm: Firm, rng: random.Random) -> None:
    """The CRM never heard that delivery moved the start: Delivery_Start__c keeps the ask."""
    moved = [
        o
        for o in firm.opps
        if o.project is not None and firm.projects[o.project].planned_start != o.requested_start
    ]
    for opp in _pick(rng, moved, 0.15, 1):
        row = firm.view_record("salesforce", "Opportunity", opp.id)
        if row is not None and row["PSA_Project_Id__c"]:
            row["Delivery_Start__c"] = opp.requested_start.isoformat()
    we = firm.view_record("salesforce", "Opportunity", "opp-worked-example")
    if we is not None:
        we["Delivery_Start__c"] = None


def _duplicates(firm: Firm, rng: random.Random) -> None:
    for system, obj, id_field, name_field in CUSTOMER_OBJECTS:
        rows = firm.views.get(system, {}).get(obj, [])
        by_row = {id(r): cid for cid, r in firm.index.get(f"{system}:{obj}", {}).items()}
        originals = [r for r in rows if id(r) in by_row]
        for row in _pick(
            rng,
            originals,
            0.04 if system == "salesforce" else 0.05,
            3 if system == "salesforce" else 1,
        ):
            account_id = by_row[id(row)]
            twin = dict(row)
            twin[id_field] = firm.xrefs.issue(f"{account_id}#dup", f"{system}:{obj}")
            twin[name_field] = duplicate_variant(row[name_field], rng)
            if "OrganizationBPName1" in twin:  # SAP derives the full name from Name 1
                twin["OrganizationBPName1"] = twin[name_field]
                # A partner of its own: SAP numbers and GUIDs every partner afresh.
                twin["Customer"] = twin[id_field]
                twin["BusinessPartnerUUID"] = stable_uuid("partner", f"{account_id}#dup")
            for key in ("entityId", "SearchTerm1"):
                if key in twin:
                    twin[key] = f"{twin[key]}-2"[:20]
            if system == "salesforce":  # a rep created it again: no ERP link, a prospect
                twin.update({"ERP_Customer_Id__c": None, "Type": "Prospect"})
            rows.append(twin)
            firm.duplicate_pairs.append(
                DuplicatePair(system, obj, row[id_field], twin[id_field], account_id)
            )
            _add(
                firm,
                DUPLICATE_CUSTOMER,
                system,
                obj,
                twin[id_field],
                f"duplicate of {row[id_field]} ({row[name_field]!r} vs {twin[name_field]!r})",
            )


def _scan(firm: Firm) -> None:
    """Record the misalignments that follow from the simulated world."""
    cutoff = at(firm.today)
    for opp in firm.opps:
        row = firm.view_record("salesforce", "Opportunity", opp.id)
        if row is None:
            continue
        sid = row["Id"]
        if opp.category_text != opp.service_line:
            _add(
                firm,
                FREE_TEXT_SERVICE_CATEGORY,
                "salesforce",
                "Opportunity",
                sid,
                f"Service_Category__c {opp.category_text!r}; service line {opp.service_line}",
            )
        state = opp.state_at(cutoff)
        if (
            state
            and not state.is_closed
            and state.close_date < firm.today - dt.timedelta(days=STALE_DAYS)
        ):
            _add(
                firm,
                STALE_STAGE,
                "salesforce",
                "Opportunity",
                sid,
                f"open in {state.stage} with CloseDate {state.close_date}",
            )
        if row["IsWon"] and not row["ERP_Project_Id__c"]:
            _add(
                firm,
                WON_WITHOUT_ERP_PROJECT,
                "salesforce",
                "Opportunity",
                sid,
                "closed won but no project in the ERP",
            )
        if opp.project is not None and row["PSA_Project_Id__c"]:
            ws = firm.view_record("kantata", "workspaces", firm.projects[opp.project].id)
            if ws is not None and ws["start_date"] != row["Delivery_Start__c"]:
                _add(
                    firm,
                    PSA_CRM_DATE_MISMATCH,
                    "kantata",
                    "workspaces",
                    ws["id"],
                    f"PSA start {ws['start_date']} vs CRM Delivery_Start__c "
                    f"{row['Delivery_Start__c']} (requested {row['Requested_Start__c']})",
                )
    firm.misalignments.sort(key=lambda m: (m.kind, m.system, m.object, m.record_id))


def answer_key_lines(firm: Firm) -> Iterator[str]:
    """The planted misalignments as JSONL, one a line (kind, system, object, record_id,
    detail): what `pssync fidelity --planted` reads to score exceptions against."""
    for m in firm.misalignments:
        yield json.dumps(dataclasses.asdict(m), sort_keys=True, ensure_ascii=False)
