"""`generate_firm`: builds the whole firm in dependency order from one seed.

Every stage draws from its own `random.Random` stream named after the stage and the seed, so
adding draws in one stage never shifts another, and the same seed, size and today always give
the same bytes.
"""

from __future__ import annotations

import datetime as dt

from pssync.sandbox.firm import (
    misalign,
    views_filedrop,
    views_kantata,
    views_netsuite,
    views_salesforce,
    views_sap,
    views_servicenow,
)
from pssync.sandbox.firm.accounting import run_books
from pssync.sandbox.firm.accounts import build_accounts, build_contacts
from pssync.sandbox.firm.capacity import CapacityPlanner
from pssync.sandbox.firm.delivery import DeliveryBuilder, schedule
from pssync.sandbox.firm.history import base_facts, customer_since
from pssync.sandbox.firm.people import build_people, build_sales_reps
from pssync.sandbox.firm.reference import build_reference
from pssync.sandbox.firm.sales import build_opportunities
from pssync.sandbox.firm.sizes import size_params
from pssync.sandbox.firm.state import Firm
from pssync.sandbox.firm.timesheets import log_history
from pssync.sandbox.firm.worked_example import (
    BLOCKER_PROJECT_ID,
    finish,
    plant_opportunities,
    reserve,
)
from pssync.sandbox.firm.xref import ERP_CUSTOMER, ERP_INVOICE, ERP_OF_ENTITY, ERP_PROJECT, XrefBook

DEFAULT_TODAY = dt.date(2026, 6, 1)


def issue_ids(firm: Firm) -> None:
    """Hand out every system ID in one fixed order (stable IDs across runs)."""
    x = firm.xrefs
    for rep in firm.reps:
        x.issue(rep.id, "salesforce:User")
    for acc in firm.accounts:
        x.issue(acc.id, "salesforce:Account")
    for contact in firm.contacts:
        x.issue(contact.id, "salesforce:Contact")
    for opp in firm.opps:
        x.issue(opp.id, "salesforce:Opportunity")
    for role in firm.ref.roles:
        x.issue(f"role-{role.code.lower()}", "kantata:roles")
    for person in firm.people:
        x.issue(person.id, "kantata:users")
    for p in firm.projects:
        x.issue(firm.accounts[p.account].id, "kantata:workspace_groups")
        x.issue(p.id, "kantata:workspaces")
        for w in p.wbs:
            x.issue(w.id, "kantata:stories")
    for a in firm.assignments:
        x.issue(a.id, "kantata:workspace_allocations")
    since = customer_since(firm)
    for acc in firm.accounts:
        if acc.idx in since:
            erp = ERP_OF_ENTITY[acc.legal_entity]
            x.issue(acc.id, f"{erp}:{ERP_CUSTOMER[erp]}")
    for c in firm.books.contracts:
        p = firm.projects[c.project]
        if p.erp_missing:
            continue
        erp = ERP_OF_ENTITY[p.legal_entity]
        x.issue(
            p.id,
            f"{erp}:{ERP_PROJECT[erp]}",
            # the ERP's project number is the firm's project code (NetSuite's entityId is)
            None if erp == "netsuite" else p.code,
        )
        for w in p.wbs:
            if erp == "netsuite":
                x.issue(w.id, "netsuite:projecttask")
            elif erp == "sap_s4":
                x.issue(w.id, "sap_s4:A_EnterpriseProjectElement", w.code)
    for inv in firm.books.invoices:
        issue_invoice_ids(firm, inv.idx)
    for pay in firm.books.payments:
        if (
            ERP_OF_ENTITY[firm.projects[firm.books.invoices[pay.invoice].project].legal_entity]
            == "netsuite"
        ):
            x.issue(pay.id, "netsuite:customerpayment")
    for post in firm.postings:
        if firm.projects[post.project].legal_entity == "US01":
            x.issue(post.id, "netsuite:journalentry")


def issue_invoice_ids(firm: Firm, idx: int) -> None:
    inv = firm.books.invoices[idx]
    erp = ERP_OF_ENTITY[firm.projects[inv.project].legal_entity]
    firm.xrefs.issue(inv.id, "kantata:invoices")
    firm.xrefs.issue(inv.id, f"{erp}:{ERP_INVOICE[erp]}", None if erp == "netsuite" else inv.number)


def generate_firm(size: str = "small", seed: int = 7, today: dt.date = DEFAULT_TODAY) -> Firm:
    """Generate the synthetic services firm; deterministic in (size, seed, today)."""
    params = size_params(size)
    ref = build_reference(params, today, seed)
    people = build_people(ref, seed)
    reps = build_sales_reps(ref, seed)
    accounts = build_accounts(ref, seed)
    contacts = build_contacts(ref, accounts, seed)
    opps = build_opportunities(ref, accounts, seed)
    we, blocker = plant_opportunities(ref, accounts, opps)
    horizon = (today - ref.history_start).days // 7 + 3 * 53
    planner = CapacityPlanner(people, ref.history_start, horizon)
    picks = reserve(planner, ref, we)
    builder = DeliveryBuilder(ref, planner, seed)
    schedule(builder, opps, skip={we.id, blocker.id})
    finish(builder, we, blocker, picks)
    misalign.choose_erp_missing(builder.projects, today, seed, exclude={BLOCKER_PROJECT_ID})
    table = log_history(ref, builder.assignments, people, builder.projects, seed)
    biller, postings = run_books(
        ref, accounts, opps, builder.projects, builder.assignments, table, seed
    )
    firm = Firm(
        size=size,
        seed=seed,
        today=today,
        ref=ref,
        people=people,
        reps=reps,
        accounts=accounts,
        contacts=contacts,
        opps=opps,
        projects=builder.projects,
        assignments=builder.assignments,
        time=table,
        biller=biller,
        postings=postings,
        xrefs=XrefBook(),
        history_rows=len(table),
    )
    issue_ids(firm)
    views = (views_salesforce, views_kantata, views_netsuite, views_sap, views_filedrop)
    for view in (*views, views_servicenow):
        view.build(firm)
    misalign.plant(firm, seed)
    firm.facts = base_facts(firm)
    return firm
