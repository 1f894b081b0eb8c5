"""Initial sync and live polls of the sandbox through the engine, with progress callbacks.

This is what `pssync sync` does, object by object, with two additions the demo needs: a
callback per page (for the progress bars) and an optional cap on pages per object. The cap
exists only for fast test runs: the cursor is saved after every page, so what the cap leaves
unread is simply picked up by the next poll, exactly as after an interrupted sync.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from pssync.engine.capture import Poller, apply_page, serialise
from pssync.engine.runtime import Runtime
from pssync.engine.setup import capturable

OnPage = Callable[[str, str, int], None]


class CappedPoller(Poller):
    """A poller that stops after `max_pages` pages of changes (None: until caught up)."""

    def __init__(
        self, runtime: Runtime, system: str, obj: str, max_pages: int | None, on_page: OnPage
    ) -> None:
        super().__init__(runtime, system, obj)
        self.max_pages, self.on_page = max_pages, on_page

    def _changes(self) -> None:
        cursor = self.cursors.get(self.system, self.obj)
        for read, page in enumerate(self.rt.connector(self.system).changes(self.obj, cursor)):
            if page.records:
                records = [serialise(r) for r in page.records]
                self.report.add(apply_page(self.system, self.obj, records))
                self.on_page(self.system, self.obj, len(records))
            if page.cursor is not None and page.cursor != cursor:
                cursor = page.cursor
                self.cursors.save(self.system, self.obj, cursor)
            if self.max_pages is not None and read + 1 >= self.max_pages:
                return


@dataclass
class SyncTally:
    """Records the engine saw per system and object, by outcome (applied, rejected, ...)."""

    counts: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)
    pages: int = 0

    def add(self, system: str, obj: str, counts: dict[str, int], pages: int) -> None:
        per = self.counts.setdefault(system, {}).setdefault(obj, {})
        for status, n in counts.items():
            per[status] = per.get(status, 0) + n
        self.pages += pages

    def records(self, system: str | None = None) -> int:
        return sum(
            n
            for name, objects in self.counts.items()
            if system is None or name == system
            for by_status in objects.values()
            for n in by_status.values()
        )

    def as_dict(self) -> dict[str, Any]:
        return {"pages": self.pages, "records": self.records(), "by_system": self.counts}


def targets(runtime: Runtime) -> dict[str, list[str]]:
    """Capturable objects per system, in the engine's order."""
    out: dict[str, list[str]] = {}
    for system, obj in capturable(runtime):
        out.setdefault(system, []).append(obj)
    return out


def poll_all(
    runtime: Runtime,
    tally: SyncTally,
    *,
    max_pages: int | None = None,
    on_page: OnPage = lambda s, o, n: None,
    on_object: Callable[[str, str], None] = lambda s, o: None,
) -> None:
    """Poll every capturable object once until caught up (or capped), adding to `tally`.

    Customer masters come first, one system after the other, CRM first: identity resolution
    links an ERP customer to the CRM account it names (or the other way round) only when the
    other record is already in the golden store, and two systems read side by side would each
    mint their own record for one company. Then the rest is read side by side, one thread per
    system (objects of one system in order, since their references point at each other): the
    time-entry history of the PSA dominates an initial sync, and the other systems' pages fit
    into the waits on it (HTTP, SQLite I/O). Connectors are per thread in the runtime, and the
    golden store serialises writes.
    """

    def poll(system: str, obj: str) -> None:
        report = CappedPoller(runtime, system, obj, max_pages, on_page).run()
        with lock:
            tally.add(system, obj, report.counts, report.pages)
        on_object(system, obj)

    def one_system(system: str, objects: list[str]) -> None:
        for obj in objects:
            poll(system, obj)

    lock = threading.Lock()
    plan = targets(runtime)
    for system, obj in customer_masters(runtime, plan):
        poll(system, obj)
        plan[system].remove(obj)
    with ThreadPoolExecutor(max_workers=max(1, len(plan))) as pool:
        for future in [pool.submit(one_system, s, objects) for s, objects in plan.items()]:
            future.result()


ROLE_ORDER = {"crm": 0, "erp": 1, "psa": 2}


def customer_masters(runtime: Runtime, plan: dict[str, list[str]]) -> list[tuple[str, str]]:
    """The (system, object) pairs holding customer accounts, CRM first, then ERPs, then PSAs."""
    found = [
        (system, obj)
        for system, objects in plan.items()
        for obj in objects
        if runtime.translator(system).object_map(obj).entity == "Account"
    ]
    return sorted(found, key=lambda so: (ROLE_ORDER.get(runtime.role(so[0]) or "", 3), so))
