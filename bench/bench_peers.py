"""pssync's bulk sync with default settings beside dlt, on the same emulators, in the same run.

A user compares pssync with the tool they already have. dlt is the open-source loader a data
engineer would use to pull these APIs into a database (`peer_dlt.py`, in its fastest documented
setup into SQLite). pssync runs as a user runs it: `pssync import` of the firm's reference data
(untimed, as in `pssync demo`), then `pssync sync` with the shipped mappings and default
settings, timed as a whole command. Both read every object pssync's shipped mappings name, from
the medium firm's Kantata and Salesforce emulators by default; the two tools alternate, each
repeat in a fresh process (and, for pssync, a fresh golden store).

Reported per tool: records/s (median), peak RSS of its process tree (sampled every 0.1 s from
/proc, summed over the tree, so page processes count), HTTP calls the emulators served (their
`total` counter; the per-path counters are not added to it), and CPU seconds per record of its
process tree (`children_cpu`), which the load of a shared machine does not stretch. pssync does
more with each record than dlt: canonical translation, validation, identity and reference
resolution, system-of-record ownership, bitemporal history with provenance, a hash-chained audit
row, an inbox that makes every page idempotent under crashes.

    python bench/bench_peers.py [--size medium] [--systems kantata,salesforce] [--repeat 3]
                                [--format parquet]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import yaml

sys.path.insert(0, str(Path(__file__).parent))

import peer_dlt

from pssync.demo.config import sandbox_config
from pssync.demo.run import REFERENCE_TYPES
from pssync.mapping import load_spec
from pssync.sandbox.up import Sandbox


def tree_rss(root: int) -> int:
    """Resident bytes of `root` and every process below it."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, []))
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            continue
    return total


class PeakRss:
    """Samples a process tree's summed RSS until stopped; `peak` is the largest sample."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak = pid, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            self.peak = max(self.peak, tree_rss(self.pid))

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak


def children_cpu() -> float:
    """CPU seconds (user + system) of this process's waited-for children so far: a tool's run
    is the difference across it. Unlike wall time it does not stretch with the load of a shared
    machine (the emulators, in this process, are not counted)."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def http_calls(sandbox: Sandbox) -> int:
    """Requests the emulators served so far: each one's `total`, counted once."""
    total = 0
    for info in sandbox.describe().values():
        base_url = info.get("base_url")
        if not base_url:
            continue
        try:
            seen = httpx.get(f"{base_url}/__admin/requests", timeout=10, verify=False).json()
        except (httpx.HTTPError, ValueError):
            continue
        total += int(seen.get("total", 0)) if isinstance(seen, dict) else 0
    return total


def mapped_objects(config: dict[str, Any]) -> dict[str, list[str]]:
    """Every object each system's shipped mapping names: what both tools load."""
    return {
        name: list(load_spec(Path(block["mapping"])).objects)
        for name, block in config["connectors"].items()
    }


