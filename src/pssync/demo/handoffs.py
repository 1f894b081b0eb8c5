"""Did the closed-won handoff do its job in a demo run? Deal by deal, against the firm's wins.

The firm's own record says which deals its reps won while the run's clock played (its truth: an
Opportunity version won, valid from the run's first day on). Each such deal is, in golden:

* handed off: pssync created its ERP project (the first version of the deal's project that
  carries a project code was written by a `handoff:` workflow), so the code reached the ERP of
  the deal's legal entity and was written back;
* linked: its project code came from the ERP itself (the firm had handed it off);
* blocked: an open exception holds it — the deal itself at ingest (found by its CRM ID), or its
  handoff (validation, duplicate customer, no ERP for its legal entity); the exception says why;
* waiting: none of these, which is a defect of the flows.

A *valid* won deal is one no open exception holds; the measure is handed off (or linked) over
valid. Deals won before the run are counted apart: the firm handed those off itself, and pssync
links them to the firm's ERP project instead of creating a second one.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from typing import Any

from pssync.governance.exceptions import ExceptionStore
from pssync.store import GoldenStore

CRM_KEY = "salesforce:Opportunity"
HANDOFF_SOURCE = "flow:handoff:"
# Exceptions that signal something about a deal without holding it back or stopping its handoff.
SIGNALS = frozenset(
    {"resource_conflict", "non_owner_write", "stale_stage", "psa_crm_date_mismatch"}
)


def _wins(truth_lines: Iterable[str]) -> dict[str, tuple[dt.datetime, str, str]]:
    """CRM ID -> (when the firm won it, its name, the firm's ID) for the deals won now: the
    last version is won, and it was won since the last version that was not."""
    versions: dict[str, list[tuple[dt.datetime, dict[str, Any]]]] = {}
    for line in truth_lines:
        if '"Opportunity"' not in line:
            continue
        fact = json.loads(line)
        crm_id = (fact["payload"].get("xrefs") or {}).get(CRM_KEY)
        if fact["entity_type"] == "Opportunity" and crm_id:
            moment = dt.datetime.fromisoformat(fact["valid_from"])
            versions.setdefault(crm_id, []).append((moment, fact["payload"]))
    out: dict[str, tuple[dt.datetime, str, str]] = {}
    for crm_id, facts in versions.items():
        facts.sort(key=lambda f: f[0])
        won = None
        for moment, payload in facts:
            won = (won or moment) if payload.get("is_won") else None
        if won is not None:
            payload = facts[-1][1]
            out[crm_id] = (won, str(payload.get("name")), str(payload["id"]))
    return out


def _coded_by(store: GoldenStore) -> dict[str, str]:
    """Golden deal -> `handed_off` or `linked`, by who first gave its project a code."""
    out: dict[str, str] = {}
    for version in store.iter_records("Project"):
        opp = version.payload.get("opportunity_id")
        if not opp or not version.payload.get("project_code"):
            continue
        first = next(
            v for v in store.history("Project", version.record_id) if v.payload.get("project_code")
        )
        by_flow = str(first.source_record or "").startswith(HANDOFF_SOURCE)
        if out.get(opp) != "handed_off":
            out[opp] = "handed_off" if by_flow else "linked"
    return out


def _holding(exceptions: ExceptionStore) -> dict[str, list[dict[str, str]]]:
    """Open exceptions by the golden record and the vendor record they are about, and by the
    deal whose handoff they stopped (a customer's missing payment terms is the account's)."""
    out: dict[str, list[dict[str, str]]] = {}
    for exc in exceptions.find(states=["open"]):
        brief = {"category": exc.category, "message": exc.message}
        for key in {exc.record_id, exc.source_id, exc.details.get("opportunity_id")} - {None}:
            out.setdefault(str(key), []).append(brief)
    return out


def handoff_summary(
    store: GoldenStore, truth_lines: Iterable[str], start: dt.date
) -> dict[str, Any]:
    """The handoff's outcome for the deals the firm won since `start`, and for those before."""
    wins = _wins(truth_lines)
    coded = _coded_by(store)
    holding = _holding(ExceptionStore(store.engine))
    since = dt.datetime.combine(start, dt.time(), dt.UTC)
    during: dict[str, list[dict[str, Any]]] = {
        "handed_off": [],
        "linked": [],
        "blocked": [],
        "waiting": [],
    }
    before = {"linked": 0, "handed_off": 0, "blocked": 0, "waiting": 0}
    for crm_id, (won, name, firm_id) in sorted(wins.items(), key=lambda kv: kv[1]):
        found = store.resolve_xref("salesforce", "Opportunity", crm_id)
        golden = found[1] if found else None
        version = store.get("Opportunity", golden) if golden else None
        reasons = [
            r
            for r in holding.get(crm_id, []) + (holding.get(golden, []) if golden else [])
            if r["category"] not in SIGNALS
        ]
        if golden and golden in coded:
            outcome = coded[golden]
        else:
            outcome = "blocked" if reasons else "waiting"
        if won < since:
            before[outcome] += 1
            continue
        deal: dict[str, Any] = {"deal": name, "firm_id": firm_id, "golden_id": golden}
        deal["won"] = won.date().isoformat()
        if outcome == "blocked":
            deal["exceptions"] = reasons
        elif outcome == "waiting":
            won_in_golden = version is not None and version.payload.get("is_won")
            deal["note"] = "no ERP project yet" if won_in_golden else "its win is not in golden"
        during[outcome].append(deal)
    valid = len(during["handed_off"]) + len(during["linked"]) + len(during["waiting"])
    done = len(during["handed_off"]) + len(during["linked"])
    return {
        "won_during_run": sum(len(v) for v in during.values()),
        "valid_won_during_run": valid,
        "handed_off": len(during["handed_off"]),
        "linked": len(during["linked"]),
        "blocked": len(during["blocked"]),
        "waiting": len(during["waiting"]),
        "handed_off_share": round(done / valid, 3) if valid else None,
        "won_before_run": before,
        "deals": during,
    }


def handoff_line(handoff: dict[str, Any]) -> str:
    """One sentence: the firm's wins during the run and what the handoff did with them."""
    share = handoff["handed_off_share"]
    before = handoff["won_before_run"]
    return (
        f"closed-won handoff: {handoff['won_during_run']} deals won during the run, "
        f"{handoff['valid_won_during_run']} valid (no open exception holds them); "
        f"handed off to their ERP {handoff['handed_off']}, already in the ERP (linked) "
        f"{handoff['linked']}, blocked {handoff['blocked']}, waiting {handoff['waiting']}"
        f" ({'n/a' if share is None else f'{share:.0%}'} of the valid ones); won before the "
        f"run: {before['linked']} linked to the firm's own ERP project, {before['blocked']} "
        "blocked"
    )
