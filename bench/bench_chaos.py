"""The chaos suite's long run: the medium firm, several seeds, SQLite and two PostgreSQL workers.

Same protocol as `tests/chaos` (faults `error_rate=0.2,timeout_rate=0.03,timeout_seconds=3,
drop_rate=0.03` in every system, kill -9 at 5 seeded moments, restart, settle; then every
system read back and compared with a clean run of the same firm and seed). Prints one JSON line
and puts a dated sub-section first under its heading in bench/results.md, keeping the earlier
ones (a table: seed, variant, kills, duplicates, lost, other differences, minutes), noting the
machine and its load.

    python bench/bench_chaos.py [--size medium] [--seeds 7,11]
        [--variants sqlite,postgres-two-workers,sqlite-threads,sqlite-page-processes]
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import importlib.util
import json
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results.md"
HEADING = "## bench_chaos.py"
POSTGRES = os.environ.get("PSSYNC_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def _suite() -> Any:
    """tests/chaos as the package `chaos` (the repository's tests are not installed)."""
    spec = importlib.util.spec_from_file_location(
        "chaos",
        ROOT / "tests" / "chaos" / "__init__.py",
        submodule_search_locations=[str(ROOT / "tests" / "chaos")],
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["chaos"] = module
    spec.loader.exec_module(module)
    return module


def _load() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def one(size: str, seed: int, variant: str, clean: Any, base: Path) -> dict[str, Any]:
    _suite()
    from chaos.firm import postgres_database  # type: ignore[import-not-found]
    from chaos.oracle import compare  # type: ignore[import-not-found]
    from chaos.runs import VARIANTS, run  # type: ignore[import-not-found]

    window = (10.0, 120.0) if size != "small" else (4.0, 30.0)
    load_before = _load()
    scenario = dataclasses.replace(VARIANTS[variant], size=size, seed=seed, kill_window=window)
    if scenario.database == "postgres":
        with postgres_database(POSTGRES) as url:
            scenario = dataclasses.replace(scenario, database=url)
            outcome = run(scenario, base / f"{variant}-{seed}", chaos=True)
    else:
        outcome = run(scenario, base / f"{variant}-{seed}", chaos=True)
    verdict = compare(clean, outcome.end)
    in_targets = [d for d in verdict.differences if d.system != "pssync"]
    return {
        "seed": seed,
        "variant": variant,
        "kills": [k["at"] for k in outcome.kills if k["landed"]],
        **verdict.as_dict(),
        "target_duplicates": sum(d.kind == "duplicate" for d in in_targets),
        "target_lost": sum(d.kind == "lost" for d in in_targets),
        "golden_diffs": len(verdict.differences) - len(in_targets),
        "rounds": len(outcome.rounds),
        "minutes": round(outcome.seconds / 60, 1),
        "load": f"{load_before:.1f}-{_load():.1f}",
        "records": outcome.end.summary()["target_records"],
        "first_differences": [str(d) for d in verdict.differences[:25]],
    }


def table(rows: list[dict[str, Any]], size: str, when: dt.datetime) -> str:
    cpu = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    lines = [
        f"**{when:%Y-%m-%d %H:%M} UTC, bench_chaos.py.** Run on {cpu}, {os.cpu_count()} "
        f"cores, shared with other work (load average per run below). Firm `{size}`; faults "
        "`error_rate=0.2,timeout_rate=0.03,timeout_seconds=3,drop_rate=0.03` in every system; "
        "kill -9 at 5 seeded moments (seconds after each start); compared with a clean run of "
        "the same seed through every system's API (tests/chaos/oracle.py).",
        "",
        "Duplicates and lost count records in the systems pssync writes; golden counts the "
        "golden store's entity types and cross-reference kinds whose totals differ.",
        "",
        "| seed | variant | kills at (s) | duplicates | lost | extra | field diffs | "
        "golden diffs | records read | settling rounds | minutes | load |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['seed']} | {r['variant']} | {', '.join(map(str, r['kills']))} | "
            f"{r['target_duplicates']} | {r['target_lost']} | {r['extra']} | {r['field']} | "
            f"{r['golden_diffs']} | {r['records']} | {r['rounds']} | {r['minutes']} | "
            f"{r['load']} |"
        )
    for r in rows:
        if r["first_differences"]:
            lines += ["", f"Seed {r['seed']} {r['variant']}, first differences:", "", "```text"]
            lines += [*r["first_differences"], "```"]
    return "\n".join(lines) + "\n"


def write_section(text: str, began: str) -> None:
    """Put this run's results first under this benchmark's heading in results.md (appended
    with the heading if there is none); the earlier runs' sub-sections are kept. `began`
    (the run's first line) finds this run's own earlier write, which is replaced."""
    current = RESULTS.read_text(encoding="utf-8")
    own = re.compile(rf"^{re.escape(began)}.*?(?=^\*\*|^## |\Z)", re.S | re.M)
    current = own.sub("", current)
    if f"{HEADING}\n" not in current:
        current = current.rstrip("\n") + f"\n\n{HEADING}\n"
    RESULTS.write_text(current.replace(f"{HEADING}\n", f"{HEADING}\n\n{text}", 1), "utf-8")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", default="medium")
    parser.add_argument("--seeds", default="7,11")
    parser.add_argument(
        "--variants",
        default="sqlite,postgres-two-workers",
        help="names from tests/chaos/runs.py VARIANTS: sqlite (default settings), "
        "postgres-two-workers, sqlite-threads, sqlite-page-processes",
    )
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    _suite()
    from chaos.runs import VARIANTS, Scenario, run

    unknown = sorted(set(args.variants.split(",")) - set(VARIANTS))
    if unknown:
        parser.error(f"unknown variants {unknown}; known: {sorted(VARIANTS)}")
    rows, started = [], dt.datetime.now(dt.UTC)
    with tempfile.TemporaryDirectory(prefix="bench-chaos-") as tmp:
        base = Path(tmp)
        for seed in (int(s) for s in args.seeds.split(",")):
            clean = run(Scenario(size=args.size, seed=seed), base / f"clean-{seed}", False).end
            for variant in args.variants.split(","):
                rows.append(one(args.size, seed, variant, clean, base))
                print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
                if not args.no_write:  # after each run, so a long session keeps what it measured
                    text = table(rows, args.size, started)
                    write_section(text, text.split("\n", 1)[0])
    keys = ("target_duplicates", "target_lost", "extra", "field", "golden_diffs")
    total = {k: sum(r[k] for r in rows) for k in keys}
    print(json.dumps({"size": args.size, "runs": len(rows), **total}))
    return 0 if not any(total.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
