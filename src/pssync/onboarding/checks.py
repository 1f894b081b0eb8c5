"""Every data-quality check over the records the golden store already holds: `pssync check`.

Records that arrive by import (JSONL or CSV) pass no sync pipeline, so this runs the same
checks a governed sync runs on each record, over all of them at once:

* `stale_stage`: an open deal whose close date is more than 60 days past;
* `missing_attribute`: an open deal without a service line (the forecast cannot place it);
* `missing_legal_entity`: an account without its contracting entity;
* `duplicate_customer`: accounts that are probably one customer (`governance.duplicates`, with
  the candidates and their scores).

Each finding is raised as the exception a sync would raise for that record (same category, same
fingerprint: one exception, whichever found it first), and every open one the checks no longer
find is resolved, so fixing the data and checking again closes it.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from pssync.governance.duplicates import CustomerProfile, DuplicateMatcher, Match
from pssync.governance.exceptions import ACTIVE, ExceptionStore, NewException
from pssync.store import GoldenStore
from pssync.store.history import utcnow

STALE_AFTER_DAYS = 60
CATEGORIES = ("stale_stage", "missing_attribute", "missing_legal_entity", "duplicate_customer")
CHECKED = {"Opportunity": ("stale_stage", "missing_attribute"), "Account": CATEGORIES[2:]}


@dataclass
class CheckReport:
    records: Counter[str] = field(default_factory=Counter)  # checked, by entity type
    found: Counter[str] = field(default_factory=Counter)  # open findings, by category
    raised: int = 0  # of them new
    resolved: int = 0  # open exceptions the checks no longer find

    def as_dict(self) -> dict[str, Any]:
        return {
            "records": dict(self.records),
            "found": dict(self.found),
            "raised": self.raised,
            "resolved": self.resolved,
        }


def _source(payload: dict[str, Any]) -> tuple[str | None, str | None, str | None]:
    """(system, object, source ID) a record came from: its first cross-reference."""
    for key, value in sorted((payload.get("xrefs") or {}).items()):
        system, _, obj = key.partition(":")
        return system, obj, str(value)
    return None, None, None


def finding(
    category: str, entity_type: str, payload: dict[str, Any], field_name: str, message: str
) -> NewException:
    system, obj, source_id = _source(payload)
    return NewException(
        category=category,
        message=message,
        system=system,
        object=obj,
        source_id=source_id,
        entity_type=entity_type,
        record_id=str(payload["id"]),
        region_id=payload.get("region_id"),
        service_line_id=payload.get("service_line_id"),
        details={"field": field_name, "stage": "govern"},
    )


def deal_findings(deal: dict[str, Any], today: dt.date) -> list[NewException]:
    if deal.get("is_closed"):
        return []
    found = []
    name = deal.get("name") or deal["id"]
    close = dt.date.fromisoformat(str(deal["close_date"]))
    overdue = (today - close).days
    if overdue > STALE_AFTER_DAYS:
        new = finding(
            "stale_stage",
            "Opportunity",
            deal,
            "stage",
            f"{name}: still {deal.get('stage')} but its close date {close} is {overdue} days "
            "past; update the stage or the close date",
        )
        new.details |= {"close_date": str(close), "days_overdue": overdue}
        found.append(new)
    if not deal.get("service_line_id"):
        found.append(
            finding(
                "missing_attribute",
                "Opportunity",
                deal,
                "service_line_id",
                f"{name} has no service line: the forecast cannot place it; map its product or"
                " service category to one",
            )
        )
    return found


def account_findings(
    accounts: list[dict[str, Any]], matcher: DuplicateMatcher | None = None
) -> list[NewException]:
    found = []
    names = {str(a["id"]): a.get("name") or a["id"] for a in accounts}
    for account in accounts:
        if not account.get("legal_entity_id"):
            found.append(
                finding(
                    "missing_legal_entity",
                    "Account",
                    account,
                    "legal_entity_id",
                    f"{names[str(account['id'])]} has no legal entity: set the contracting "
                    "entity on the account",
                )
            )
    profiles = [CustomerProfile.from_account(a) for a in accounts]
    pairs: dict[str, list[Match]] = defaultdict(list)
    for match in (matcher or DuplicateMatcher()).find_pairs(profiles):
        pairs[match.a].append(match)
        pairs[match.b].append(Match(match.b, match.a, match.score, match.reasons))
    by_id = {str(a["id"]): a for a in accounts}
    for record_id, matches in pairs.items():
        matches.sort(key=lambda m: -m.score)
        candidates = [
            {"record_id": m.b, "name": names.get(m.b), "score": m.score, "reasons": m.reasons}
            for m in matches
        ]
        listed = ", ".join(f"{c['name']} ({c['record_id']}, {c['score']:.2f})" for c in candidates)
        new = finding(
            "duplicate_customer",
            "Account",
            by_id[record_id],
            "name",
            f"{names[record_id]} looks like a duplicate of: {listed}; merge them"
            " (`pssync exceptions merge`) or correct the name",
        )
        new.details["candidates"] = candidates
        found.append(new)
    return found


def run_checks(
    store: GoldenStore, exceptions: ExceptionStore, *, today: dt.date | None = None
) -> CheckReport:
    """Run every check over the store's current records; raise and resolve accordingly."""
    today = today or utcnow().date()
    report = CheckReport()
    found: list[NewException] = []
    deals = [v.payload for v in store.iter_records("Opportunity")]
    for deal in deals:
        found += deal_findings(deal, today)
    accounts = [v.payload for v in store.iter_records("Account")]
    found += account_findings(accounts)
    report.records.update({"Opportunity": len(deals), "Account": len(accounts)})
    open_now = _open(exceptions)
    seen = set()
    fresh = []
    for new in found:
        fp = new.fingerprint()
        seen.add(fp)
        report.found[new.category] += 1
        if fp not in open_now:
            fresh.append(new)
    exceptions.raise_many(fresh, actor="check")
    report.raised = len(fresh)
    for fp, ids in open_now.items():
        if fp not in seen:
            for exc_id in ids:
                exceptions.resolve(exc_id, "auto-resolved: the check passes now", "check")
                report.resolved += 1
    return report


def _open(exceptions: ExceptionStore) -> dict[str, list[str]]:
    """Fingerprint -> IDs of the open govern-stage exceptions these checks raise."""
    found: dict[str, list[str]] = defaultdict(list)
    for category in CATEGORIES:
        for exc in exceptions.find(states=[s.value for s in ACTIVE], category=category):
            if exc.details.get("stage") == "govern":
                found[exc.fingerprint].append(exc.id)
    return found
