"""Time generating the synthetic firm (default `medium`) and print records per object.

Usage: python bench/bench_generate.py [size] [seed]
Prints generation time, truth-line rendering time, and the count of every view object.
"""

from __future__ import annotations

import collections
import json
import sys
import time

from pssync.sandbox.firm import generate_firm


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


if __name__ == "__main__":
    main()
