"""The oracle: what a run left in every system, compared with what a clean run left.

`read_end_state` reads every object pssync maps in every configured system through that system's
own API (the connectors' full `snapshot`, faults switched off first) and the golden store's
records per entity type and cross-references per system. `compare` pairs the two runs' records
by pssync's external ID (or, for a record without one, its own ID, which the firm's seed fixes)
and names each difference by system, object, key and field:

- **duplicate**: a key held by more records than in the clean run;
- **lost**: a key the clean run has and this run does not;
- **extra**: a key this run has and the clean run does not (a record created without its key);
- **field**: the same key with another value.

Vendor-assigned values are not compared: the record's own ID, change and creation stamps, and
the IDs of Kantata's external-reference objects (`external_reference_ids`, numbered by Kantata).
A reference to a record pssync created (a story's workspace, a project's customer) holds an ID
the vendor assigned in creation order, so it is compared as the referenced record's key.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

# Change stamps and creation times (the vendor's clock, not content) and IDs the vendor numbers.
VOLATILE = re.compile(
    r"(?i)(modstamp|modified|updated|created|lastchange|changedon|changedate|creation|"
    r"_at$|datetime|timestamp|etag|__metadata|attributes|^external_reference_ids)"
)
REFERENCE = re.compile(r"(?i)(id$|_id|uuid|^businesspartner$|^customer$|^parent$|^project$)")


@dataclass
class Table:
    """One object of one system: its rows and which fields are its ID and pssync's key."""

    id_field: str
    external_id_field: str | None
    rows: list[dict[str, Any]]


@dataclass
class EndState:
    targets: dict[str, dict[str, Table]]  # system -> object -> table
    golden: dict[str, int]  # entity type -> records
    xrefs: dict[str, int]  # "system/entity type" -> cross-references

    def summary(self) -> dict[str, int]:
        return {
            "target_records": sum(len(t.rows) for s in self.targets.values() for t in s.values()),
            "golden_records": sum(self.golden.values()),
            "xrefs": sum(self.xrefs.values()),
        }


@dataclass(frozen=True)
class Difference:
    kind: str  # duplicate | lost | extra | field | count
    system: str
    object: str
    key: str
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.kind:<9} {self.system}/{self.object} {self.key} {self.detail}".rstrip()


@dataclass
class Verdict:
    differences: list[Difference] = field(default_factory=list)

    def count(self, kind: str) -> int:
        return sum(d.kind == kind for d in self.differences)

    @property
    def duplicates(self) -> int:
        return self.count("duplicate")

    @property
    def lost(self) -> int:
        return self.count("lost")

    def as_dict(self) -> dict[str, int]:
        kinds = ("duplicate", "lost", "extra", "field", "count")
        return {kind: self.count(kind) for kind in kinds}

    def report(self, limit: int = 60) -> str:
        lines = [str(d) for d in self.differences[:limit]]
        if len(self.differences) > limit:
            lines.append(f"... and {len(self.differences) - limit} more")
        return "\n".join(lines) or "no differences"


def read_end_state(config: Path) -> EndState:
    """Every mapped object of every configured system, and the golden store's counts."""
    from pssync.config import load_settings
    from pssync.engine.setup import connector_factory
    from pssync.mapping.spec import load_spec
    from pssync.store import GoldenStore, open_engine
    from pssync.store.tables import xref

    settings = load_settings(config)
    targets: dict[str, dict[str, Table]] = {}
    for system, conf in settings.connectors.items():
        if not conf.mapping:
            continue
        spec = load_spec(Path(conf.mapping))
        connector = connector_factory(conf)()
        try:
            targets[system] = {
                obj: Table(
                    spec_obj.id_field,
                    spec_obj.external_id_field,
                    [dict(r.data) for page in connector.snapshot(obj) for r in page.records],
                )
                for obj, spec_obj in spec.objects.items()
            }
        finally:
            connector.close()
    store = GoldenStore(open_engine(settings.database_url))
    try:
        golden = dict(store.counts())
        query = sa.select(xref.c.system, xref.c.entity_type, sa.func.count()).group_by(
            xref.c.system, xref.c.entity_type
        )
        with store.engine.connect() as conn:
            xrefs = {f"{s}/{e}": int(n) for s, e, n in conn.execute(query)}
    finally:
        store.engine.dispose()
    return EndState(targets, golden, xrefs)


