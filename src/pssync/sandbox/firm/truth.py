"""Ground truth as canonical JSONL facts, each with the valid time it became true.

A fact is one line `pssync.store.jsonl.parse_line` accepts. History enters as a sequence of
facts per record (every stage change, every status change), so the golden store can be asked
what was known at any past date, which is what forecast backtests need.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pssync.sandbox.firm.units import iso


@dataclass(frozen=True, slots=True)
class Fact:
    entity_type: str
    valid_from: dt.datetime
    system: str
    source_record: str | None
    payload: dict[str, Any]

    def line(self) -> str:
        obj = {
            "entity_type": self.entity_type,
            "valid_from": iso(self.valid_from),
            "system": self.system,
            "source_record": self.source_record,
            "payload": self.payload,
        }
        return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(", ", ": "))


def source(xrefs: dict[str, str], key: str) -> str | None:
    """``system:Object:id`` of the source record, when that system holds one."""
    value = xrefs.get(key)
    return f"{key}:{value}" if value else None


def sort_facts(facts: list[Fact]) -> list[Fact]:
    """Chronological, ties kept in emission order (stable sort): deterministic by design."""
    return sorted(facts, key=lambda f: f.valid_from)


def lines(facts: Iterator[Fact]) -> Iterator[str]:
    for fact in facts:
        yield fact.line()
