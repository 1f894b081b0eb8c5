"""Stored origin views: a second learned forecast on the same file reuses them, to the cent."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from pssync.forecast import AnalyticsStore, learned
from pssync.forecast.bulkload import load_truth
from pssync.forecast.learned import learned_forecast
from pssync.sandbox.worlds import generate_world

T = dt.date(2025, 6, 30)


def _revenue(day: dt.date) -> str:
    payload = {
        "id": "extra-revenue",
        "recognized_date": day.isoformat(),
        "amount": {"amount": "250000.00", "currency": "USD"},
        "service_line_id": "sl-extra",
    }
    valid = dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC).isoformat()
    return json.dumps({"entity_type": "RevenueEvent", "valid_from": valid, "payload": payload})


def _rows(result: learned.Learned) -> list[tuple[object, ...]]:
    return sorted(
        ((c.month, c.component.value, str(c.dims), c.source, c.revenue, c.reason))
        for c in result.result.revenue
    )


def test_a_second_run_reuses_the_origins_and_gives_the_same_forecast(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "a.duckdb"
    analytics = AnalyticsStore(path)
    truth = list(generate_world(11).truth_lines())
    load_truth(analytics, truth)
    first = learned_forecast(analytics, T, learn_months=6)
    analytics.close()

    calls: list[dt.date] = []
    real = learned.origin_view

    def counting(*args: object, **kwargs: object) -> learned.OriginView:
        calls.append(args[1])  # type: ignore[arg-type]
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(learned, "origin_view", counting)
    again = AnalyticsStore(path)
    second = learned_forecast(again, T, learn_months=6)
    assert calls == [T]  # only the live as-of date was forecast again
    assert _rows(second) == _rows(first)
    assert second.bands == first.bands and second.bias == first.bias

    # a new fact changes the mirror's state: the stored views are dropped, not reused
    load_truth(again, [*truth, _revenue(dt.date(2025, 5, 14))])
    calls.clear()
    changed = learned_forecast(again, T, learn_months=6)
    assert len(calls) == 7
    assert _rows(changed) != _rows(first)
    again.close()
