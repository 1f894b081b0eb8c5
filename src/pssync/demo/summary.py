"""What the demo tells the user: one JSON-able dict, and the same as Rich tables.

The dict is the contract of `pssync demo --json` (tests read it): `systems` (records the
engine read per system, by outcome, plus cross-references held), `exceptions` (open ones by
category and owner), `forecast` (total and P10/P50/P90 by quarter), `kpis`, `live` (clock
steps), `store` (records per entity type) and `timings` (seconds since start, per step).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from rich.console import Console
from rich.table import Table

from pssync.demo.run import DemoResult
from pssync.store import GoldenStore
from pssync.store.summary import store_summary


def _plain(value: Any) -> Any:
    """Decimals and dates as strings (exact, and what the other `--json` commands print)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (Decimal, dt.date)):
        return str(value)
    return value


def flow_summary(flows: dict[str, Any], store: GoldenStore) -> dict[str, Any]:
    """The workflows the flows ran, plus what they left in golden: the PSA drafts made from
    deals, and the projects the handoff coded in the ERP."""
    from pssync.flows.opportunity_to_project import draft_project_id

    drafted = handed_off = 0
    for version in store.iter_records("Project"):
        project = version.payload
        opp = project.get("opportunity_id")
        if opp and project["id"] == draft_project_id(opp):
            drafted += 1
            handed_off += bool(project.get("project_code"))
    return {**flows, "draft_projects": drafted, "handed_off_projects": handed_off}


def build_summary(result: DemoResult, store: GoldenStore) -> dict[str, Any]:
    held = store_summary(store)
    xrefs = held["xrefs_by_system"]
    systems = {
        system: {
            "records": sum(sum(by.values()) for by in objects.values()),
            "by_object": objects,
            "xrefs": xrefs.get(system, 0),
        }
        for system, objects in sorted(result.initial.counts.items())
    }
    for step in result.live:
        step["day"] = str(step["day"])
    outlook = result.outlook
    summary: dict[str, Any] = _plain(
        {
            "as_of": result.as_of,
            "firm": {"size": result.options.size, "seed": result.options.seed},
            "systems": systems,
            "live": result.live,
            "flows": flow_summary(result.flows, store),
            "exceptions": result.exceptions,
            "forecast": {
                "as_of": outlook.as_of,
                "currency": outlook.currency,
                "version_id": outlook.version_id,
                "total": outlook.total,
                "quarters": outlook.quarters,
                "example_opportunity": next(iter(sorted(outlook.result.placements)), None),
            },
            "kpis": outlook.kpis,
            "store": {"records": held["records"], "total_records": held["total_records"]},
            "timings": {k: round(v, 1) for k, v in result.timings.items()},
        }
    )
    return summary


def _money(value: str) -> str:
    return f"{Decimal(value):,.0f}"


def print_summary(summary: dict[str, Any], console: Console) -> None:
    systems = Table(title="records synced per system")
    for column in ("system", "records", "applied", "rejected", "other", "xrefs"):
        systems.add_column(column, justify="left" if column == "system" else "right")
    for name, info in summary["systems"].items():
        outcomes: dict[str, int] = {}
        for by in info["by_object"].values():
            for status, n in by.items():
                outcomes[status] = outcomes.get(status, 0) + n
        applied, rejected = outcomes.pop("applied", 0), outcomes.pop("rejected", 0)
        systems.add_row(
            name,
            str(info["records"]),
            str(applied),
            str(rejected),
            str(sum(outcomes.values())),
            str(info["xrefs"]),
        )
    console.print(systems)
    exceptions = Table(title="open exceptions by category and owner")
    for column in ("category", "owner", "count"):
        exceptions.add_column(column, justify="right" if column == "count" else "left")
    for row in summary["exceptions"]:
        exceptions.add_row(row["category"], row["owner"], str(row["count"]))
    console.print(exceptions)
    fc = summary["forecast"]
    quarters = Table(title=f"revenue forecast as of {fc['as_of']} ({fc['currency']})")
    for column in ("quarter", "forecast", "P10", "P50", "P90"):
        quarters.add_column(column, justify="left" if column == "quarter" else "right")
    for q in fc["quarters"]:
        quarters.add_row(
            q["quarter"],
            _money(q["forecast"]),
            _money(q["p10"]),
            _money(q["p50"]),
            _money(q["p90"]),
        )
    console.print(quarters)
    kpis = Table(title="KPIs")
    kpis.add_column("KPI")
    kpis.add_column("value")
    for name, values in summary["kpis"].items():
        shown = (
            ", ".join(f"{k}={v}" for k, v in values.items())
            if isinstance(values, dict)
            else str(values)
        )
        kpis.add_row(name.replace("_", " "), shown)
    console.print(kpis)
    flows = summary["flows"]
    started = ", ".join(f"{k} {v}" for k, v in sorted(flows["started"].items())) or "none"
    console.print(
        f"flows: workflows started: {started}; draft projects {flows['draft_projects']}, "
        f"handed off to the ERP {flows['handed_off_projects']}"
    )
    steps = ", ".join(f"{s['day']}: {s['captured']} captured" for s in summary["live"])
    console.print(f"live changes: {steps or 'none'}")
    console.print(
        f"forecast version {fc['version_id']}; total {_money(fc['total'])} {fc['currency']}"
    )
    console.print(f"time to summary: {summary['timings'].get('summary', 0):.1f} s")
