"""Precision and recall of the duplicate-customer matcher on the generator's planted duplicates.

For each firm size, every system's customer records (Salesforce accounts, NetSuite customers,
SAP business partners, file-drop customers) are profiled the way the governance hook profiles a
canonical account, the matcher finds probable duplicate pairs per system, and the pairs are
compared with `firm.duplicate_pairs` (the answer key). Precision matters as much as recall:
company names share roots across sectors ("Acme Logistics" vs "Acme Health").

    python bench/bench_duplicates.py            # small and medium
    python bench/bench_duplicates.py small

Prints the numbers; bench/results.md is edited by hand.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from pssync.governance.duplicates import CustomerProfile, DuplicateMatcher
from pssync.sandbox.firm import generate_firm

# (system, object) -> how to read a customer record: id, name, domain, tax ID, postcode, country
READERS: dict[tuple[str, str], tuple[str, str, str | None]] = {
    ("salesforce", "Account"): ("Id", "Name", "Website"),
    ("netsuite", "customer"): ("id", "companyName", "url"),
    ("sap_s4", "A_BusinessPartner"): ("BusinessPartner", "OrganizationBPName1", None),
    ("filedrop", "customers"): ("customer_no", "name", None),
}


def profiles(rows: list[dict[str, Any]], key: tuple[str, str, str | None]) -> list[CustomerProfile]:
    id_field, name_field, domain_field = key
    out = []
    for row in rows:
        record_id = str(row.get(id_field) or row.get("id") or "")
        name = row.get(name_field) or row.get("name") or row.get("customer_name")
        account = {"id": record_id, "name": name}
        if domain_field and row.get(domain_field):
            account["domain"] = row[domain_field]
        out.append(CustomerProfile.from_account(account))
    return out


def measure(size: str, matcher: DuplicateMatcher) -> dict[str, Any]:
    started = time.perf_counter()
    firm = generate_firm(size)
    generated = time.perf_counter() - started
    truth = {
        (p.system, p.object, *sorted((p.record_id_a, p.record_id_b))) for p in firm.duplicate_pairs
    }
    found: set[tuple[str, ...]] = set()
    records = 0
    started = time.perf_counter()
    for (system, obj), key in READERS.items():
        rows = firm.views.get(system, {}).get(obj, [])
        records += len(rows)
        for match in matcher.find_pairs(profiles(rows, key)):
            found.add((system, obj, *sorted((match.a, match.b))))
    elapsed = time.perf_counter() - started
    hits = len(found & truth)
    return {
        "size": size,
        "records": records,
        "planted": len(truth),
        "found": len(found),
        "true_positives": hits,
        "precision": hits / len(found) if found else 1.0,
        "recall": hits / len(truth) if truth else 1.0,
        "match_seconds": round(elapsed, 3),
        "generate_seconds": round(generated, 1),
        "false_positives": sorted(found - truth)[:5],
        "missed": sorted(truth - found)[:5],
    }


def main(sizes: list[str]) -> None:
    matcher = DuplicateMatcher()
    print(f"threshold {matcher.threshold}, block cutoff {matcher.block_cutoff}")
    summary: dict[str, Any] = {"goal": "precision and recall >= 0.95 on medium"}
    for size in sizes:
        r = measure(size, matcher)
        summary.update(
            {
                f"{size}_precision": round(r["precision"], 3),
                f"{size}_recall": round(r["recall"], 3),
                f"{size}_planted_pairs": r["planted"],
                f"{size}_match_s": r["match_seconds"],
            }
        )
        print(
            f"{r['size']:>6}: {r['records']} customer records, {r['planted']} planted pairs, "
            f"{r['found']} found, precision {r['precision']:.3f}, recall {r['recall']:.3f}, "
            f"matching {r['match_seconds']}s (generation {r['generate_seconds']}s)"
        )
        for label in ("false_positives", "missed"):
            if r[label]:
                print(f"        {label.replace('_', ' ')}: {r[label]}")
    if "medium_precision" in summary:
        summary["goal_met"] = min(summary["medium_precision"], summary["medium_recall"]) >= 0.95
    print(json.dumps(summary))


if __name__ == "__main__":
    main(sys.argv[1:] or ["small", "medium"])
