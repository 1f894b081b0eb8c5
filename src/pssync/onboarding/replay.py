"""Replay of what onboarding raises: CSV rows, and the checks over stored records.

A CSV row's exception holds the row and the mapping it was read with; replaying it reads the row
again through that mapping with the crosswalk entries pssync.yaml holds now (the usual fix for an
unmapped value), and imports it. A `govern`-stage finding (stale stage, duplicate customer, ...)
has nothing to re-send: replaying it runs its check again over the stored record, and it closes
when the check no longer finds the problem.
"""

from __future__ import annotations

import json
from typing import Any

from pssync.config import ConfigError, load_settings
from pssync.governance.exceptions import ExceptionRecord
from pssync.governance.replay import ReplayContext, register, register_stage
from pssync.mapping.spec import MappingSpec
from pssync.onboarding import checks
from pssync.onboarding.csv_import import CsvImporter
from pssync.onboarding.csv_mapping import SYSTEM
from pssync.store.history import utcnow

CSV_CATEGORIES = ("unmapped_value", "invalid_record", "missing_attribute")


def _overrides() -> tuple[dict[str, dict[str, str]], str | None]:
    """pssync.yaml's top-level crosswalks and reporting currency (none without a file)."""
    try:
        settings = load_settings()
    except ConfigError:
        return {}, None
    return settings.crosswalks, settings.reporting_currency


def replay_csv_row(ctx: ReplayContext, exc: ExceptionRecord, text: str) -> tuple[bool, str]:
    try:
        data = json.loads(text)
        values: dict[str, str] = dict(data["values"])
        entity, row, source = str(data["entity"]), int(data["row"]), str(data["file"])
        mapping: dict[str, Any] = dict(data["mapping"])
    except (ValueError, KeyError, TypeError) as err:
        return False, f"not a CSV row payload: {err}"
    if "overrides" not in ctx.cache:  # read pssync.yaml once per replay run
        ctx.cache["overrides"] = _overrides()
    walks, currency = ctx.cache["overrides"]
    key = f"csv-importer {entity} {json.dumps(mapping, sort_keys=True)}"
    importer = ctx.cache.get(key)  # one per file mapping and replay run: rows share it
    if importer is None:
        for walk, entries in walks.items():
            mapping.setdefault("crosswalks", {}).setdefault(walk, {}).update(entries)
        spec = MappingSpec.model_validate(mapping)
        if currency:
            spec.apply_default_currency(currency)
        importer = ctx.cache[key] = CsvImporter(
            ctx.golden, ctx.exceptions, spec, entity, bulk=False
        )
    report = importer.run([(row, values)], source, close=False)
    if report.rejected:
        now = report.rejected[0]
        if (now.category, now.field) == (exc.category, exc.details.get("field")):
            return False, now.message
        # This cause is fixed; the row now waits on another, raised as its own exception.
        return True, f"fixed; {source} row {row} is now held by {now.category}: {now.message}"
    return True, f"{source} row {row} imported ({entity} {importer.source_id(row, values, source)})"


for _category in CSV_CATEGORIES:
    register(_category, SYSTEM)(replay_csv_row)


def recheck(ctx: ReplayContext, exc: ExceptionRecord, text: str | None) -> tuple[bool, str]:
    """Run the exception's check again over the stored records (computed once per replay run)."""
    if exc.category not in checks.CATEGORIES:
        return False, f"no check raises {exc.category}; it clears when fixed at its source"
    found = ctx.cache.get("checks")
    if found is None:
        findings = [
            new
            for v in ctx.golden.iter_records("Opportunity")
            for new in checks.deal_findings(v.payload, utcnow().date())
        ]
        findings += checks.account_findings([v.payload for v in ctx.golden.iter_records("Account")])
        found = ctx.cache["checks"] = {new.fingerprint(): new.message for new in findings}
    if exc.fingerprint in found:
        return False, f"still found: {found[exc.fingerprint]}"
    return True, "the check passes now"


register_stage("govern")(recheck)
