"""`pssync forecast --bookings` and `pssync backtest --bookings`: the bookings view a CRM-only
firm forecasts with (no PSA or ERP connected, so no recognised revenue to forecast or score)."""

from __future__ import annotations

import datetime as dt

from rich.table import Table

from pssync.cli.output import console, emit_json
from pssync.forecast.analytics import AnalyticsStore
from pssync.forecast.bookings_forecast import backtest_bookings, bookings_forecast


def crm_only_note() -> str | None:
    """Why this is a CRM-only firm (no PSA or ERP connector in pssync.yaml), or None."""
    from pssync.config import ConfigError, load_settings

    try:
        settings = load_settings()
    except ConfigError:
        return None
    roles = {c.role for c in settings.connectors.values()}
    if roles and not roles & {"psa", "erp"}:
        return "CRM-only (no PSA or ERP connector configured): revenue is bookings-based"
    return None


def print_bookings(
    analytics: AnalyticsStore,
    as_of: dt.date,
    months: int,
    currency: str,
    known_at: dt.datetime | None,
    as_json: bool,
) -> None:
    fc = bookings_forecast(analytics, as_of, months=months, currency=currency, known_at=known_at)
    note = crm_only_note()
    if as_json:
        emit_json({**fc.as_dict(), "mode": note})
        return
    table = Table(title=f"bookings forecast as of {as_of} ({currency})")
    for column in ("close month", "expected", "P10", "P50", "P90"):
        table.add_column(column, justify="left" if column == "close month" else "right")
    for month, band in sorted(fc.by_month.items()):
        table.add_row(
            f"{month:%Y-%m}", *(f"{v:,.2f}" for v in (band.mean, band.p10, band.p50, band.p90))
        )
    new = fc.new_deals
    table.add_row(
        "not yet created",
        f"{new.per_quarter * months / 3:,.2f}",
        "",
        "",
        "",
    )
    console.print(table)
    t = fc.total
    console.print(
        f"next {months} months: expected {t.mean:,.2f} (P10 {t.p10:,.2f}  P50 {t.p50:,.2f}  "
        f"P90 {t.p90:,.2f}); open deals {fc.open_deals.mean:,.2f}, deals not yet created "
        f"{new.per_quarter:,.2f} a quarter (created and won in each of the last "
        f"{len(new.quarters)} quarters){'; ' + new.reason if new.reason else ''}",
        highlight=False,
    )
    if note:
        console.print(note)


def print_bookings_backtest(
    analytics: AnalyticsStore,
    dates: list[dt.date],
    months: int,
    currency: str,
    realised_as_of: dt.date,
    known_now: bool,
    as_json: bool,
) -> None:
    points = backtest_bookings(
        analytics,
        dates,
        months=months,
        currency=currency,
        realised_as_of=realised_as_of,
        known_now=known_now,
    )
    rows = [p.as_dict() for p in points]
    if as_json:
        emit_json({"against": "closed-won value", "months": months, "points": rows})
        return
    table = Table(title=f"bookings backtest: next {months} months vs won value ({currency})")
    columns = ("as_of", "expected", "p10", "p90", "actual_won", "error_share", "inside_band")
    for column in columns:
        table.add_column(column, justify="left" if column == "as_of" else "right")
    for row in rows:
        table.add_row(*(str(row[c]) for c in columns))
    console.print(table)
    inside = sum(bool(r["inside_band"]) for r in rows)
    console.print(f"{inside} of {len(rows)} actuals inside the P10-P90 band")