def run_pssync(sandbox: Sandbox, systems: list[str], workdir: Path) -> dict[str, Any]:
    """`pssync import` (untimed) then `pssync sync`, timed as the user would time it."""
    config = sandbox_config(sandbox, workdir)
    config["connectors"] = {k: v for k, v in config["connectors"].items() if k in systems}
    config.pop("flows", None)  # nothing delivered back: this measures moving data in
    (workdir / "pssync.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    reference = workdir / "reference.jsonl"
    lines = [
        line
        for line in sandbox.firm.truth_lines()
        if json.loads(line)["entity_type"] in REFERENCE_TYPES
    ]
    reference.write_text("\n".join(lines) + "\n", encoding="utf-8")
    pssync = [sys.executable, "-c", "from pssync.cli.main import app; app()"]
    subprocess.run(
        [*pssync, "import", str(reference), "--system", "reference"],
        cwd=workdir,
        check=True,
        capture_output=True,
    )
    before, cpu = http_calls(sandbox), children_cpu()
    began = time.perf_counter()
    process = subprocess.Popen(
        [*pssync, "sync", "--json"],
        cwd=workdir,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    sampler = PeakRss(process.pid)
    out, err = process.communicate()
    seconds = time.perf_counter() - began
    peak = sampler.stop()
    if process.returncode not in (0, 2):
        raise RuntimeError(f"pssync sync failed ({process.returncode}): {err[-2000:]}")
    report = json.loads(out[out.index("{") :])
    records = sum(
        sum(v for k, v in row.items() if isinstance(v, int) and k not in ("pages",))
        for row in report["captures"]
    )
    return {
        "seconds": seconds,
        "records": records,
        "peak_rss_mb": peak / 2**20,
        "http_calls": http_calls(sandbox) - before,
        "cpu_s": children_cpu() - cpu,
    }


def run_dlt(
    sandbox: Sandbox, objects: dict[str, list[str]], workdir: Path, file_format: str
) -> dict[str, Any]:
    """dlt in a spawned process of its own (`peer_dlt.run`), with its tree's peak RSS."""
    before, cpu = http_calls(sandbox), children_cpu()
    context = multiprocessing.get_context("spawn")
    queue: Any = context.Queue()
    process = context.Process(
        target=_dlt_child, args=(queue, sandbox.describe(), objects, workdir, file_format)
    )
    process.start()
    assert process.pid is not None
    sampler = PeakRss(process.pid)
    result = queue.get()
    process.join()
    peak = sampler.stop()
    if "error" in result:
        raise RuntimeError(result["error"])
    return result | {
        "peak_rss_mb": peak / 2**20,
        "http_calls": http_calls(sandbox) - before,
        "cpu_s": children_cpu() - cpu,
    }


def _dlt_child(
    queue: Any,
    described: dict[str, Any],
    objects: dict[str, list[str]],
    workdir: Path,
    file_format: str,
) -> None:
    try:
        queue.put(peer_dlt.run(described, objects, workdir, file_format))
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which raises it
        queue.put({"error": repr(exc)})


def summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    rates = [r["records"] / r["seconds"] for r in runs]
    return {
        "records": runs[-1]["records"],
        "records_per_s": round(statistics.median(rates)),
        "runs_s": [round(r["seconds"], 1) for r in runs],
        "cpu_ms_per_record": round(
            statistics.median(1000 * r["cpu_s"] / r["records"] for r in runs), 3
        ),
        "runs_cpu_s": [round(r["cpu_s"], 1) for r in runs],
        "peak_rss_mb": round(max(r["peak_rss_mb"] for r in runs)),
        "http_calls": runs[-1]["http_calls"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", default="medium")
    parser.add_argument("--systems", default="kantata,salesforce")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--format", default="parquet", help="dlt loader file format")
    args = parser.parse_args()
    systems = [s for s in args.systems.split(",") if s]
    ours: list[dict[str, Any]] = []
    theirs: list[dict[str, Any]] = []
    with (
        tempfile.TemporaryDirectory() as tmp,
        Sandbox.start_all(args.size, 0, systems=systems, state_dir=Path(tmp) / "emu") as sandbox,
    ):
        config = sandbox_config(sandbox, Path(tmp))
        config["connectors"] = {k: v for k, v in config["connectors"].items() if k in systems}
        objects = mapped_objects(config)
        for i in range(args.repeat):
            for tool in ("dlt", "pssync") if i % 2 == 0 else ("pssync", "dlt"):
                workdir = Path(tmp) / f"{tool}-{i}"
                workdir.mkdir()
                if tool == "dlt":
                    theirs.append(run_dlt(sandbox, objects, workdir, args.format))
                else:
                    ours.append(run_pssync(sandbox, systems, workdir))
    pssync, dlt = summary(ours), summary(theirs)
    print(
        json.dumps(
            {
                "firm": args.size,
                "objects": objects,
                "pssync_default_settings": pssync,
                f"dlt_{args.format}_merge_sqlite": dlt,
                "ratio_records_per_s": round(pssync["records_per_s"] / dlt["records_per_s"], 3),
                "ratio_records_per_cpu_s": round(
                    dlt["cpu_ms_per_record"] / pssync["cpu_ms_per_record"], 3
                ),
                "goal": "pssync >= 0.5x dlt's records/s",
                "load_avg_1m": round(os.getloadavg()[0], 1),
            }
        )
    )


if __name__ == "__main__":
    main()
