"""`ActivityClock`: moves the firm forward day by day, the way its users would.

Deals change stage and close on the script simulated at generation; consultants log time on
their hard bookings; invoices are issued (scheduled ones, plus monthly T&M for logged time) and
payments arrive. Every change updates the system views in place with a modification timestamp
inside the step, appends ground-truth facts, and is returned, so a sync test can check that
change capture missed nothing. The clock never does pssync's own work (no ERP handoff).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np

from pssync.sandbox.firm import canonical, views_filedrop, views_kantata, views_netsuite, views_sap
from pssync.sandbox.firm.generate import issue_invoice_ids
from pssync.sandbox.firm.state import Firm
from pssync.sandbox.firm.timesheets import EPOCH, entry_rows
from pssync.sandbox.firm.truth import Fact
from pssync.sandbox.firm.units import at, iso, month_index, month_start, zulu
from pssync.sandbox.firm.views_salesforce import forecast_category, history_row
from pssync.sandbox.firm.world import InvoiceRec, OppRec, PaymentRec, StageEvent
from pssync.sandbox.firm.xref import ERP_INVOICE, ERP_OF_ENTITY

STAGE_CHANGED = "stage_changed"
DEAL_WON = "deal_won"
DEAL_LOST = "deal_lost"
TIME_LOGGED = "time_logged"
INVOICE_ISSUED = "invoice_issued"
PAYMENT_RECEIVED = "payment_received"
TM_BILLING_DAY = 3


@dataclass(frozen=True)
class ClockChange:
    """One record the clock created or updated: enough to find it through the system's API."""

    system: str
    object: str
    record_id: str
    kind: str
    action: str  # created | updated


