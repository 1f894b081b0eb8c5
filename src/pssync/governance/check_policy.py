"""What a failed check does to its record, per check (pssync.yaml's `checks:`).

* `hold` keeps the record out of the golden data but visible: its exception holds the source
  record, the forecast counts its value as held back (`forecast.held_back`), and fixing the
  cause then replaying (or `sync --full`) lands it.
* `reject` refuses the record outright: the exception says why, but keeps no record to replay
  (the next full sync reads it again from its source).
* `accept` lets the record in as it is, with an exception flagging the problem (a stale stage,
  a probable duplicate, a missing legal entity: the deal is real and belongs in the forecast).

Defaults: a record that cannot be translated or validated (an unmapped value, a missing
mandatory attribute, an invalid record) is held; the data-quality checks on a valid record
accept it with a flag. `accept` is refused for the first kind: the record has no valid form.
"""

from __future__ import annotations

from collections.abc import Mapping

from pssync.engine.stages import RejectedError

MODES = ("reject", "hold", "accept")
# Checks that fail a record's translation or validation: it has no valid form to accept.
NOT_ACCEPTABLE = ("unmapped_value", "missing_attribute", "invalid_record", "invalid_tax_code")
DEFAULTS: dict[str, str] = {
    **{category: "hold" for category in NOT_ACCEPTABLE},
    "stale_stage": "accept",
    "duplicate_customer": "accept",
    "missing_legal_entity": "accept",
}


def mode(modes: Mapping[str, str] | None, category: str) -> str:
    return (modes or {}).get(category) or DEFAULTS.get(category, "accept")


def enforce(modes: Mapping[str, str] | None, category: str, field: str, message: str) -> None:
    """Raise `RejectedError` for a finding whose check holds or rejects its record."""
    found = mode(modes, category)
    if found != "accept":
        raise RejectedError(category, message, field, keep=found == "hold")


def problems(modes: Mapping[str, str]) -> list[str]:
    """What is wrong with a `checks:` block (empty when nothing is)."""
    out = []
    for category, chosen in modes.items():
        if category not in DEFAULTS:
            out.append(f"checks.{category}: no such check; choose from {sorted(DEFAULTS)}")
        elif chosen not in MODES:
            out.append(f"checks.{category}: {chosen!r} is not one of {MODES}")
        elif chosen == "accept" and category in NOT_ACCEPTABLE:
            out.append(
                f"checks.{category}: a record failing it has no valid form to accept; "
                "choose hold or reject"
            )
    return out
