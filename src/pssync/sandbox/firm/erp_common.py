"""What every ERP view needs: which records each ERP holds and their payment state.

An ERP holds a customer once the account has a contract with one of its legal entities, and a
project only after the closed-won handoff succeeded (not for `erp_missing` projects).
"""

from __future__ import annotations

import datetime as dt

from pssync.sandbox.firm.history import customer_since
from pssync.sandbox.firm.state import Firm
from pssync.sandbox.firm.units import at
from pssync.sandbox.firm.world import AccountRec, InvoiceRec, ProjectRec
from pssync.sandbox.firm.xref import ERP_OF_ENTITY


def customers(firm: Firm, erp: str) -> list[tuple[AccountRec, dt.datetime]]:
    since = customer_since(firm)
    return [
        (a, since[a.idx])
        for a in firm.accounts
        if a.idx in since and ERP_OF_ENTITY[a.legal_entity] == erp
    ]


def projects(firm: Firm, erp: str) -> list[tuple[ProjectRec, dt.datetime]]:
    out = []
    cutoff = at(firm.today)
    for c in firm.books.contracts:
        p = firm.projects[c.project]
        if ERP_OF_ENTITY[p.legal_entity] == erp and not p.erp_missing:
            out.append((p, min(c.created, cutoff - dt.timedelta(minutes=1))))
    return out


def invoices(firm: Firm, erp: str) -> list[InvoiceRec]:
    return [
        i
        for i in firm.books.invoices
        if ERP_OF_ENTITY[firm.projects[i.project].legal_entity] == erp
    ]


def paid_state(firm: Firm) -> dict[int, tuple[int, dt.datetime]]:
    """invoice idx -> (cents paid so far, time of the last payment)."""
    out: dict[int, tuple[int, dt.datetime]] = {}
    for pay in firm.books.payments:
        cents, _ = out.get(pay.invoice, (0, at(pay.received)))
        out[pay.invoice] = (cents + pay.amount_cents, at(pay.received, 12))
    return out
