"""One worker cycle: ordering, poll, then the steps after polling (re-point, dispatch).

`pssync sync` runs one cycle, `pssync worker` one per interval, the demo one per simulated
day and the benches one per measured sync: the same order and the same steps everywhere.

Order: customer masters first, one system after the other, CRM first, then ERPs, then PSAs; then
deals, projects, WBS elements, contract lines and invoices the same way (`LINKED`, PSA before ERP
past projects). Identity resolution links an ERP customer to the CRM account it names (or the other
way round), or an ERP project to the PSA workspace of the same deal, only when the other record is
already in the golden store, and two systems read side by side would each mint their own record for
one firm record. Then the rest is read side by side, one thread per system (objects of one system in
order, since their references point at each other): the PSA's time-entry history dominates an
initial sync, and the other systems' pages fit into the waits on it. Connectors are per thread in
the runtime, and the golden store serialises writes. After polling, the runtime's `after_poll` steps
run in order, once every poll of the cycle has caught up (a failed poll holds them back until a
cycle that does).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from pssync.connectors.errors import ConnectorError
from pssync.engine.capture import CaptureReport, OnPage, Poller
from pssync.engine.runtime import Runtime
from pssync.engine.setup import capturable

ROLE_ORDER = {"crm": 0, "erp": 1, "psa": 2}
# Entities read one system after the other, in this order, before the rest: identity
# resolution joins a record to one another system already brought (the CRM deal a PSA
# workspace names, the PSA invoice an ERP invoice names), so they must not be read side by side;
# a deal's priced lines come with it (a booking is billed at the rate its role was sold at), and
# a project's contract before its invoices (an invoice bills the one contract of its project).
# Past customers and projects the PSA comes before the ERP: an ERP invoice names the PSA invoice
# it was raised from, never the other way round. A project is the ERP's first (its code is the
# ERP's, and a record joined later is valid from the later of the two stamps).
LINK_ORDER = {"crm": 0, "psa": 1, "erp": 2}
LINKED = (
    "Account",
    "Opportunity",
    "OpportunityLineItem",
    "Project",
    "WbsElement",
    "ContractLine",
    "Invoice",
)


@dataclass
class CycleOptions:
    """What one cycle reads: `systems` and `objects` (None: all), from the start (`full`), at most
    `max_pages` pages per object (None: until caught up); `on_page` and `on_object` report
    progress. `keep_going` reports a system that fails and polls the others (a long-running
    worker); otherwise the failure is raised once the other systems are done."""

    systems: Iterable[str] | None = None
    objects: Iterable[str] | None = None
    full: bool = False
    max_pages: int | None = None
    on_page: OnPage | None = None
    on_object: Callable[[str, str], None] | None = None
    keep_going: bool = False


@dataclass
class CycleReport:
    """What one cycle did: a capture report per object, failures, and each after-poll step's
    count (re-pointed records, workflows started)."""

    captures: list[CaptureReport] = field(default_factory=list)
    failures: list[tuple[str, str, str]] = field(default_factory=list)  # system, object, error
    after: dict[str, int] = field(default_factory=dict)
    deferred: list[str] = field(default_factory=list)  # after-poll steps a failure held back

    def counts(self) -> dict[str, int]:
        total: dict[str, int] = {}
        for report in self.captures:
            for status, n in report.counts.items():
                total[status] = total.get(status, 0) + n
        return total


def plan(
    runtime: Runtime, systems: Iterable[str] | None = None, objects: Iterable[str] | None = None
) -> dict[str, list[str]]:
    """Capturable objects per system, in the engine's order (only `systems` and `objects`
    when given)."""
    wanted = None if systems is None else set(systems)
    names = None if objects is None else set(objects)
    out: dict[str, list[str]] = {}
    for system, obj in capturable(runtime):
        if (wanted is None or system in wanted) and (names is None or obj in names):
            out.setdefault(system, []).append(obj)
    return out


def customer_masters(runtime: Runtime, objects: dict[str, list[str]]) -> list[tuple[str, str]]:
    """The (system, object) pairs holding records that several systems keep for one firm
    record (`LINKED`), entity by entity, each CRM first, then ERPs, then PSAs."""
    found = [
        (system, obj)
        for system, names in objects.items()
        for obj in names
        if runtime.translator(system).object_map(obj).entity in LINKED
    ]

    def order(so: tuple[str, str]) -> tuple[int, int, tuple[str, str]]:
        entity = runtime.translator(so[0]).object_map(so[1]).entity
        roles = ROLE_ORDER if entity in ("Account", "Project") else LINK_ORDER
        return (LINKED.index(entity), roles.get(runtime.role(so[0]) or "", 3), so)

    return sorted(found, key=order)


def run_cycle(runtime: Runtime, options: CycleOptions | None = None) -> CycleReport:
    """Poll every capturable object once (customer masters first), then run the runtime's
    after-poll steps; see the module docstring for the order.

    The order holds under failures too, so what the golden store holds never depends on which
    calls a flaky system failed: a customer master that fails stops the cycle before the masters
    and objects after it (an ERP customer read before the CRM account it names would mint a
    record of its own), and the after-poll steps (the flows' decisions) run only after a cycle
    in which every poll reached the end of its changes. A long-running worker (`keep_going`)
    reports the failure and tries again next cycle; the held-back steps are in `deferred`."""
    options = options or CycleOptions()
    report = CycleReport()
    lock = threading.Lock()
    raised: list[ConnectorError] = []

    def poll(system: str, obj: str) -> bool:
        poller = Poller(runtime, system, obj, max_pages=options.max_pages, on_page=options.on_page)
        try:
            captured = poller.run(full=options.full)
        except ConnectorError as exc:
            with lock:
                report.failures.append((system, obj, str(exc)))
                raised.append(exc)
            return False
        with lock:
            report.captures.append(captured)
        if options.on_object is not None:
            options.on_object(system, obj)
        return True

    def one_system(system: str, objects: list[str]) -> None:
        for obj in objects:
            poll(system, obj)

    todo = plan(runtime, options.systems, options.objects)
    masters = customer_masters(runtime, todo)
    for system, obj in masters:
        if not poll(system, obj):
            break
        todo[system].remove(obj)
    todo = {system: objects for system, objects in todo.items() if objects}
    if todo and not raised:
        with ThreadPoolExecutor(max_workers=len(todo), thread_name_prefix="pssync-poll") as pool:
            for future in [pool.submit(one_system, s, objects) for s, objects in todo.items()]:
                future.result()
    if raised and not options.keep_going:
        raise raised[0]
    if raised:
        report.deferred = [step.name for step in runtime.after_poll]
        return report
    for step in runtime.after_poll:
        report.after[step.name] = step.run(runtime)
    return report
