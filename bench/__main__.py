"""`python -m bench [bench_name ...]`: run the benchmarks and rewrite bench/results.md."""

from __future__ import annotations

import sys

from bench.runner import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
