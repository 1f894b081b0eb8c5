"""Figure specs built on the server: the KPI sparkline plots what the card says."""

from __future__ import annotations

import datetime as dt

from pssync.api.schemas.surfaces import KpiPoint
from pssync.web.charts import sparkline


def test_sparkline_plots_percent_as_percent_and_says_the_card_value_on_hover() -> None:
    points = [
        KpiPoint(as_of=dt.date(2026, 10, 31), value=0.5, display="50%"),
        KpiPoint(as_of=dt.date(2026, 11, 30), value=0.8333, display="83%"),
    ]
    figure = sparkline(points, "percent")
    trace = figure["data"][0]
    assert trace["x"] == ["2026-10-31", "2026-11-30"] and trace["y"] == [50.0, 83.3]
    assert trace["text"] == ["50%", "83%"] and figure["layout"]["yaxis"]["ticksuffix"] == "%"
    days = sparkline([KpiPoint(as_of=dt.date(2026, 11, 30), value=4.5, display="4.5 days")], "days")
    assert days["data"][0]["y"] == [4.5] and days["layout"]["yaxis"]["ticksuffix"] == " d"
