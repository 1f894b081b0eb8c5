"""The demo's deal desk: the fix-and-replay a firm's admin does for free-text categories.

The sandbox firm's reps type a service category as free text ("erp impl.", "Infra & Cloud");
the shipped crosswalk knows the service lines' codes and names only, so those deals are held at
ingest with an `unmapped_value` exception each (planted: the firm's own data problem, not a gap
of pssync's). A firm fixes that once: the deal desk maps each value its inbox names to the
service line the firm means, in pssync.yaml's `crosswalks.service_line`, and re-reads the CRM
from the start (`pssync sync --full`) so the held deals land with their history. The demo plays
that admin, with the firm's own vocabulary (what its reps type for each line), and only for the
values the exceptions name, then re-reads the PSA so the workspaces read while their deal was
held link to it; the summary says what it mapped and replayed, so the
fidelity it reports is the firm after its deal desk's fix.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from pssync.config.settings import Settings
from pssync.engine.cycle import CycleOptions, run_cycle
from pssync.engine.runtime import Runtime
from pssync.governance.exceptions import ExceptionStore
from pssync.governance.replay import ReplayContext, replay
from pssync.mapping.translator import Translator
from pssync.runtime.mappings import mapping_spec
from pssync.store.problems import ACTIVE

CATEGORY = "unmapped_value"
ACTIVE_STATES = frozenset(s.value for s in ACTIVE)
CROSSWALK = "service_line"
ACTOR = "deal-desk"


def firm_vocabulary(firm: Any) -> dict[str, str]:
    """What the firm's reps type for each service line -> the canonical service line ID."""
    from pssync.sandbox.firm.sales import CATEGORY_TEXT

    lines = {code for code, _ in firm.ref.service_lines}
    return {
        text: f"sl-{code.lower()}"
        for code, texts in CATEGORY_TEXT.items()
        if code in lines
        for text in texts
    }


def _held(exceptions: ExceptionStore) -> list[Any]:
    found = exceptions.find(states=list(ACTIVE_STATES), category=CATEGORY)
    return [e for e in found if e.details.get("crosswalk") == CROSSWALK and e.system]


def add_crosswalk(config: Path, entries: dict[str, str]) -> Settings:
    """Write `entries` into pssync.yaml's top-level `crosswalks.service_line` (comments and the
    rest of the file kept as they are); return the settings as the file now says."""
    text = config.read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    walks = data.setdefault("crosswalks", {})
    walks.setdefault(CROSSWALK, {}).update(entries)
    header = "".join(line + "\n" for line in text.splitlines() if line.startswith("#"))
    note = "# crosswalks.service_line: the deal desk's map of the reps' free-text categories.\n"
    config.write_text(header + note + yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return Settings(**data)


def fix_free_text(runtime: Runtime, config: Path, vocabulary: dict[str, str]) -> dict[str, Any]:
    """Map the free-text values the open exceptions name, reload the mappings, replay."""
    exceptions = ExceptionStore(runtime.store.engine)
    held = _held(exceptions)
    values = {str(e.details.get("value")) for e in held}
    entries = {v: vocabulary[v] for v in sorted(values) if v in vocabulary}
    out: dict[str, Any] = {"held": len(held), "mapped_values": entries, "resolved": 0}
    if not entries:
        return out | {"still_open": len(held)}
    settings = add_crosswalk(config, entries)
    for system in {str(e.system) for e in held}:  # the worker reads pssync.yaml again
        spec = mapping_spec(settings, system, config.parent)
        if spec is not None:
            runtime.translators[system] = Translator(spec)
    fixed = [e for e in held if str(e.details.get("value")) in entries]
    # Re-read the systems holding them from the start (`pssync sync --full`): a held deal is
    # read again as a first read, so it lands with its history from the source (its earlier
    # stages, amounts and close dates: engine/backfill.py), which a replay of the exception's
    # last payload would not bring; the exceptions of the deals that landed are closed.
    run_cycle(runtime, CycleOptions(systems=sorted({str(e.system) for e in fixed}), full=True))
    still = {e.id for e in _held(exceptions)}
    out["resolved"] = sum(e.id not in still for e in fixed)
    ctx = ReplayContext(runtime.store, exceptions)
    for exc in fixed:  # what the re-read did not land (a record beyond a page cap, say)
        now = exceptions.get(exc.id) if exc.id in still else None
        if now is not None and now.state in ACTIVE_STATES:
            out["resolved"] += replay(ctx, now, actor=ACTOR).state == "resolved"
    # The ERPs and the PSA name the deal (an ERP project by its external ID, a workspace by
    # the CRM deal ID); those read while the deal was held found no deal to link to. Re-reading
    # them (`pssync sync --full`) links them before the flows would draft or hand off a second
    # project for the deal, and the postings on those projects take the region the project now
    # has. The PSA last: the plan (a project's full name) is its own.
    for role in ("erp", "psa"):
        names = [name for name in runtime.translators if runtime.role(name) == role]
        reread = run_cycle(runtime, CycleOptions(systems=names, full=True))
        out[f"{role}_reread"] = sum(sum(c.counts.values()) for c in reread.captures)
    return out | {"still_open": len(_held(exceptions))}
