"""Initial load of the firm's Salesforce objects: Bulk API 2.0 beside the REST API, same run.

The Salesforce emulator is seeded with the synthetic firm's Salesforce view (`medium` by
default) and the connector reads each of its objects from scratch (`changes(obj, None)`, what a
first sync does) three ways, each with a fresh connector and the emulator's request counters
cleared:

- ``rest``: every object by SOQL query + queryMore (2,000 records a call);
- ``bulk``: every object through a Bulk API 2.0 query job (create, poll, CSV results of up to
  ``--page-records`` records a call), i.e. ``bulk_threshold: 0`` (no Record Count call);
- ``default``: the shipped setting (``bulk_threshold: 10000``): objects of at least 10,000
  records in bulk, the rest by REST.

API calls are the requests under ``/services/data`` the emulator served (the OAuth login is
counted apart); time is wall time of the reads, translation excluded. Every path describes all
objects in one Composite call. The goal is at most one call per 10,000 records read through Bulk
API 2.0: ``bulk_job_calls_per_10k`` counts the query jobs' own calls (create, polls, results
pages) against the records those jobs read; ``calls_per_10k_records`` is the whole load
(Composite describe, Record Count, REST reads of small objects included). Poll interval is 0 s:
the emulator finishes a query job before its first poll, so the time is that of the calls, not
of waiting.

    python bench/bench_salesforce_bulk.py [--size medium|small] [--page-records 50000]

Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import httpx

from pssync.connectors.salesforce import SalesforceSettings
from pssync.connectors.salesforce.connector import SalesforceConnector
from pssync.sandbox.firm import generate_firm
from pssync.sandbox.salesforce import SalesforceEmulator

MODES: dict[str, int | None] = {"rest": None, "bulk": 0, "default": 10_000}


def requests_seen(emu: SalesforceEmulator) -> dict[str, int]:
    answer = httpx.get(f"{emu.base_url}/__admin/requests", verify=False)
    return dict(answer.raise_for_status().json())


def clear(emu: SalesforceEmulator) -> None:
    httpx.delete(f"{emu.base_url}/__admin/requests", verify=False).raise_for_status()


def connector(emu: SalesforceEmulator, threshold: int | None, page: int) -> SalesforceConnector:
    assert emu.tls is not None
    creds = emu.credentials()
    settings = SalesforceSettings.model_validate(
        {
            "base_url": creds["instance_url"],
            "client_id": creds["client_id"],
            "client_secret": creds["client_secret"],
            "ca_file": str(emu.tls.ca_file),
            "bulk_threshold": threshold,
            "bulk_page_records": page,
            "bulk_poll_seconds": 0.0,
        }
    )
    return SalesforceConnector(settings)


def load(emu: SalesforceEmulator, threshold: int | None, page: int) -> dict[str, Any]:
    conn = connector(emu, threshold, page)
    clear(emu)
    per_object: dict[str, dict[str, Any]] = {}
    total_records, started = 0, time.perf_counter()
    try:
        for obj in conn.objects:
            before = requests_seen(emu)
            t0 = time.perf_counter()
            records = sum(len(p.records) for p in conn.changes(obj, None))
            seconds = time.perf_counter() - t0
            after = requests_seen(emu)
            api = sum(n - before.get(k, 0) for k, n in after.items() if "/services/data/" in k)
            bulk = any("/jobs/query" in k and n > before.get(k, 0) for k, n in after.items())
            per_object[obj] = {
                "records": records,
                "api_calls": api,
                "path": "bulk" if bulk else "rest",
                "seconds": round(seconds, 2),
            }
            total_records += records
    finally:
        conn.close()
    seconds = time.perf_counter() - started
    seen = requests_seen(emu)
    api_calls = sum(n for k, n in seen.items() if "/services/data/" in k)
    job_calls = sum(n for k, n in seen.items() if "/jobs/query" in k)
    bulk_records = sum(o["records"] for o in per_object.values() if o["path"] == "bulk")
    return {
        "records": total_records,
        "api_calls": api_calls,
        "calls_per_10k_records": round(api_calls / total_records * 10_000, 2),
        "bulk_records": bulk_records,
        "bulk_job_calls": job_calls,
        "bulk_job_calls_per_10k": round(job_calls / bulk_records * 10_000, 2)
        if bulk_records
        else None,
        "metadata_calls": sum(
            n for k, n in seen.items() if k.endswith(("/composite", "/describe/"))
        ),
        "record_count_calls": sum(n for k, n in seen.items() if "recordCount" in k),
        "logins": sum(n for k, n in seen.items() if "oauth2/token" in k),
        "seconds": round(seconds, 2),
        "records_per_second": round(total_records / seconds),
        "objects": per_object,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="medium", choices=["small", "medium"])
    parser.add_argument("--page-records", type=int, default=50_000)
    args = parser.parse_args()
    view = generate_firm(args.size).views["salesforce"]
    with SalesforceEmulator() as emu:
        assert isinstance(emu, SalesforceEmulator)
        emu.seed(view)
        results = {
            mode: load(emu, threshold, args.page_records) for mode, threshold in MODES.items()
        }
    bulk_objects = {
        obj: round(o["api_calls"] / o["records"] * 10_000, 2)
        for obj, o in results["bulk"]["objects"].items()
        if o["records"]
    }
    print(
        json.dumps(
            {
                "size": args.size,
                "page_records": args.page_records,
                **results,
                "bulk_calls_per_10k_by_object": bulk_objects,
                "goal_met_by_bulk_jobs": {
                    m: (r["bulk_job_calls_per_10k"] or 99) <= 1.0 for m, r in results.items()
                },
                "goal_met_by_whole_load": {
                    m: r["calls_per_10k_records"] <= 1.0 for m, r in results.items()
                },
            }
        )
    )


if __name__ == "__main__":
    main()
