"""Circuit breaker per target system, kept in the database so every worker sees it.

After `threshold` consecutive retriable failures (or one auth failure) the circuit opens and
deliveries to that target wait instead of hammering it; after the cooldown one batch is let
through (half-open) and its success closes the circuit. Quota exhaustion opens it until the
vendor's reset time, so nothing is sent before the quota comes back.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, select

from pssync.engine.sql import upsert
from pssync.engine.tables import engine_circuit
from pssync.store.history import utcnow


class Breaker:
    def __init__(self, engine: Engine, threshold: int, cooldown: float) -> None:
        self.engine, self.threshold, self.cooldown = engine, threshold, cooldown

    def wait_seconds(self, system: str, now: dt.datetime | None = None) -> float:
        """How long deliveries to `system` must wait before trying (0 when closed)."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(engine_circuit.c.open_until).where(engine_circuit.c.system == system)
            ).first()
        until: dt.datetime | None = None if row is None else row.open_until
        if until is None:
            return 0.0
        return max(0.0, (until - (now or utcnow())).total_seconds())

    def state(self, system: str) -> dict[str, object]:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(engine_circuit).where(engine_circuit.c.system == system)
            ).first()
        return {"failures": 0, "open_until": None} if row is None else dict(row._mapping)

    def success(self, system: str) -> None:
        self._set(system, 0, None, None)

    def failure(self, system: str, reason: str) -> float:
        """Count a failure; returns the seconds the circuit is now open (0 if still closed)."""
        failures = int(str(self.state(system)["failures"] or 0)) + 1
        if failures >= self.threshold:
            self._set(system, failures, utcnow() + dt.timedelta(seconds=self.cooldown), reason)
            return self.cooldown
        self._set(system, failures, None, reason)
        return 0.0

    def open_until(self, system: str, until: dt.datetime, reason: str) -> None:
        """Open the circuit until a known moment (quota reset, auth fixed by an operator)."""
        self._set(system, self.threshold, until, reason)

    def _set(
        self, system: str, failures: int, until: dt.datetime | None, reason: str | None
    ) -> None:
        with self.engine.begin() as conn:
            upsert(
                conn,
                engine_circuit,
                [{"system": system, "failures": failures, "open_until": until, "reason": reason}],
                ["failures", "open_until", "reason"],
            )
