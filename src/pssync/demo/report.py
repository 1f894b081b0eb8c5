"""A self-contained HTML report of one demo run: opens offline, from a mail or a file share.

Everything is inline: the CSS, the data, and plotly.js itself (read from the plotly Python
package, so the page never fetches a script from a CDN). Charts are built in the browser from
the embedded summary; the tables are plain HTML so the numbers read without JavaScript too.
"""

from __future__ import annotations

import html
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from pssync.demo.handoffs import handoff_line
from pssync.demo.run import DemoResult

CSS = """
body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:1100px;color:#1d2733}
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #dde}
table{border-collapse:collapse;margin:.5rem 0}
td,th{padding:.25rem .75rem;border-bottom:1px solid #eee}
th{text-align:left;background:#f5f7fa}td.n{text-align:right;font-variant-numeric:tabular-nums}
.muted{color:#667}.chart{height:380px}
"""


def _cell(value: Any) -> str:
    text = str(value)
    try:
        number = Decimal(text)
    except ArithmeticError:
        return f"<td>{html.escape(text)}</td>"
    shown = f"{number:,.0f}" if abs(number) >= 1000 else text
    return f'<td class="n">{html.escape(shown)}</td>'


def table(headers: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(_cell(v) for v in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def monthly_series(result: DemoResult) -> list[dict[str, Any]]:
    """Revenue per month and component, for the stacked chart."""
    out: dict[tuple[str, str], Decimal] = {}
    for c in result.outlook.result.revenue:
        key = (str(c.month), c.component.value)
        out[key] = out.get(key, Decimal(0)) + c.revenue
    return [
        {"month": m, "component": comp, "revenue": str(v)} for (m, comp), v in sorted(out.items())
    ]


SCRIPT = """
const data = JSON.parse(document.getElementById('pssync-data').textContent);
const comps = [...new Set(data.monthly.map(r => r.component))];
Plotly.newPlot('monthly', comps.map(c => {
  const rows = data.monthly.filter(r => r.component === c);
  return {type: 'bar', name: c.replaceAll('_', ' '), x: rows.map(r => r.month),
          y: rows.map(r => Number(r.revenue))};
}), {barmode: 'stack', title: 'Revenue by month and component'}, {displaylogo: false});
const q = data.summary.forecast.quarters;
Plotly.newPlot('quarters', [
  {type: 'bar', name: 'forecast', x: q.map(r => r.quarter), y: q.map(r => Number(r.forecast))},
  {type: 'scatter', mode: 'markers', name: 'P50', x: q.map(r => r.quarter),
   y: q.map(r => Number(r.p50)),
   error_y: {type: 'data', symmetric: false,
             array: q.map(r => Number(r.p90) - Number(r.p50)),
             arrayminus: q.map(r => Number(r.p50) - Number(r.p10))}}
], {title: 'Forecast by quarter with its P10-P90 band'}, {displaylogo: false});
"""


def fidelity_section(summary: dict[str, Any]) -> str:
    """The golden store against the firm's truth: the headline, then forecast, KPIs,
    exceptions vs the planted misalignments and the flows' handoffs, as plain tables."""
    fid = summary.get("fidelity")
    if not fid:
        return ""
    forecast = [
        [name, row["synced"], row["truth"], row["relative"], row["within_1pct"]]
        for name, row in (fid["forecast"] or {}).items()
        if isinstance(row, dict)
    ]
    kpis = [
        [name, row["synced"], row["truth"], row["unit"], row["within_tolerance"]]
        for name, row in (fid["kpis"] or {}).items()
    ]
    defects = [[kind, n] for kind, n in fid["unexplained_by_kind"].items()]
    apart = [
        [kind, row["count"], row["why"]] for kind, row in fid["not_recorded_by_any_source"].items()
    ]
    planted = fid["planted"]
    flows = summary["flows"]
    return f"""<h2>Golden store vs the firm</h2>
<p><strong>{html.escape(fid["headline"])}</strong>. Exceptions against the planted
misalignments: recall {planted["recall"]} ({planted["detected"]} of {planted["planted"]}),
precision {planted["precision"]}. Won deals with a coded ERP project:
{flows["won_deals_with_erp_project"]} of {flows["won_deals"]}; projects handed off by the flow:
{flows["handed_off_projects"]}. {html.escape(handoff_line(flows["handoff"]))}.
Entity types of the firm missing from the golden store:
{html.escape(", ".join(fid["records"]["entity_types_missing"]) or "none")}.</p>
{table(["forecast component", "synced", "truth", "relative difference", "within 1%"], forecast)}
{table(["KPI", "synced", "truth", "unit", "within tolerance"], kpis)}
<p class="muted">Largest groups of unexplained differences (defects);
<code>pssync fidelity --against {html.escape(fid["truth_file"])}</code> names each.</p>
{table(["entity, kind, field", "count"], defects)}
<p class="muted">Not recorded by any source system (neither defects nor exceptions: the firm's
truth holds a value no system of the firm does).</p>
{table(["entity, kind, field", "count", "why"], apart)}
"""


def render(summary: dict[str, Any], result: DemoResult) -> str:
    from plotly.offline import get_plotlyjs  # type: ignore[import-untyped]

    fc = summary["forecast"]
    systems = [
        [name, info["records"], info["xrefs"], ", ".join(sorted(info["by_object"]))]
        for name, info in summary["systems"].items()
    ]
    exceptions = [[e["category"], e["owner"], e["count"]] for e in summary["exceptions"]]
    quarters = [[q["quarter"], q["forecast"], q["p10"], q["p50"], q["p90"]] for q in fc["quarters"]]
    kpis = [[name, json.dumps(value, default=str)] for name, value in summary["kpis"].items()]
    data = json.dumps({"summary": summary, "monthly": monthly_series(result)}, default=str)
    data = data.replace("</", "<\\/")  # keep the JSON from closing its script element
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>pssync demo report</title>
<style>{CSS}</style><script>{get_plotlyjs()}</script></head>
<body>
<h1>pssync demo report</h1>
<p class="muted">Synthetic {html.escape(summary["firm"]["size"])} firm synced from the sandbox
systems; forecast as of {html.escape(fc["as_of"])} in {html.escape(fc["currency"])},
version {html.escape(fc["version_id"])}.</p>
<h2>Forecast</h2><div id="monthly" class="chart"></div><div id="quarters" class="chart"></div>
{table(["quarter", "forecast", "P10", "P50", "P90"], quarters)}
<h2>Records synced per system</h2>
{table(["system", "records read", "xrefs held", "objects"], systems)}
<h2>Open exceptions by category and owner</h2>
{table(["category", "owner", "count"], exceptions)}
<h2>KPIs</h2>{table(["KPI", "value"], kpis)}
{fidelity_section(summary)}
<script type="application/json" id="pssync-data">{data}</script>
<script>{SCRIPT}</script>
</body></html>
"""


def write_report(summary: dict[str, Any], result: DemoResult, path: Path) -> Path:
    path.write_text(render(summary, result), encoding="utf-8")
    return path
