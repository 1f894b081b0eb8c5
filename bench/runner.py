"""Run every `bench/bench_*.py` and rewrite `bench/results.md` with the machine and medians.

Each script runs in its own process (a fresh interpreter, as a user would run it) and is
expected to print one JSON object on its last JSON line; the runner keeps that object and the
wall time. A script that prints no JSON still gets a row (with its exit code) so a broken
benchmark shows up in the table instead of disappearing from it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results.md"
TIMEOUT = 1800.0


def machine() -> dict[str, str]:
    """CPU model, cores, RAM and Python: what a reader needs to compare two tables."""
    cpu = platform.processor() or platform.machine()
    ram = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count() or "?"),
        "ram": ram,
        "python": platform.python_version(),
    }


def scripts() -> list[Path]:
    return sorted(BENCH.glob("bench_*.py"))


def last_json(text: str) -> dict[str, Any] | None:
    for line in reversed(text.splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                value = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(value, dict):
                return value
    return None


def run_script(path: Path) -> dict[str, Any]:
    start = time.monotonic()
    try:
        done = subprocess.run(
            [sys.executable, str(path)],
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            cwd=BENCH.parent,
            check=False,
        )
        code, out, err = done.returncode, done.stdout, done.stderr
    except subprocess.TimeoutExpired:
        code, out, err = -1, "", f"timed out after {TIMEOUT:.0f} s"
    return {
        "script": path.name,
        "exit": code,
        "seconds": round(time.monotonic() - start, 1),
        "result": last_json(out),
        "tail": (err or out).strip().splitlines()[-1:] if code else [],
        "output": out.strip().splitlines()[-20:],
    }


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, (dict, list)):
        return json.dumps(value, default=str)[:120]
    return str(value)


def render(runs: list[dict[str, Any]], info: dict[str, str], when: dt.datetime) -> str:
    lines = [
        "# Benchmarks",
        "",
        f"Run with `python -m bench` on {when:%Y-%m-%d %H:%M} UTC.",
        "",
        f"Machine: {info['cpu']}, {info['cores']} cores, {info['ram']} RAM, "
        f"Python {info['python']}.",
        "",
        "Figures are medians over each script's repeats; ratios compare pssync with a floor "
        "measured in the same run (the same work done the cheapest way).",
        "",
    ]
    for run in runs:
        lines += [f"## {run['script']}", ""]
        if run["result"] is None:
            lines += [
                f"No JSON line (exit {run['exit']}, {run['seconds']} s); last output:",
                "",
                "```text",
                *(run["output"] or run["tail"]),
                "```",
                "",
            ]
            continue
        lines += ["| measure | value |", "|---|---|"]
        lines += [f"| {k} | {_fmt(v)} |" for k, v in run["result"].items()]
        lines += [f"| wall time of the script (s) | {run['seconds']} |", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the named benchmarks (default: all); only a full run rewrites results.md."""
    names = set(argv or [])
    selected = [p for p in scripts() if not names or p.stem in names or p.name in names]
    runs = []
    for path in selected:
        print(f"running {path.name} ...", file=sys.stderr, flush=True)
        runs.append(run_script(path))
        print(json.dumps(runs[-1], default=str), flush=True)
    target = RESULTS if not names else BENCH / "results.partial.md"
    target.write_text(render(runs, machine(), dt.datetime.now(dt.UTC)), encoding="utf-8")
    print(f"wrote {target}", file=sys.stderr)
    return 0 if all(r["exit"] == 0 for r in runs) else 1
