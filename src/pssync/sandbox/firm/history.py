"""The firm's history as facts: every record's versions with the valid time of each change.

Facts dated on or after "today" never appear here: they belong to the activity clock.
"""

from __future__ import annotations

import datetime as dt

from pssync.sandbox.firm import canonical
from pssync.sandbox.firm.reference import reference_payloads
from pssync.sandbox.firm.state import Firm
from pssync.sandbox.firm.truth import Fact, sort_facts, source
from pssync.sandbox.firm.units import at, money
from pssync.sandbox.firm.world import PostingRec
from pssync.sandbox.firm.xref import ERP_CUSTOMER, ERP_INVOICE, ERP_OF_ENTITY, ERP_PROJECT


def _erp(firm: Firm, legal_entity: str) -> str:
    return ERP_OF_ENTITY[legal_entity]


def reference_facts(firm: Firm) -> list[Fact]:
    return [
        Fact(entity_type, at(day), "reference", None, payload)
        for entity_type, day, payload in reference_payloads(firm.ref)
    ]


def crm_facts(firm: Firm) -> list[Fact]:
    out = []
    for acc in firm.accounts:
        payload = canonical.account(firm, acc)
        out.append(
            Fact(
                "Account",
                acc.created,
                "salesforce",
                source(payload["xrefs"], "salesforce:Account"),
                payload,
            )
        )
    for c in firm.contacts:
        payload = canonical.contact(firm, c)
        out.append(
            Fact(
                "Contact",
                c.created,
                "salesforce",
                source(payload["xrefs"], "salesforce:Contact"),
                payload,
            )
        )
    cutoff = at(firm.today)
    for opp in firm.opps:
        for ev in opp.events:
            if ev.at >= cutoff:
                break
            payload = canonical.opportunity(firm, opp, ev)
            out.append(
                Fact(
                    "Opportunity",
                    ev.at,
                    "salesforce",
                    source(payload["xrefs"], "salesforce:Opportunity"),
                    payload,
                )
            )
    return out


def psa_facts(firm: Firm) -> list[Fact]:
    cutoff = at(firm.today)
    out = []
    for person in firm.people:
        payload = canonical.resource(firm, person)
        out.append(
            Fact(
                "Resource",
                at(person.hired, 8),
                "kantata",
                source(payload["xrefs"], "kantata:users"),
                payload,
            )
        )
    for p in firm.projects:
        src = source(firm.xrefs.of(p.id), "kantata:workspaces")
        out.append(
            Fact(
                "Project",
                p.draft_at,
                "kantata",
                src,
                canonical.project(firm, p, "draft", p.draft_at),
            )
        )
        for w in p.wbs:
            out.append(Fact("WbsElement", p.draft_at, "kantata", src, canonical.wbs(firm, p, w)))
        opp = firm.opps[p.opp]
        for li in opp.lines:
            rr = canonical.resource_request(firm, p, li.role, li.hours, "open")
            out.append(Fact("ResourceRequest", p.draft_at, "kantata", src, rr))
        if p.won_at is None:
            continue
        active_at = p.won_at + dt.timedelta(days=1)
        if active_at < cutoff:
            out.append(
                Fact(
                    "Project",
                    active_at,
                    "kantata",
                    src,
                    canonical.project(firm, p, "active", active_at),
                )
            )
            for li in opp.lines:
                rr = canonical.resource_request(firm, p, li.role, li.hours, "filled")
                out.append(Fact("ResourceRequest", active_at, "kantata", src, rr))
        done_at = at(p.planned_end + dt.timedelta(days=1), 20)
        started_at = at(p.planned_start, 8)  # work starts: the project's actual start is known
        if active_at < started_at < min(cutoff, done_at):
            out.append(
                Fact(
                    "Project",
                    started_at,
                    "kantata",
                    src,
                    canonical.project(firm, p, "active", started_at),
                )
            )
        if done_at < cutoff:
            out.append(
                Fact(
                    "Project",
                    done_at,
                    "kantata",
                    src,
                    canonical.project(firm, p, "completed", done_at),
                )
            )
    for a in firm.assignments:
        if a.created < cutoff:
            payload = canonical.assignment(firm, a)
            out.append(
                Fact(
                    "Assignment",
                    a.created,
                    "kantata",
                    source(payload["xrefs"], "kantata:workspace_allocations"),
                    payload,
                )
            )
    return out