class ActivityClock:
    """Advances `firm` deterministically; successive clocks on one firm continue each other."""

    def __init__(self, firm: Firm) -> None:
        self.firm = firm
        if firm.clock_now is None:
            firm.clock_now = at(firm.today)
        if firm.tm_accrued is None:
            firm.tm_accrued = self._accrued_this_month()
        self.changes: list[ClockChange] = []

    @property
    def now(self) -> dt.datetime:
        assert self.firm.clock_now is not None
        return self.firm.clock_now

    def advance(self, days: int = 1) -> list[ClockChange]:
        """Play `days` whole days; returns every change made, in the order made."""
        out: list[ClockChange] = []
        for _ in range(days):
            self.changes = []
            mark = len(self.firm.clock_facts)
            self._step(self.now.date())
            # within a day, facts go in valid-time order (stable: ties keep emission order)
            self.firm.clock_facts[mark:] = sorted(
                self.firm.clock_facts[mark:], key=lambda f: f.valid_from
            )
            self.firm.clock_now = self.now + dt.timedelta(days=1)
            out += self.changes
        return out

    # -- helpers -------------------------------------------------------------------------
    def _note(self, system: str, obj: str, record_id: str, kind: str, action: str) -> None:
        self.changes.append(ClockChange(system, obj, record_id, kind, action))

    def _fact(
        self,
        entity_type: str,
        moment: dt.datetime,
        system: str,
        source: str | None,
        payload: dict[str, Any],
    ) -> None:
        self.firm.clock_facts.append(Fact(entity_type, moment, system, source, payload))

    def _contract_of(self) -> dict[int, int]:
        return {c.project: c.idx for c in self.firm.books.contracts}

    def _accrued_this_month(self) -> dict[tuple[int, int], int]:
        """T&M value already logged in the current (unbilled) month before the clock started."""
        firm = self.firm
        first = int((np.datetime64(month_start(firm.today), "D") - EPOCH).astype(np.int64))
        rows = np.nonzero(firm.time.day[: firm.history_rows] >= first)[0].tolist()
        contract_of = self._contract_of()
        out: dict[tuple[int, int], int] = defaultdict(int)
        for _, day, q, billable, a, _ in firm.time_rows(rows):
            c = contract_of.get(a.project)
            if (
                c is not None
                and billable
                and firm.books.contracts[c].method == "time_and_materials"
            ):
                out[(c, month_index(day))] += q * a.bill_cents // 4
        return dict(sorted(out.items()))

    # -- the day -------------------------------------------------------------------------
    def _step(self, day: dt.date) -> None:
        end = self.now + dt.timedelta(days=1)
        due = sorted(
            (
                (ev.at, opp.idx, n)
                for opp in self.firm.opps
                for n, ev in enumerate(opp.events)
                if self.now <= ev.at < end
            ),
        )
        for _, opp_idx, n in due:
            self._stage(self.firm.opps[opp_idx], n)
        self._log_time(day)
        self._invoice(day)
        self._collect(day)

    def _stage(self, opp: OppRec, n: int) -> None:
        firm, ev = self.firm, opp.events[n]
        kind = DEAL_WON if ev.is_won else (DEAL_LOST if ev.is_closed else STAGE_CHANGED)
        payload = canonical.opportunity(firm, opp, ev)
        sid = firm.xrefs.get(opp.id, "salesforce:Opportunity") or ""
        self._fact("Opportunity", ev.at, "salesforce", f"salesforce:Opportunity:{sid}", payload)
        row = firm.view_record("salesforce", "Opportunity", opp.id)
        if row is not None:
            row.update(
                {
                    "StageName": ev.stage,
                    "Probability": ev.probability,
                    "CloseDate": ev.close_date.isoformat(),
                    "IsClosed": ev.is_closed,
                    "IsWon": ev.is_won,
                    "ForecastCategoryName": forecast_category(ev),
                    "ExpectedRevenue": round(opp.amount_cents * ev.probability // 100 / 100, 2),
                    "LastModifiedDate": zulu(ev.at),
                    "SystemModstamp": zulu(ev.at),
                }
            )
            if ev.is_won:
                row["Sync_Status__c"] = "Pending"
            self._note("salesforce", "Opportunity", sid, kind, "updated")
        hist = firm.add_view(
            "salesforce", "OpportunityHistory", f"{opp.id}@{n}", history_row(firm, opp, ev, n)
        )
        self._note("salesforce", "OpportunityHistory", hist["Id"], kind, "created")
        if ev.is_won and opp.project is not None and firm.projects[opp.project].is_draft:
            self._activate(opp, ev)

    def _activate(self, opp: OppRec, ev: StageEvent) -> None:
        """A won deal's PSA draft goes live and its soft bookings become hard."""
        firm = self.firm
        assert opp.project is not None
        p = firm.projects[opp.project]
        p.won_at = ev.at - dt.timedelta(days=1)  # active "one day after winning" = now
        moment = ev.at
        ws = firm.view_record("kantata", "workspaces", p.id)
        if ws is not None:
            ws["status"] = dict(views_kantata.STATUS["active"])
            ws["updated_at"] = iso(moment)
            self._note("kantata", "workspaces", ws["id"], DEAL_WON, "updated")
        self._fact(
            "Project",
            moment,
            "kantata",
            f"kantata:workspaces:{ws['id'] if ws else ''}",
            canonical.project(firm, p, "active", moment),
        )
        for i in p.assignments:
            a = firm.assignments[i]
            if a.hard:
                continue
            a.hard = True
            row = firm.view_record("kantata", "workspace_allocations", a.id)
            if row is not None:
                row["hard"] = True
                row["updated_at"] = iso(moment)
                self._note("kantata", "workspace_allocations", row["id"], DEAL_WON, "updated")
            self._fact("Assignment", moment, "kantata", None, canonical.assignment(firm, a))

    def _log_time(self, day: dt.date) -> None:
        firm = self.firm
        parts = []
        for a in firm.assignments:
            if a.hard and a.start <= day <= a.end:
                days, quarters, flags = entry_rows(
                    firm.ref,
                    a,
                    firm.people[a.person],
                    firm.projects[a.project],
                    day,
                    day,
                    firm.seed,
                )
                if days.size:
                    parts.append((a.idx, days, quarters, flags))
        if not parts:
            return
        first = len(firm.time)
        firm.time.extend(
            np.array([p[0] for p in parts], dtype=np.int64),
            np.concatenate([p[1] for p in parts]),
            np.concatenate([p[2] for p in parts]),
            np.concatenate([p[3] for p in parts]),
        )
        rows = list(range(first, len(firm.time)))
        for record in views_kantata.time_rows(firm, rows):
            firm.views["kantata"]["time_entries"].append(record)
            self._note("kantata", "time_entries", record["id"], TIME_LOGGED, "created")
        firm.clock_facts.extend(firm.time_entry_facts(rows))
        contract_of = self._contract_of()
        accrued = firm.tm_accrued if firm.tm_accrued is not None else {}
        for _, d, q, billable, a, _ in firm.time_rows(rows):
            c = contract_of.get(a.project)
            if (
                c is not None
                and billable
                and firm.books.contracts[c].method == "time_and_materials"
            ):
                accrued[(c, month_index(d))] = (
                    accrued.get((c, month_index(d)), 0) + q * a.bill_cents // 4
                )

    def _invoice(self, day: dt.date) -> None:
        firm = self.firm
        books = firm.books
        todo = [i for i in books.planned_invoices if i.issue == day]
        for inv in todo:
            books.planned_invoices.remove(inv)
        if day.day == TM_BILLING_DAY and firm.tm_accrued:
            for (c, month), cents in sorted(firm.tm_accrued.items()):
                if month < month_index(day) and cents > 0:
                    line = books.contracts[c]
                    p = firm.projects[line.project]
                    period = f"{month // 12}-{month % 12 + 1:02d}"
                    todo.append(firm.biller.draft_invoice(line, p, day, cents, period, None))
            firm.tm_accrued = {k: v for k, v in firm.tm_accrued.items() if k[1] >= month_index(day)}
        for inv in sorted(todo, key=lambda i: (i.project, i.period)):
            self._issue(inv)

    def _issue(self, inv: InvoiceRec) -> None:
        firm = self.firm
        p = firm.projects[inv.project]
        erp = ERP_OF_ENTITY[p.legal_entity]
        firm.biller.number(inv, p.legal_entity)
        for pay in firm.biller.payments_for(inv):
            firm.books.planned_payments.append(pay)
        issue_invoice_ids(firm, inv.idx)
        moment = at(inv.issue, 9)
        kantata = firm.add_view(
            "kantata", "invoices", inv.id, views_kantata.invoice_row(firm, inv, 0, moment)
        )
        self._note("kantata", "invoices", kantata["id"], INVOICE_ISSUED, "created")
        row = firm.add_view(
            erp, ERP_INVOICE[erp], inv.id, self._erp_invoice_row(erp, inv, 0, moment)
        )
        self._note(erp, ERP_INVOICE[erp], self._erp_id(erp, row), INVOICE_ISSUED, "created")
        payload = canonical.invoice(firm, inv, "open")
        self._fact(
            "Invoice", moment, erp, f"{erp}:{ERP_INVOICE[erp]}:{self._erp_id(erp, row)}", payload
        )
        if inv.milestone:
            m = next(m for m in firm.books.milestones if m.id == inv.milestone)
            m.invoice = inv.idx
            self._fact(
                "BillingMilestone", moment, erp, None, canonical.milestone(firm, m, "invoiced")
            )

    def _erp_invoice_row(
        self, erp: str, inv: InvoiceRec, paid: int, moment: dt.datetime
    ) -> dict[str, Any]:
        if erp == "netsuite":
            return views_netsuite.invoice_row(self.firm, inv, paid, moment)
        if erp == "sap_s4":
            return views_sap.billing_row(self.firm, inv, paid, moment)
        return views_filedrop.invoice_row(self.firm, inv, paid, moment)

    @staticmethod
    def _erp_id(erp: str, row: dict[str, Any]) -> str:
        return str(row.get("id") or row.get("BillingDocument") or row.get("invoice_no"))

    def _collect(self, day: dt.date) -> None:
        firm = self.firm
        books = firm.books
        arriving = [p for p in books.planned_payments if p.received == day]
        for pay in sorted(arriving, key=lambda p: p.id):
            books.planned_payments.remove(pay)
            books.payments.append(pay)
            self._receive(pay)

    def _receive(self, pay: PaymentRec) -> None:
        firm = self.firm
        inv = firm.books.invoices[pay.invoice]
        p = firm.projects[inv.project]
        erp = ERP_OF_ENTITY[p.legal_entity]
        moment = at(pay.received, 12)
        paid = sum(x.amount_cents for x in firm.books.payments if x.invoice == inv.idx)
        status = "paid" if paid >= inv.gross_cents else "partially_paid"
        self._fact("Payment", moment, erp, None, canonical.payment(firm, pay))
        for system, obj, fresh in (
            ("kantata", "invoices", views_kantata.invoice_row(firm, inv, paid, moment)),
            (erp, ERP_INVOICE[erp], self._erp_invoice_row(erp, inv, paid, moment)),
        ):
            row = firm.view_record(system, obj, inv.id)
            if row is not None:
                row.clear()
                row.update(fresh)
                self._note(system, obj, self._erp_id(system, row), PAYMENT_RECEIVED, "updated")
        payload = canonical.invoice(firm, inv, status)
        self._fact("Invoice", moment, erp, None, payload)
        if erp == "netsuite":
            firm.xrefs.issue(pay.id, "netsuite:customerpayment")
            row = firm.add_view(
                "netsuite", "customerpayment", pay.id, views_netsuite.payment_row(firm, pay)
            )
            self._note("netsuite", "customerpayment", row["id"], PAYMENT_RECEIVED, "created")
