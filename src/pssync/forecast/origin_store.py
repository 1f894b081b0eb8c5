"""Past origins' forecasts kept in the analytics file, so `pssync forecast` learns once.

The learned forecast runs the bottom-up model as of each of 24 past month ends (origins.py).
An origin's view depends only on the versions in the mirror and on the code that forecast it,
so it is stored in the DuckDB file (`learned_origin_view`) under a key made of both: the
mirror's source, high-water mark, number of versions and sum of their IDs, and a fingerprint
of the forecast package's source. Any sync that brings a row, a reload from another source or
another build of pssync changes the key, and the old rows are dropped. Views are stored as
JSON (floats written with `repr`, so they read back bit for bit): a later run with the same
key gives the same learned forecast, to the cent.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Any

from pssync.forecast.analytics import AnalyticsStore
from pssync.forecast.origins import OriginView

_DDL = (
    "CREATE TABLE IF NOT EXISTS learned_origin_view (key VARCHAR, as_of DATE, view JSON, "
    "PRIMARY KEY (key, as_of))"
)


@cache
def code_fingerprint() -> str:
    """SHA-256 of the forecast package's source: a changed model invalidates stored views."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def state_key(
    analytics: AnalyticsStore, horizon: int, currency: str, known_at: dt.datetime | None
) -> str:
    """What an origin's view depends on, apart from its date."""
    count, total = analytics.con.execute(
        "SELECT count(*), coalesce(sum(version_id), 0) FROM record_versions"
    ).fetchone() or (0, 0)
    parts = [
        analytics._meta("source") or "",
        analytics.high_water_mark.isoformat(),
        str(count),
        str(total),
        str(horizon),
        currency,
        known_at.isoformat() if known_at else "",
        code_fingerprint(),
    ]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _dump(view: OriginView) -> str:
    return json.dumps(
        {
            "forecast": [[g, sl, h, v] for (g, sl, h), v in view.forecast.items()],
            "line_group": view.line_group,
            "deal_group": view.deal_group,
            "run_rate": [[sl, v] for sl, v in view.run_rate.items()],
            "monthly": [[m.isoformat(), sl, v] for (m, sl), v in view.monthly_actuals.items()],
            "exposure": [[g, sl, v] for (g, sl), v in view.exposure.items()],
        }
    )


def _load(as_of: dt.date, text: str) -> OriginView:
    d: dict[str, Any] = json.loads(text)
    return OriginView(
        as_of,
        {(g, sl, h): v for g, sl, h, v in d["forecast"]},
        d["line_group"],
        d["deal_group"],
        {sl: v for sl, v in d["run_rate"]},
        {(dt.date.fromisoformat(m), sl): v for m, sl, v in d["monthly"]},
        None,
        None,
        {(g, sl): v for g, sl, v in d["exposure"]},
    )


class OriginStore:
    """Stored origin views of one mirror state (`key`)."""

    def __init__(self, analytics: AnalyticsStore, key: str) -> None:
        self.con, self.key = analytics.con, key
        self.con.execute(_DDL)
        self.con.execute("DELETE FROM learned_origin_view WHERE key <> ?", [key])

    def get(self, as_of: dt.date) -> OriginView | None:
        row = self.con.execute(
            "SELECT view FROM learned_origin_view WHERE key = ? AND as_of = ?", [self.key, as_of]
        ).fetchone()
        return None if row is None else _load(as_of, str(row[0]))

    def put(self, view: OriginView) -> None:
        self.con.execute(
            "INSERT OR REPLACE INTO learned_origin_view VALUES (?, ?, ?)",
            [self.key, view.as_of, _dump(view)],
        )
