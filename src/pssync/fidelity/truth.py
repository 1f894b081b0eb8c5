"""The canonical truth a golden store is measured against: final state per record, with the
vendor IDs that name it, and the list of misalignments planted in the vendors' views.

Truth is canonical JSONL (what `pssync export` writes and `pssync import` reads, the synthetic
firm's `truth.jsonl` included): many facts per record, in valid time. The check compares the
golden store's current state, so only each record's last fact counts; its vendor IDs are the
union of every fact's `xrefs` and `source_record`, because a record may be known to several
systems (a project is a Kantata workspace and a NetSuite job).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

#: A vendor record: (system, object, the system's ID).
SourceKey = tuple[str, str, str]


@dataclass
class TruthRecord:
    entity_type: str
    record_id: str
    payload: dict[str, Any]
    valid_from: dt.datetime
    sources: set[SourceKey] = field(default_factory=set)
    #: The vendor record its last fact came from (the system of record for it), if any.
    primary: SourceKey | None = None


@dataclass(frozen=True)
class Planted:
    """One misalignment the generator typed into a vendor's view (its answer key)."""

    kind: str
    system: str
    object: str
    record_id: str
    detail: str = ""

    @property
    def source(self) -> SourceKey:
        return (self.system, self.object, self.record_id)


class TruthError(ValueError):
    """A truth line that cannot be read: names the line number and what is wrong."""


def source_key(text: str) -> SourceKey | None:
    """``system:Object:id`` as a key (the ID itself may contain colons)."""
    system, _, rest = text.partition(":")
    obj, _, ident = rest.partition(":")
    return (system, obj, ident) if system and obj and ident else None


def read_truth(lines: Iterable[str]) -> dict[tuple[str, str], TruthRecord]:
    """(entity type, record ID) -> its last fact in valid time (a later line wins a tie)."""
    out: dict[tuple[str, str], TruthRecord] = {}
    for number, raw in enumerate(lines, start=1):
        text = raw.strip()
        if not text:
            continue
        try:
            obj = json.loads(text)
            entity_type, payload = str(obj["entity_type"]), obj["payload"]
            record_id = str(payload["id"])
            valid_from = dt.datetime.fromisoformat(str(obj["valid_from"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise TruthError(f"truth line {number}: {exc!s}") from None
        if valid_from.tzinfo is None:
            raise TruthError(f"truth line {number}: valid_from {valid_from} has no time zone")
        key = (entity_type, record_id)
        sources = set()
        for name, value in (payload.get("xrefs") or {}).items():
            system, _, object_name = str(name).partition(":")
            if system and object_name and value:
                sources.add((system, object_name, str(value)))
        found = source_key(str(obj.get("source_record") or ""))
        if found is not None:
            sources.add(found)
        known = out.get(key)
        if known is None:
            out[key] = TruthRecord(entity_type, record_id, payload, valid_from, sources, found)
            continue
        known.sources |= sources
        if valid_from >= known.valid_from:
            known.payload, known.valid_from = payload, valid_from
            known.primary = found or known.primary
    return out


def read_planted(lines: Iterable[str]) -> list[Planted]:
    """The answer key as JSONL, one misalignment a line (see `misalign.answer_key_lines`)."""
    out = []
    for number, raw in enumerate(lines, start=1):
        text = raw.strip()
        if not text:
            continue
        try:
            obj = json.loads(text)
            out.append(
                Planted(
                    str(obj["kind"]),
                    str(obj["system"]),
                    str(obj["object"]),
                    str(obj["record_id"]),
                    str(obj.get("detail") or ""),
                )
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise TruthError(f"planted line {number}: {exc!s}") from None
    return out