def erp_facts(firm: Firm) -> list[Fact]:
    cutoff = at(firm.today)
    out = []
    for c in firm.books.contracts:
        p = firm.projects[c.project]
        system = _erp(firm, p.legal_entity)
        src = source(firm.xrefs.of(p.id), f"{system}:{ERP_PROJECT[system]}")
        created = min(c.created, cutoff - dt.timedelta(minutes=1))
        out.append(Fact("ContractLine", created, system, src, canonical.contract_line(firm, c)))
        if c.schedule:
            out.append(
                Fact("BillingSchedule", created, system, src, canonical.billing_schedule(firm, c))
            )
    for m in firm.books.milestones:
        c = firm.books.contracts[m.contract]
        system = _erp(firm, firm.projects[c.project].legal_entity)
        out.append(
            Fact(
                "BillingMilestone",
                min(c.created, cutoff - dt.timedelta(minutes=1)),
                system,
                None,
                canonical.milestone(firm, m, "planned"),
            )
        )
        if m.invoice is not None:
            issued = at(firm.books.invoices[m.invoice].issue, 9)
            out.append(
                Fact(
                    "BillingMilestone",
                    issued,
                    system,
                    None,
                    canonical.milestone(firm, m, "invoiced"),
                )
            )
    paid: dict[int, int] = {}
    for inv in firm.books.invoices:
        system = _erp(firm, firm.projects[inv.project].legal_entity)
        payload = canonical.invoice(firm, inv, "open")
        out.append(
            Fact(
                "Invoice",
                at(inv.issue, 9),
                system,
                source(payload["xrefs"], f"{system}:{ERP_INVOICE[system]}"),
                payload,
            )
        )
    for pay in firm.books.payments:
        inv = firm.books.invoices[pay.invoice]
        system = _erp(firm, firm.projects[inv.project].legal_entity)
        out.append(
            Fact("Payment", at(pay.received, 12), system, None, canonical.payment(firm, pay))
        )
        paid[inv.idx] = paid.get(inv.idx, 0) + pay.amount_cents
        status = "paid" if paid[inv.idx] >= inv.gross_cents else "partially_paid"
        payload = canonical.invoice(firm, inv, status)
        out.append(
            Fact(
                "Invoice",
                at(pay.received, 12),
                system,
                source(payload["xrefs"], f"{system}:{ERP_INVOICE[system]}"),
                payload,
            )
        )
    for post in firm.postings:
        p = firm.projects[post.project]
        system = _erp(firm, p.legal_entity)
        out.append(posting_fact(firm, post, system))
    return out


def posting_fact(firm: Firm, post: PostingRec, system: str) -> Fact:
    p = firm.projects[post.project]
    amount = money(post.amount_cents, p.currency)
    le = canonical.ref_id("le", p.legal_entity)
    if post.kind == "cost":
        payload = {
            "id": post.id,
            "project_id": p.id,
            "posting_date": post.posted.isoformat(),
            "amount": amount,
            "category": "labor",
            "legal_entity_id": le,
            "xrefs": firm.xrefs.of(post.id),
        }
        return Fact("CostActual", at(post.posted, 20), system, None, payload)
    contract = firm.books.contracts[post.contract] if post.contract is not None else None
    payload = {
        "id": post.id,
        "recognized_date": post.posted.isoformat(),
        "amount": amount,
        "project_id": p.id,
        "revenue_method": p.revenue_method,
        "service_line_id": canonical.ref_id("sl", p.service_line),
        "region_id": canonical.ref_id("reg", p.region),
        "legal_entity_id": le,
        "xrefs": firm.xrefs.of(post.id),
    }
    if contract is not None:
        payload["contract_line_id"] = contract.id
    return Fact("RevenueEvent", at(post.posted, 21), system, None, payload)


def base_facts(firm: Firm) -> list[Fact]:
    facts = reference_facts(firm) + crm_facts(firm) + psa_facts(firm) + erp_facts(firm)
    since = customer_since(firm)
    for acc in firm.accounts:
        system = _erp(firm, acc.legal_entity)
        key = f"{system}:{ERP_CUSTOMER[system]}"
        if acc.idx in since and firm.xrefs.get(acc.id, key):
            payload = canonical.account(firm, acc)
            facts.append(
                Fact("Account", since[acc.idx], system, source(payload["xrefs"], key), payload)
            )
    return sort_facts(facts)


def customer_since(firm: Firm) -> dict[int, dt.datetime]:
    """When each account became an ERP customer: its first contract's handoff."""
    cutoff = at(firm.today)
    since: dict[int, dt.datetime] = {}
    for c in firm.books.contracts:
        p = firm.projects[c.project]
        moment = min(c.created, cutoff - dt.timedelta(minutes=1))
        if p.account not in since or moment < since[p.account]:
            since[p.account] = moment
    return since
