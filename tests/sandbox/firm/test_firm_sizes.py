"""Sizes are roughly what the issue asks for (medium and large by their parameters only)."""

from __future__ import annotations

import datetime as dt

import pytest

from pssync.sandbox.firm import SIZES, Firm, generate_firm


def test_small_counts(firm: Firm) -> None:
    assert len(firm.ref.regions) == 3
    assert len(firm.ref.service_lines) == 4
    assert len(firm.ref.roles) == 8
    assert len(firm.people) == 30
    assert len(firm.accounts) == 80
    assert 290 <= len(firm.opps) <= 310
    assert 20 <= len(firm.projects) <= 45
    assert 3_000 <= firm.history_rows <= 30_000
    assert firm.ref.history_start == dt.date(2023, 6, 1)


def test_small_has_open_pipeline_after_today(firm: Firm) -> None:
    open_rows = [r for r in firm.views["salesforce"]["Opportunity"] if not r["IsClosed"]]
    assert len(open_rows) >= 10
    assert any(dt.date.fromisoformat(r["CloseDate"]) > firm.today for r in open_rows)


def test_medium_and_large_parameters() -> None:
    medium, large = SIZES["medium"], SIZES["large"]
    assert (medium.regions, medium.service_lines, medium.roles) == (3, 6, 12)
    assert (medium.consultants, medium.accounts, medium.opportunities) == (400, 1_500, 8_000)
    assert medium.history_years == 3
    assert large.opportunities == 10 * medium.opportunities


def test_sales_optimism_crm_probabilities_beat_real_win_rates(firm: Firm) -> None:
    reached: dict[str, list[bool]] = {}
    for opp in firm.opps:
        if not opp.outcome().is_closed or opp.stale:
            continue
        for ev in opp.events:
            if not ev.is_closed:
                reached.setdefault(ev.stage, []).append(opp.outcome().is_won)
    probs = {"Prospecting": 15, "Qualification": 30, "Solution Design": 50, "Proposal": 70}
    for stage, prob in probs.items():
        outcomes = reached[stage]
        assert 100 * sum(outcomes) / len(outcomes) < prob, stage


def test_close_dates_slip(firm: Firm) -> None:
    slipped = [
        o
        for o in firm.opps
        if o.outcome().is_won and o.outcome().close_date > o.events[0].close_date
    ]
    assert len(slipped) >= 5


def test_unknown_size_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown firm size"):
        generate_firm("huge")
