"""Time generating the synthetic firm (default `medium`) and print records per object.

Usage: python bench/bench_generate.py [size] [seed]
Prints generation time, truth-line rendering time, and the count of every view object.
"""

from __future__ import annotations

import collections
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from pssync.sandbox.firm import Firm, generate_firm
from pssync.sandbox.up import emulator_class


def main() -> None:
    size = sys.argv[1] if len(sys.argv) > 1 else "medium"
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 7
    started = time.perf_counter()
    firm = generate_firm(size, seed=seed)
    generated = time.perf_counter() - started
    started = time.perf_counter()
    entity_counts: collections.Counter[str] = collections.Counter()
    for line in firm.truth_lines():
        entity_counts[json.loads(line)["entity_type"]] += 1
    rendered = time.perf_counter() - started
    print(f"size={size} seed={seed}")
    print(f"generate_firm: {generated:.1f} s")
    total = sum(entity_counts.values())
    print(f"truth_lines (render + parse back): {rendered:.1f} s, {total} lines")
    for entity, count in sorted(entity_counts.items()):
        print(f"  truth {entity:<18} {count:>9}")
    for system, objects in sorted(firm.views.items()):
        for name, records in sorted(objects.items()):
            print(f"  view  {system + '/' + name:<40} {len(records):>9}")
    kinds = collections.Counter(m.kind for m in firm.misalignments)
    for kind, count in sorted(kinds.items()):
        print(f"  misalignment {kind:<28} {count:>6}")
    print(f"  duplicate pairs {len(firm.duplicate_pairs)}")
    seeded = seed_all(firm.views)
    for system, seconds in seeded.items():
        print(f"  seed  {system:<12} {seconds:>7.1f} s")
    print(
        json.dumps(
            {
                "size": size,
                "generate_s": round(generated, 1),
                "seed_s": round(sum(seeded.values()), 1),
                "generate_and_seed_s": round(generated + sum(seeded.values()), 1),
                "seed_s_by_system": {k: round(v, 1) for k, v in seeded.items()},
                "truth_lines": total,
                "time_entries": entity_counts["TimeEntry"],
                "opportunities": firm_count(firm, "salesforce", "Opportunity"),
            }
        )
    )


def firm_count(firm: Firm, system: str, obj: str) -> int:
    return len(firm.views.get(system, {}).get(obj, []))


def seed_all(views: dict[str, dict[str, list[dict[str, Any]]]]) -> dict[str, float]:
    """Seconds to load each system's view into its emulator's SQLite state (not serving)."""
    timings = {}
    for system, view in sorted(views.items()):
        with tempfile.TemporaryDirectory() as tmp:
            emulator = emulator_class(system)(state_dir=Path(tmp))
            started = time.perf_counter()
            emulator.seed(view)
            timings[system] = time.perf_counter() - started
    return timings


if __name__ == "__main__":
    main()
