"""GET /forecast/held-back: the value open exceptions hold back, per category, read from the
records they hold (here CSV rows refused by an import through the same golden store)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from api_env import ApiEnv
from fastapi.testclient import TestClient

from pssync.onboarding import csv_mapping
from pssync.onboarding.csv_import import CsvImporter, read_rows

DEALS = (
    "opportunity_id,product,account,deal_stage,close_date,close_value,probability\n"
    "H1,GTXPro,,Engaging,2027-01-31,400,50\n"
)


def test_held_back_lists_the_value_per_category(
    env: ApiEnv, client: TestClient, tmp_path: Path
) -> None:
    (tmp_path / "deals.csv").write_text(DEALS)
    headers, rows = read_rows(tmp_path / "deals.csv")
    spec = csv_mapping.spec_from("Opportunity", csv_mapping.guess("Opportunity", headers), headers)
    spec.apply_default_currency("USD")
    CsvImporter(env.ctx.store, env.ctx.exceptions, spec, "Opportunity").run(rows, "deals.csv")

    r = client.get("/api/v1/forecast/held-back", headers=env.auth("viewer"))
    assert r.status_code == 200, r.text
    (line,) = r.json()
    assert line["deals"] == 1 and line["currency"] == "USD"
    assert Decimal(line["open_amount"]) == 400 and Decimal(line["weighted"]) == 200
    assert client.get("/api/v1/forecast/held-back").status_code == 401