def _key(table: Table, row: dict[str, Any]) -> str:
    ext = row.get(table.external_id_field) if table.external_id_field else None
    if ext not in (None, ""):
        return f"ext:{ext}"
    return f"id:{row.get(table.id_field)}"


def _ids(state: EndState, system: str) -> dict[str, str]:
    """A system's vendor IDs of records that carry pssync's key -> that key."""
    found: dict[str, str] = {}
    for obj, table in state.targets.get(system, {}).items():
        for row in table.rows:
            key = _key(table, row)
            own = row.get(table.id_field)
            if key.startswith("ext:") and own not in (None, ""):
                found[str(own)] = f"{obj}:{key}"
    return found


def _normal(value: Any, name: str, ids: dict[str, str]) -> Any:
    """The value with references to keyed records replaced by their key."""
    if isinstance(value, dict):
        return {
            k: _normal(v, k if k != "id" else name, ids)
            for k, v in sorted(value.items())
            if not VOLATILE.search(k)
        }
    if isinstance(value, list):
        return [_normal(v, name, ids) for v in value]
    if REFERENCE.search(name) and isinstance(value, (str, int)) and str(value) in ids:
        return ids[str(value)]
    return value


def normalise(state: EndState, system: str, table: Table) -> dict[str, list[dict[str, Any]]]:
    """Rows by key, each without its own ID and stamps, references as keys."""
    ids = _ids(state, system)
    rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in table.rows:
        content = {
            k: _normal(v, k, ids)
            for k, v in row.items()
            if k != table.id_field and not VOLATILE.search(k)
        }
        rows[_key(table, row)].append(content)
    return rows


def _field_diffs(a: dict[str, Any], b: dict[str, Any]) -> Iterable[tuple[str, Any, Any]]:
    for name in sorted(set(a) | set(b)):
        if a.get(name) != b.get(name):
            yield name, a.get(name), b.get(name)


def compare(clean: EndState, run: EndState) -> Verdict:
    """Every difference of `run` from `clean`, named by system, object, key and field."""
    verdict = Verdict()
    add = verdict.differences.append
    for system, objects in clean.targets.items():
        for obj, table in objects.items():
            other = run.targets.get(system, {}).get(obj, Table(table.id_field, None, []))
            want, got = normalise(clean, system, table), normalise(run, system, other)
            for key in sorted(set(want) | set(got)):
                w, g = want.get(key, []), got.get(key, [])
                if len(g) > len(w) and w:
                    add(
                        Difference(
                            "duplicate", system, obj, key, f"{len(g)} records, clean {len(w)}"
                        )
                    )
                elif not g:
                    add(Difference("lost", system, obj, key, _label(w[0])))
                elif not w:
                    add(Difference("extra", system, obj, key, _label(g[0])))
                elif len(g) < len(w):
                    add(Difference("lost", system, obj, key, f"{len(g)} records, clean {len(w)}"))
                if w and g and len(w) == len(g) == 1:
                    for name, before, after in _field_diffs(w[0], g[0]):
                        add(
                            Difference(
                                "field", system, obj, key, f"{name}: {before!r} -> {after!r}"
                            )
                        )
                elif w and len(w) == len(g) and Counter(map(repr, w)) != Counter(map(repr, g)):
                    add(Difference("field", system, obj, key, "records with this key differ"))
    for name, (want_counts, got_counts) in {
        "golden": (clean.golden, run.golden),
        "xref": (clean.xrefs, run.xrefs),
    }.items():
        for kind in sorted(set(want_counts) | set(got_counts)):
            w_n, g_n = want_counts.get(kind, 0), got_counts.get(kind, 0)
            if w_n != g_n:
                what = "duplicate" if g_n > w_n else "lost"
                add(Difference(what, "pssync", name, kind, f"{g_n} records, clean {w_n}"))
    return verdict


def _label(row: dict[str, Any]) -> str:
    """A few identifying fields of a row, for a reader of the diff."""
    for name in ("name", "Name", "title", "companyName", "OrganizationBPName1", "entityId"):
        if row.get(name):
            return f"({name}={row[name]!r})"
    return ""
