"""The value held back by open exceptions, per category: CSV deals held by an unmapped product
or a missing account are out of the golden data, and counted once each beside the forecast."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from pssync.governance.exceptions import ExceptionStore
from pssync.onboarding import csv_mapping
from pssync.onboarding.csv_import import CsvImporter, read_rows
from pssync.runtime.held_back import held_back_now
from pssync.store import GoldenStore, open_engine

DEALS = (
    "opportunity_id,product,account,deal_stage,close_date,close_value,probability\n"
    "D1,GTXPro,Acme,Engaging,2027-01-31,100,40\n"  # unmapped product
    "D2,GTXPro,,Engaging,2027-01-31,250,50\n"  # unmapped product and no account: counted once
    "D3,GTX Pro,,Engaging,2027-02-28,1000,20\n"  # no account
    "D4,GTX Pro,Acme,Engaging,2027-02-28,7000,60\n"  # lands
)


def test_held_back_value_per_category(tmp_path: Path) -> None:
    store = GoldenStore(open_engine(f"sqlite:///{tmp_path}/pssync.db"))
    exceptions = ExceptionStore(store.engine)
    (tmp_path / "accounts.csv").write_text("account\nAcme\n")
    (tmp_path / "deals.csv").write_text(DEALS)
    for entity, name in (("Account", "accounts.csv"), ("Opportunity", "deals.csv")):
        headers, rows = read_rows(tmp_path / name)
        spec = csv_mapping.spec_from(entity, csv_mapping.guess(entity, headers), headers)
        spec.crosswalks["service_line"] = {"GTX Pro": "sl-gtx"} if entity != "Account" else {}
        spec.apply_default_currency("USD")
        CsvImporter(store, exceptions, spec, entity).run(rows, name)
    assert len(list(store.iter_records("Opportunity"))) == 1

    lines = {line.category: line for line in held_back_now(store, None)}
    assert set(lines) == {"unmapped_value", "missing_attribute"}
    unmapped, missing = lines["unmapped_value"], lines["missing_attribute"]
    assert sum(line.deals for line in lines.values()) == 3  # D2 once, under one category
    assert unmapped.currency == missing.currency == "USD"
    assert unmapped.open_amount + missing.open_amount == Decimal("1350")
    expected_weighted = (
        Decimal("100") * Decimal("0.4") + 250 * Decimal("0.5") + 1000 * Decimal("0.2")
    )
    assert unmapped.weighted + missing.weighted == expected_weighted
