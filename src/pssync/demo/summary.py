"""What the demo tells the user: one JSON-able dict, and the same as Rich tables.

The dict is the contract of `pssync demo --json` (tests read it): `systems` (records the
engine read per system, by outcome, plus cross-references held), `exceptions` (open ones by
category and owner), `forecast` (total and P10/P50/P90 by quarter), `kpis`, `live` (clock
steps), `store` (records per entity type), `fidelity` (the golden store against the firm's own
truth: records identical, differences and the exceptions that explain them, exceptions vs the
planted misalignments, forecast and KPIs on both; see docs/fidelity.md) and `timings` (seconds
since start, per step).
"""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal
from typing import Any

from rich.console import Console
from rich.table import Table

from pssync.demo.firm_truth import FirmTruth, firm_truth, write_truth
from pssync.demo.handoffs import handoff_line, handoff_summary
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


def flow_summary(
    flows: dict[str, Any], store: GoldenStore, truth: FirmTruth, start: dt.date
) -> dict[str, Any]:
    """The workflows the flows ran, plus what they left in golden: the PSA drafts made from
    deals, the projects the handoff coded in the ERP, and (`handoff`) the deals the firm won
    during the run, handed off, linked or blocked with their exception (`demo.handoffs`)."""
    from pssync.flows.opportunity_to_project import draft_project_id

    drafted = handed_off = 0
    coded: set[str] = set()
    for version in store.iter_records("Project"):
        project = version.payload
        opp = project.get("opportunity_id")
        if opp and project.get("project_code"):
            coded.add(opp)
        if opp and project["id"] == draft_project_id(opp):
            drafted += 1
            handed_off += bool(project.get("project_code"))
    won = {v.record_id for v in store.iter_records("Opportunity") if v.payload.get("is_won")}
    return {
        **flows,
        "draft_projects": drafted,
        "handed_off_projects": handed_off,
        "won_deals": len(won),
        "won_deals_with_erp_project": len(won & coded),
        "handoff": handoff_summary(store, truth.lines, start),
    }


def run_truth(result: DemoResult) -> FirmTruth:
    """The firm the sandbox served, rebuilt from the run's size, seed, start day and clock
    steps (deterministic)."""
    options = result.options
    return firm_truth(
        options.size, options.seed, result.start_day, options.clock_steps, options.days_per_step
    )


def fidelity_summary(result: DemoResult, store: GoldenStore, truth: FirmTruth) -> dict[str, Any]:
    """The fidelity check of this run against the firm the sandbox served.

    The firm's truth and answer key are left next to the state as `pssync-truth.jsonl` and
    `pssync-planted.jsonl`, so `pssync fidelity --against pssync-truth.jsonl` repeats this."""
    from pssync.fidelity import check_fidelity

    options = result.options
    truth_path, _ = write_truth(truth, options.workdir)
    report = check_fidelity(store, truth.lines, planted=truth.planted, as_of=result.as_of)
    full = report.as_dict(limit=5)
    planted = full["planted"] or {}
    records = full["records"]
    return {
        "headline": full["headline"],
        "truth_file": str(truth_path),
        "records": {
            k: records[k]
            for k in ("truth", "golden", "identical", "identical_share", "differences")
        }
        | {
            "explained": records["explained"],
            "not_recorded": records["not_recorded"],
            "unexplained": records["unexplained"],
            "entity_types_missing": records["entity_types_missing"],
        },
        "explained_by_category": full["explained_by_category"],
        "not_recorded_by_any_source": full["not_recorded_by_any_source"],
        "unexplained_by_kind": dict(list(full["unexplained_by_kind"].items())[:10]),
        "planted": {k: planted.get(k) for k in ("planted", "detected", "recall", "precision")},
        "forecast": full["forecast"],
        "kpis": full["kpis"],
        "acceptance": full["acceptance"],
    }


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
    started = time.monotonic()
    truth = run_truth(result)
    fidelity = fidelity_summary(result, store, truth)
    result.timings["fidelity_check"] = time.monotonic() - started
    summary: dict[str, Any] = _plain(
        {
            "as_of": result.as_of,
            "firm": {"size": result.options.size, "seed": result.options.seed},
            "systems": systems,
            "live": result.live,
            "flows": flow_summary(result.flows, store, truth, result.start_day),
            "deal_desk": result.deal_desk,
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
            "fidelity": fidelity,
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
        f"handed off to the ERP {flows['handed_off_projects']}; won deals with a coded ERP "
        f"project {flows['won_deals_with_erp_project']} of {flows['won_deals']}"
    )
    console.print(handoff_line(flows["handoff"]), highlight=False)
    for deal in flows["handoff"]["deals"]["blocked"]:
        why = "; ".join(f"{e['category']}: {e['message']}" for e in deal["exceptions"])
        console.print(f"  blocked: {deal['deal']} (won {deal['won']}): {why}", highlight=False)
    desk = summary.get("deal_desk") or {}
    if desk:
        console.print(
            f"deal desk: {len(desk['mapped_values'])} free-text categories mapped in "
            f"pssync.yaml (crosswalks.service_line); {desk['resolved']} of {desk['held']} held "
            f"deals replayed, {desk['still_open']} still held",
            highlight=False,
        )
    fidelity = summary["fidelity"]
    planted = fidelity["planted"]
    console.print(
        f"[bold]{fidelity['headline']}[/bold]; exceptions vs planted misalignments: "
        f"recall {planted['recall']}, precision {planted['precision']} "
        f"(`pssync fidelity --against {fidelity['truth_file']}` for every difference)",
        highlight=False,
    )
    steps = ", ".join(f"{s['day']}: {s['captured']} captured" for s in summary["live"])
    console.print(f"live changes: {steps or 'none'}")
    console.print(
        f"forecast version {fc['version_id']}; total {_money(fc['total'])} {fc['currency']}"
    )
    console.print(f"time to summary: {summary['timings'].get('summary', 0):.1f} s")
