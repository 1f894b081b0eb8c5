"""Governed vs ungoverned sync of the same CRM opportunities (issue 18: a firm's own 8,800 deals
took 494 s governed and 33 s without governance).

A sandbox Salesforce org starts empty and is seeded, as a user's own data, with 85 accounts and
N opportunities (10,000 by default) shaped like the public CRM dataset of the issue: a sixth
with a service category the crosswalk lacks, a tenth without an account, a fifth of the open
ones with a close date long past (stale). Each run syncs Account then Opportunity into a fresh
golden store through the engine, as `pssync sync` does (one worker cycle, page processes one
per core), in a process of its own (the emulator serves from this one):

* governed: the runtime the builder makes (enrichers, identity resolution, the data-quality
  checks, the system-of-record gate);
* ungoverned: the same runtime with no governance stages (translation and validation only).

Both runs happen in the same invocation, alternating (ungoverned, governed, ungoverned,
governed...) so the machine's load moves both alike; the ratio is ungoverned seconds over
governed seconds (1.0: governance is free; the goal is >= 0.3).

    python bench/bench_governed_sync.py [--deals N] [--repeat R] [--page-processes P]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from bench_sync import in_child

from pssync.config.settings import Settings
from pssync.engine.cycle import CycleOptions, run_cycle
from pssync.engine.dbos_app import shutdown
from pssync.engine.stages import Stages
from pssync.engine.worker import start, wait_idle
from pssync.runtime import build_runtime
from pssync.sandbox.up import Sandbox

ACCOUNTS = 85
STAGES = ["Prospecting", "Qualification", "Proposal/Price Quote", "Negotiation/Review"]
CATEGORIES = ["ERP", "CLOUD", "DATA", "TRANS"]
FIRST = ("Acme", "Beta", "Cobalt", "Delta", "Echo")
SECOND = (
    *("Labs", "Retail", "Health", "Energy", "Media", "Foods", "Bank", "Motors", "Travel"),
    *("Telecom", "Logistics", "Games", "Studio", "Farms", "Works", "Air", "Soft"),
)


def seed(sandbox: Sandbox, deals: int) -> None:
    rng = random.Random(18)
    today = dt.date.today()
    names = [f"{w} {s}" for w in FIRST for s in SECOND][:ACCOUNTS]
    accounts = [
        {"Id": f"001{n:012d}AAA", "Name": name, "Industry": "Technology"}
        for n, name in enumerate(names)
    ]
    rows = []
    for n in range(deals):
        won = rng.random() < 0.3
        stale = not won and rng.random() < 0.2
        close = today + dt.timedelta(days=rng.randint(-400, -90) if stale or won else 120)
        rows.append(
            {
                "Id": f"006{n:012d}AAA",
                "Name": f"Deal {n}",
                "AccountId": None if rng.random() < 0.1 else rng.choice(accounts)["Id"],
                "StageName": "Closed Won" if won else rng.choice(STAGES),
                "CloseDate": close.isoformat(),
                "Amount": float(rng.randint(1000, 90000)),
                "Service_Category__c": "GTXPro" if rng.random() < 1 / 6 else rng.choice(CATEGORIES),
            }
        )
    sandbox.emulators["salesforce"].seed({"Account": accounts, "Opportunity": rows})


def config(info: dict[str, Any], db: Path) -> dict[str, Any]:
    creds = info["credentials"]
    return {
        "database_url": f"sqlite:///{db}",
        "connectors": {
            "crm": {
                "type": "salesforce",
                "role": "crm",
                "base_url": creds["instance_url"],
                "client_id": creds["client_id"],
                "client_secret": creds["client_secret"],
                "options": {"ca_file": info["ca_file"]},
            }
        },
    }


def sync(settings_data: dict[str, Any], governed: bool, processes: int) -> dict[str, Any]:
    """One `pssync sync` cycle over Account and Opportunity (in a child process)."""
    settings = Settings(**settings_data)
    runtime = build_runtime(settings)
    runtime.routes = []
    if not governed:
        runtime.stages = Stages()
    start(runtime, settings.database_url, page_processes=processes)
    began = time.perf_counter()
    try:
        options = CycleOptions(systems=["crm"], objects=["Account", "Opportunity"])
        counts = run_cycle(runtime, options).counts()
        wait_idle(60)
        seconds = time.perf_counter() - began
    finally:
        shutdown()
    exceptions = runtime.exceptions.find(states=["open"])
    return {"seconds": seconds, "counts": dict(counts), "exceptions": len(exceptions)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deals", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--page-processes", type=int, default=max(1, os.cpu_count() or 1))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        with Sandbox.start_all(systems=["salesforce"], empty=True, state_dir=base / "sf") as box:
            seed(box, args.deals)
            info = box.describe()["salesforce"]
            runs: dict[str, list[dict[str, Any]]] = {"ungoverned": [], "governed": []}
            for attempt in range(args.repeat):
                for kind in ("ungoverned", "governed"):
                    db = base / f"{kind}-{attempt}.db"
                    out = in_child(sync, config(info, db), kind == "governed", args.page_processes)
                    runs[kind].append(out)
                    print(kind, json.dumps(out), file=sys.stderr, flush=True)
    ungoverned = statistics.median(r["seconds"] for r in runs["ungoverned"])
    governed = statistics.median(r["seconds"] for r in runs["governed"])
    print(
        json.dumps(
            {
                "deals": args.deals,
                "accounts": ACCOUNTS,
                "page_processes": args.page_processes,
                "ungoverned_s": round(ungoverned, 2),
                "governed_s": round(governed, 2),
                "ratio": round(ungoverned / governed, 3),
                "deals_per_s": {
                    "ungoverned": round(args.deals / ungoverned),
                    "governed": round(args.deals / governed),
                },
                "runs": runs,
                "load": os.getloadavg(),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
