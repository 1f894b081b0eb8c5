"""Start every sandbox system at once, seeded from one synthetic firm: `pssync sandbox up`.

Emulators are imported lazily from a registry of module paths, so the sandbox (and its CLI)
loads only what it starts, and a system that is not installed or not written yet fails with a
message naming the missing module instead of an ImportError deep in a traceback.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pssync.sandbox.common import business_clock
from pssync.sandbox.common.emulator import Emulator
from pssync.sandbox.common.faults import FaultConfig

# system name -> (module, class); the order is the start (and display) order.
REGISTRY: dict[str, tuple[str, str]] = {
    "salesforce": ("pssync.sandbox.salesforce", "SalesforceEmulator"),
    "kantata": ("pssync.sandbox.kantata", "KantataEmulator"),
    "netsuite": ("pssync.sandbox.netsuite", "NetSuiteEmulator"),
    "sap_s4": ("pssync.sandbox.sap_s4", "SapS4Emulator"),
    "filedrop": ("pssync.sandbox.filedrop", "FileDropEmulator"),
    "servicenow": ("pssync.sandbox.servicenow", "ServiceNowEmulator"),
    "dynamics": ("pssync.sandbox.dynamics", "DynamicsEmulator"),
}
FIRM_MODULE = "pssync.sandbox.firm"
SIZES = ("small", "medium", "large")
# Where each system's views keep a record's own ID (the ID a ClockChange names).
ID_FIELDS = ("Id", "id", "BusinessPartner", "BillingDocument", "invoice_no", "customer_no")


class SandboxError(RuntimeError):
    """The sandbox cannot start; the message says which system or module is at fault."""


def _import(module: str, attribute: str, what: str) -> Any:
    try:
        loaded = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name and (module == exc.name or module.startswith(exc.name + ".")):
            raise SandboxError(f"{what} is not available: module {module} is missing") from exc
        raise
    try:
        return getattr(loaded, attribute)
    except AttributeError as exc:
        raise SandboxError(f"{what} is not available: {module} has no {attribute}") from exc


def emulator_class(system: str) -> type[Emulator]:
    if system not in REGISTRY:
        raise SandboxError(f"unknown system {system!r}; known: {', '.join(REGISTRY)}")
    module, name = REGISTRY[system]
    cls: type[Emulator] = _import(module, name, f"the {system} emulator")
    return cls


def unavailable(systems: Iterable[str] | None = None) -> list[str]:
    """Why the sandbox cannot start right now (missing generator or emulators); empty if it can."""
    problems = []
    try:
        _import(FIRM_MODULE, "generate_firm", "the synthetic firm generator")
    except SandboxError as exc:
        problems.append(str(exc))
    for system in systems or REGISTRY:
        try:
            emulator_class(system)
        except SandboxError as exc:
            problems.append(str(exc))
    return problems


def at_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def _names(row: dict[str, Any], ids: set[str]) -> bool:
    """Whether one of the row's ID fields holds one of `ids` (an invoice row also carries its
    customer's number, so every ID field is looked at, as the clock's own tests do)."""
    return any(str(row.get(name)) in ids for name in ID_FIELDS if row.get(name) is not None)


class Sandbox:
    """Running emulators by system name; `stop()` stops them all (also on `with` exit).

    `firm` is the synthetic firm they were seeded from (None when built from bare emulators);
    `advance` moves it forward with its activity clock and pushes what changed into the
    emulators, so change capture sees users at work rather than a frozen snapshot.
    """

    def __init__(self, emulators: dict[str, Emulator], firm: Any = None) -> None:
        self.emulators = emulators
        self.firm = firm
        self._clock: Any = None

    @classmethod
    def start_all(
        cls,
        size: str = "small",
        seed: int = 0,
        faults: FaultConfig | None = None,
        state_dir: Path | None = None,
        systems: Iterable[str] | None = None,
        today: dt.date | None = None,
        empty: bool = False,
    ) -> Sandbox:
        """Generate the firm, then start and seed each system; on failure stop what started.

        `empty` starts every system with no records at all (no firm is generated), for a user
        who loads their own data through the systems' APIs and syncs it from there.
        """
        if size not in SIZES:
            raise SandboxError(f"unknown size {size!r}; choose one of {', '.join(SIZES)}")
        names = list(systems or REGISTRY)
        classes = {name: emulator_class(name) for name in names}  # fail before starting any
        firm = None
        if not empty:
            generate_firm = _import(FIRM_MODULE, "generate_firm", "the synthetic firm generator")
            firm = generate_firm(size, seed) if today is None else generate_firm(size, seed, today)
        sandbox = cls({}, firm)
        firm_today = getattr(firm, "today", None)
        if firm_today is not None:  # the emulators stamp writes in the firm's time
            business_clock.anchor(at_midnight(firm_today))
        try:
            for name, emulator_cls in classes.items():
                config = dataclasses.replace(faults) if faults else None  # one config each
                directory = state_dir / name if state_dir else None
                emulator = emulator_cls(state_dir=directory, faults=config)
                sandbox.emulators[name] = emulator.start()
                if firm is not None:
                    emulator.seed(firm.views.get(name, {}))
        except BaseException:
            sandbox.stop()
            raise
        return sandbox

    def describe(self) -> dict[str, dict[str, Any]]:
        """What `--json` prints: each system's base URL, credentials (and CA file)."""
        return {name: emulator.describe() for name, emulator in self.emulators.items()}

    def advance(self, days: int = 1) -> list[Any]:
        """Play `days` of the firm's activity clock and push each changed record into its
        emulator (an upsert through `seed`, keeping the clock's modification stamps), so a poll
        afterwards finds exactly the clock's changes. Returns the `ClockChange`s."""
        if self.firm is None:
            raise SandboxError("this sandbox was not started from a synthetic firm")
        if self._clock is None:
            clock_cls = _import(FIRM_MODULE, "ActivityClock", "the activity clock")
            self._clock = clock_cls(self.firm)
        changes: list[Any] = self._clock.advance(days=days)
        business_clock.anchor(self.firm.clock_now)
        changed: dict[tuple[str, str], set[str]] = defaultdict(set)
        for change in changes:
            if change.system in self.emulators:
                changed[(change.system, change.object)].add(str(change.record_id))
        for (system, obj), ids in sorted(changed.items()):
            rows = [row for row in self.firm.views[system][obj] if _names(row, ids)]
            if rows:
                self.emulators[system].seed(self._partial_view(system, obj, rows))
        return changes

    def _partial_view(
        self, system: str, obj: str, rows: list[dict[str, Any]]
    ) -> dict[str, list[dict[str, Any]]]:
        """The changed rows in the shape the emulator's `seed` takes. The file drop resolves
        an invoice's customer and project through their rows, so its rows are converted to the
        ledger's own shape here, with all customers and projects known, and only the changed
        kind is sent."""
        if system != "filedrop":
            return {obj: rows}
        firm_view = _import("pssync.sandbox.filedrop.firm_view", "to_ledger", "the file drop")
        known = {k: self.firm.views[system].get(k, []) for k in ("customers", "projects")}
        ledger: dict[str, list[dict[str, Any]]] = firm_view({**known, obj: rows})
        return {obj: ledger.get(obj, [])}

    def stop(self) -> None:
        for emulator in reversed(list(self.emulators.values())):
            emulator.stop()
        if self.firm is not None:
            business_clock.release()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
