"""FileDropEmulator: a legacy ERP whose only interface is folders of CSV files.

pssync drops batches into ``inbound/`` and reads answers from ``ack/`` and ``reject/`` and the
ERP's exports from ``outbound/``. A background thread polls the inbound folder like the ERP's
import job; tests call `process_now()` instead of waiting. The HTTP server the base class runs
only answers ``GET /status`` (folder paths and counts), which `pssync sandbox up` and health
checks use; the files are the interface.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from pssync.sandbox.common.emulator import Emulator
from pssync.sandbox.common.faults import ASGIApp, FaultConfig
from pssync.sandbox.filedrop.firm_view import is_native, to_ledger
from pssync.sandbox.filedrop.layouts import ALL_LAYOUTS
from pssync.sandbox.filedrop.ledger import Ledger
from pssync.sandbox.filedrop.processor import BatchResult, Folders, run_once

# Seed columns that are not values: the ERP's id and the audit stamps the firm's books carry
# (when each record was created and last changed), which the ledger keeps as its own.
SEED_ONLY = frozenset({"erp_id", "created_at", "updated_at"})


class FileDropEmulator(Emulator):
    """Inbound/ack/reject/archive/outbound folders under the state dir, polled by a thread."""

    name = "filedrop"

    def __init__(
        self,
        *,
        state_dir: Path | None = None,
        faults: FaultConfig | None = None,
        port: int | None = None,
        poll_interval: float = 0.5,
    ) -> None:
        self.poll_interval = poll_interval
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._poller: threading.Thread | None = None
        self.processed: list[BatchResult] = []
        super().__init__(state_dir=state_dir, faults=faults, port=port)

    def build_app(self) -> ASGIApp:
        self.folders = Folders(self.state_dir)
        self.folders.create()
        self.ledger = Ledger(self.store)
        app = Starlette(routes=[Route("/status", self._status, methods=["GET"])])
        return app  # type: ignore[return-value]

    def error_body(self, status: int, reason: str) -> tuple[str, bytes]:
        return "application/json", json.dumps({"status": status, "error": reason}).encode()

    def seed(self, view: dict[str, list[dict[str, Any]]]) -> None:
        """Load ``firm.views["filedrop"]``: kind -> rows of CSV-named columns (+ ``erp_id``)."""
        if is_native(view):
            view = to_ledger(view)
        unknown = set(view) - set(ALL_LAYOUTS)
        if unknown:
            raise ValueError(f"filedrop has no record kind(s) {sorted(unknown)}")
        for kind in ALL_LAYOUTS:  # customers before the projects and invoices that name them
            for row in view.get(kind, []):
                values = {k: _text(v) for k, v in row.items() if k not in SEED_ONLY}
                changed, created = _moment(row.get("updated_at")), _moment(row.get("created_at"))
                self.ledger.upsert(
                    kind, values, erp_id=row.get("erp_id"), changed=changed, created=created
                )
        self.export()

    def credentials(self) -> dict[str, str]:
        folders = self.folders
        return {
            "inbound_dir": str(folders.inbound),
            "ack_dir": str(folders.ack),
            "reject_dir": str(folders.reject),
            "archive_dir": str(folders.archive),
            "outbound_dir": str(folders.outbound),
        }

    def process_now(self) -> list[BatchResult]:
        """Import every complete inbound batch now; refresh the exports if anything changed."""
        with self._lock:
            results = run_once(self.folders, self.ledger)
            if any(r.acked for r in results):
                self.ledger.export(self.folders.outbound, dt.datetime.now(dt.UTC).date())
            self.processed += results
            return results

    def export(self, day: dt.date | None = None) -> list[Path]:
        """Write today's (or `day`'s) ``outbound/<kind>_YYYYMMDD.csv`` exports."""
        with self._lock:
            return self.ledger.export(self.folders.outbound, day or dt.datetime.now(dt.UTC).date())

    def start(self) -> FileDropEmulator:
        super().start()
        self._stopping.clear()
        self._poller = threading.Thread(target=self._poll, name="filedrop-poller", daemon=True)
        self._poller.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._poller is not None:
            self._poller.join(timeout=5)
        super().stop()

    def _poll(self) -> None:
        while not self._stopping.wait(self.poll_interval):
            self.process_now()

    async def _status(self, request: Request) -> JSONResponse:
        folders = self.credentials()
        pending = len(list(self.folders.inbound.glob("*.csv")))
        records = {kind: self.ledger.count(kind) for kind in ALL_LAYOUTS}
        return JSONResponse(
            {
                "system": "filedrop",
                "folders": folders,
                "pending_batches": pending,
                "processed_batches": len(self.processed),
                "records": records,
            }
        )


def _moment(value: Any) -> dt.datetime | None:
    """A seeded audit stamp (ISO 8601, UTC when it names no zone), None when absent."""
    if value in (None, ""):
        return None
    moment = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _text(value: Any) -> str:
    """Seed values may be dates, Decimals or numbers; the ERP stores CSV text."""
    if isinstance(value, dt.date):
        return value.isoformat()
    return "" if value is None else str(value)
