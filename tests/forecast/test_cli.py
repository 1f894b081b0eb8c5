"""The forecast, backtest and kpis commands end to end on a SQLite golden store."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from forecast_worked_example import build
from typer.testing import CliRunner

from pssync.cli.forecast_cmds import backtest_command, forecast_command
from pssync.cli.kpis_cmd import kpis_command

app = typer.Typer()
app.command("forecast")(forecast_command)
app.command("backtest")(backtest_command)
app.command("kpis")(kpis_command)
runner = CliRunner()


def _args(tmp_path: Path) -> list[str]:
    build(tmp_path / "g.db")
    return ["--db", f"sqlite:///{tmp_path / 'g.db'}", "--analytics", str(tmp_path / "a.duckdb")]


def test_forecast_json_csv_and_table(tmp_path: Path) -> None:
    common = _args(tmp_path)
    out = runner.invoke(
        app, ["forecast", "--as-of", "2026-06-15", "--horizon", "6", "--json", *common]
    )
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert data["placements"][0]["start"] == "2026-08-01"
    assert sum(float(c["revenue"]) for c in data["cells"]) == float(data["total"])
    assert data["version_id"]

    what_if = runner.invoke(
        app,
        [
            "forecast",
            "--as-of",
            "2026-06-15",
            "--horizon",
            "6",
            "--json",
            "--scenario",
            "hire",
            "--add-capacity",
            "role-arch=40",
            "--no-save",
            *common,
        ],
    )
    assert json.loads(what_if.stdout)["placements"][0]["start"] == "2026-07-01"

    csv_out = runner.invoke(
        app,
        ["forecast", "--as-of", "2026-06-15", "--format", "csv", "--by", "service_line", *common],
    )
    assert csv_out.stdout.splitlines()[0] == "month,service_line,component,revenue,cost,margin"
    table = runner.invoke(app, ["forecast", "--as-of", "2026-06-15", "--band", *common])
    assert table.exit_code == 0 and "P90" in table.stdout
    bad = runner.invoke(app, ["forecast", "--by", "planet", *common])
    assert bad.exit_code == 1


def test_backtest_and_kpis_json(tmp_path: Path) -> None:
    common = _args(tmp_path)
    out = runner.invoke(
        app,
        [
            "backtest",
            "--from",
            "2026-05-01",
            "--to",
            "2026-06-30",
            "--realised",
            "2026-08-31",
            "--json",
            *common,
        ],
    )
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert data["as_of_dates"] == ["2026-05-31", "2026-06-30"]
    assert {r["method"] for r in data["by_method_horizon"]} == {
        "model",
        "bottom_up",
        "crm_pipeline",
        "run_rate",
    }
    kpis = runner.invoke(app, ["kpis", "--as-of", "2026-06-15", "--json", *common])
    assert kpis.exit_code == 0, kpis.output
    assert set(json.loads(kpis.stdout)) >= {
        "conversion_time",
        "project_code_sla",
        "milestone_adherence",
    }


def test_backtest_without_dates_scores_the_last_realised_quarters_of_a_world() -> None:
    out = runner.invoke(app, ["backtest", "--world", "3", "--quarters", "1", "--json"])
    assert out.exit_code == 0, out.output
    card = json.loads(out.stdout)
    assert card["as_of_dates"] == ["2025-12-31"]  # world today 1 Jun 2026: Q1 2026 realised
    assert {r["method"] for r in card["next_quarter"]} == {
        "model",
        "bottom_up",
        "crm_pipeline",
        "run_rate",
    }
    assert {r["component"] for r in card["by_component"]} >= {"backlog", "pipeline"}
    assert card["band_coverage"]["line_quarters"] > 0
    assert card["band_coverage"]["degenerate_bands"] == 0
    assert card["learned"]["factors"]
    assert card["learned"]["firm_bias_factor"] > 0 and card["learned"]["firm_bias_quarters"] > 0
    table = runner.invoke(app, ["backtest", "--world", "3", "--quarters", "1"])
    assert table.exit_code == 0 and "firm-total error" in table.stdout
    assert "for its bias" in " ".join(table.stdout.split())  # however rich wraps it


def test_backtest_says_why_when_nothing_was_recognised(tmp_path: Path) -> None:
    common = ["--db", f"sqlite:///{tmp_path / 'e.db'}", "--analytics", str(tmp_path / "e.duckdb")]
    out = runner.invoke(app, ["backtest", *common])
    assert out.exit_code == 1
    assert "no recognised revenue" in out.output


def test_a_learned_version_recomputes_to_the_same_contributions(tmp_path: Path) -> None:
    from decimal import Decimal

    from pssync.forecast.analytics import AnalyticsStore
    from pssync.forecast.versions import get_version, recompute

    common = _args(tmp_path)
    out = runner.invoke(app, ["forecast", "--as-of", "2026-06-15", "--json", *common])
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert "learned" in data and data["learned"]["next_quarter_bands"]
    analytics = AnalyticsStore(tmp_path / "a.duckdb")
    assert get_version(analytics, data["version_id"]).params["learned"] is True
    again = recompute(analytics, data["version_id"])
    assert str(sum((c.revenue for c in again.revenue), Decimal(0))) == data["total"]
