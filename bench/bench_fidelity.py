"""The trust chain measured on a firm: sandbox -> connectors -> engine -> golden store, then the
fidelity check (docs/fidelity.md) against the firm's own truth.

The demo's pipeline runs on a fresh directory (`--size medium` by default): six emulators seeded
with the synthetic firm, the initial sync through the engine, the activity clock for
`--clock-steps` days with a poll after each, the business flows. Then `check_fidelity` compares
the golden store with the firm's truth (regenerated from size, seed, start day and clock steps):
records per entity type (matched, identical, missing, extra, fields that differ), differences
explained by open exceptions or not, exceptions against the planted misalignments (precision and
recall), forecast per component and the six KPIs on the synced store vs on the truth.

With `--deal-desk` the demo's deal desk maps the reps' free-text categories in pssync.yaml and
replays the held deals before the check (`pssync.demo.deal_desk`).

    python bench/bench_fidelity.py [--size medium] [--seed 0] [--clock-steps 1] [--deal-desk]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import Progress

from pssync.demo.firm_truth import firm_truth
from pssync.demo.run import DemoOptions, run_demo
from pssync.fidelity import check_fidelity


def measure(size: str, seed: int, clock_steps: int, deal_desk: bool = False) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-fidelity-") as work:
        started = time.monotonic()
        options = DemoOptions(
            Path(work), size=size, seed=seed, clock_steps=clock_steps, deal_desk=deal_desk
        )
        quiet = Progress(console=Console(quiet=True))
        result = run_demo(options, quiet)
        synced_s = time.monotonic() - started
        truth = firm_truth(size, seed, result.start_day, clock_steps, options.days_per_step)
        started = time.monotonic()
        report = check_fidelity(
            result.store, truth.lines, planted=truth.planted, as_of=result.as_of
        )
        check_s = time.monotonic() - started
        data = report.as_dict(limit=0)
        records = data["records"]
        planted = data["planted"] or {}
        return {
            "firm": size,
            "seed": seed,
            "clock_steps": clock_steps,
            "headline": data["headline"],
            "truth_records": records["truth"],
            "golden_records": records["golden"],
            "identical_share": records["identical_share"],
            "differences": records["differences"],
            "explained": records["explained"],
            "not_recorded": records["not_recorded"],
            "not_recorded_by_any_source": {
                kind: row["count"] for kind, row in data["not_recorded_by_any_source"].items()
            },
            "unexplained": records["unexplained"],
            "entity_types_missing": records["entity_types_missing"],
            "by_type": {
                t: [
                    s["truth"],
                    s["golden"],
                    s["identical"],
                    s["missing"],
                    s["extra"],
                    s["unexplained"],
                ]
                for t, s in records["by_type"].items()
            },
            "top_defects": dict(list(data["unexplained_by_kind"].items())[:8]),
            "planted": planted.get("planted"),
            "recall": planted.get("recall"),
            "precision": planted.get("precision"),
            "forecast": {
                k: [v["synced"], v["truth"], v["relative"]]
                for k, v in (data["forecast"] or {}).items()
                if isinstance(v, dict)
            },
            "kpis": {k: [v["synced"], v["truth"]] for k, v in (data["kpis"] or {}).items()},
            "flows": result.flows,
            "deal_desk": result.deal_desk,
            "acceptance": data["acceptance"],
            "sync_s": round(synced_s, 1),
            "check_s": round(check_s, 1),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="medium")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--clock-steps", type=int, default=1)
    parser.add_argument("--deal-desk", action="store_true", help="map free text, replay")
    args = parser.parse_args()
    print(json.dumps(measure(args.size, args.seed, args.clock_steps, args.deal_desk), default=str))


if __name__ == "__main__":
    main()
