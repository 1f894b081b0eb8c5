"""`pssync import --csv`: rows of a firm's own file into the golden store, through a mapping.

Each row is translated by the mapping (conversions, crosswalks), its references resolved (an
account named by its ID in the accounts file, or by its name), merged over the golden record it
updates and validated. A row that fails is reported by its row number and raised as an exception
holding the row, so it can be fixed (a crosswalk entry in pssync.yaml, a corrected file) and
replayed or imported again; the good rows are imported either way. A row that imports closes
the exceptions its earlier attempts raised. Nothing a file holds is dropped in silence.
"""

from __future__ import annotations

import csv
import dataclasses
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from pssync.governance.exceptions import ACTIVE, ExceptionStore, NewException
from pssync.mapping.spec import MappingSpec
from pssync.mapping.translator import TranslationError, Translator
from pssync.model import CanonicalValidationError, parse_record
from pssync.onboarding.csv_mapping import LINE_ITEM, REFERENCES, SYSTEM
from pssync.store import Change, GoldenStore
from pssync.store.history import utcnow
from pssync.store.tables import exception_record, xref

BATCH = 1000
STAGE = "import"  # the stage of the exceptions a row raises (`details.stage`)
NAMED = ("Account", "Project", "Opportunity")  # entities a reference may name by their name
NAME_FIELDS = ("name", "project_code")  # what a person calls such a record


@dataclass
class RowProblem:
    row: int
    category: str
    message: str
    field: str | None = None
    details: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclass
class CsvReport:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[RowProblem] = dataclasses.field(default_factory=list)
    closed: int = 0  # exceptions of earlier attempts closed by rows that now import

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": [
                {"row": r.row, "category": r.category, "field": r.field, "reason": r.message}
                for r in self.rejected
            ],
            "closed_exceptions": self.closed,
        }


class RejectedRowError(ValueError):
    def __init__(self, category: str, message: str, field: str | None = None, **details: Any):
        super().__init__(message)
        self.category, self.field, self.details = category, field, details


def read_rows(path: Path) -> tuple[list[str], Iterator[tuple[int, dict[str, str]]]]:
    """The header and (row number, values) of each non-empty row; row 1 is the header."""
    handle = path.open(encoding="utf-8-sig", newline="")
    reader = csv.DictReader(handle)
    headers = [h.strip() for h in reader.fieldnames or []]

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        with handle:
            for values in reader:
                clean = {
                    (k or "").strip(): (v.strip() if isinstance(v, str) else "")
                    for k, v in values.items()
                }
                if any(clean.values()):
                    yield reader.line_num, clean

    return headers, rows()


class CsvImporter:
    """Imports rows of one entity through one mapping spec into `store`."""

    def __init__(
        self,
        store: GoldenStore,
        exceptions: ExceptionStore,
        spec: MappingSpec,
        entity: str,
        *,
        bulk: bool = True,
    ) -> None:
        self.store, self.exceptions, self.entity = store, exceptions, entity
        self.spec = spec
        self.translator = Translator(spec)
        self.omap = spec.objects[entity]
        self._names: dict[str, dict[str, str]] = {}
        self._mapping = spec.model_dump(by_alias=True, exclude_none=True)  # in each reject
        self.bulk = bulk
        self._xrefs: dict[str, dict[str, str]] = {}  # entity -> file row ID -> canonical ID

    # ---- one row ------------------------------------------------------------------------

    def source_id(self, row: int, values: dict[str, str], source: str) -> str:
        """The row's own ID: its ID column, else its name, else file and row number."""
        own = values.get(self.omap.id_field) or ""
        if not own and "name" in self.omap.fields:
            own = values.get(self.omap.fields["name"].from_ or "") or ""
        return own or f"{source}:{row}"

    def known(self, entity: str, source_id: str) -> str | None:
        """The golden record a file's row of `entity` with this ID became, if any. A whole
        file reads the xref map of `entity` once (`bulk`); a single replayed row asks."""
        if not self.bulk:
            found = self.store.resolve_xref(SYSTEM, entity, source_id)
            return found[1] if found else None
        if entity not in self._xrefs:
            x = xref.c
            query = select(x.external_id, x.record_id).where(x.system == SYSTEM, x.object == entity)
            with self.store.engine.connect() as conn:
                self._xrefs[entity] = {
                    str(r.external_id): str(r.record_id) for r in conn.execute(query)
                }
        return self._xrefs[entity].get(source_id)

    def canonical_id(self, entity: str, source_id: str) -> str:
        return self.known(entity, source_id) or f"csv-{entity.lower()}-{source_id}"[:200]

    def change(self, row: int, values: dict[str, str], source: str) -> Change:
        """The golden change a row makes, or `RejectedRowError` saying why it cannot."""
        sid = self.source_id(row, values, source)
        try:
            fields = self.translator.to_canonical(self.entity, {**values, self.omap.id_field: sid})
        except TranslationError as exc:
            first = exc.problems[0]
            reason = "; ".join(f"{p.field}: {p.message}" for p in exc.problems)
            if first.crosswalk:
                raise RejectedRowError(
                    "unmapped_value",
                    reason,
                    first.field,
                    value=first.value,
                    crosswalk=first.crosswalk,
                    suggestions=[s.as_dict() for s in first.suggestions],
                ) from None
            raise RejectedRowError("invalid_record", reason, first.field) from None
        if self.entity == LINE_ITEM:
            return self._line(sid, fields)
        for name in REFERENCES:
            if fields.get(name):
                fields[name] = self.reference(name, str(fields[name]))
        known = self.known(self.entity, sid)
        rid = known or self.canonical_id(self.entity, sid)
        # A row no file brought before is a new record (its ID is minted from the row's).
        golden = self.store.get(self.entity, rid) if known or not self.bulk else None
        base = dict(golden.payload) if golden else {}
        if (
            "name" not in fields
            and "name" not in base
            and values.get(self.omap.id_field)
            and "name" in _fields(self.entity)
        ):
            fields["name"] = sid  # a deal file without names (the ID is what people quote)
        xrefs = {**base.get("xrefs", {}), f"{SYSTEM}:{self.entity}": sid}
        return Change(self._parse({**base, **fields, "id": rid, "xrefs": xrefs}), utcnow(), SYSTEM)

    def _parse(self, payload: dict[str, Any]) -> Any:
        entity = self.entity if self.entity != LINE_ITEM else "Opportunity"
        try:
            return parse_record(entity, payload)
        except CanonicalValidationError as exc:
            name, reason = exc.problems[0] if exc.problems else (None, "")
            category = "missing_attribute" if reason == "Field required" else "invalid_record"
            raise RejectedRowError(category, str(exc), name) from None

    def reference(self, name: str, value: str) -> str:
        """The canonical ID a reference column names: a record imported from a file under that
        ID, a canonical ID, or (accounts, projects, deals) a record's exact name or code."""
        target = REFERENCES[name]
        found = self.known(target, value)
        if found:
            return found
        if self.store.get(target, value) is not None:
            return value
        if target in NAMED:
            by_name = self._by_name(target).get(value.casefold())
            if by_name:
                return by_name
        raise RejectedRowError(
            "invalid_record",
            f"{name} {value!r} names no {target} in the golden store; import the {target} first",
            name,
            value=value,
        )

    def _by_name(self, entity: str) -> dict[str, str]:
        if entity not in self._names:
            names: dict[str, str] = {}
            for v in self.store.iter_records(entity):
                for key in NAME_FIELDS:
                    if v.payload.get(key):
                        names.setdefault(str(v.payload[key]).casefold(), v.record_id)
            self._names[entity] = names
        return self._names[entity]

    def _line(self, sid: str, fields: dict[str, Any]) -> Change:
        """A line item into its deal: a new version of the deal with the line replaced."""
        ref = str(fields.pop("opportunity_id", "") or "")
        if not ref:
            raise RejectedRowError(
                "missing_attribute", "opportunity_id: no deal named", "opportunity_id"
            )
        parent = self.reference("opportunity_id", ref)
        golden = self.store.get("Opportunity", parent)
        assert golden is not None  # `reference` found it
        line_id = f"csv-line-{sid}"[:200]
        lines = [x for x in golden.payload.get("line_items") or [] if x.get("id") != line_id]
        lines.append({**fields, "id": line_id})
        lines.sort(key=lambda x: str(x["id"]))
        return Change(self._parse({**golden.payload, "line_items": lines}), utcnow(), SYSTEM)

    # ---- a file -------------------------------------------------------------------------

    def run(
        self, rows: Iterable[tuple[int, dict[str, str]]], source: str, *, close: bool = True
    ) -> CsvReport:
        """Import `rows`; with `close`, the exceptions earlier imports of the rows that import
        now raised are resolved (a replay resolves its own exception instead)."""
        report = CsvReport()
        batch: list[Change] = []
        pending: set[str] = set()  # source IDs the batch holds
        rejects: list[NewException] = []
        imported: list[str] = []
        for number, values in rows:
            report.rows += 1
            sid = self.source_id(number, values, source)
            if sid in pending or self.entity == LINE_ITEM:
                # A row repeating one of the batch (or a line nesting into a deal another
                # line may have just changed) must read what the batch writes.
                self._write(batch, report)
                batch, pending = [], set()
            try:
                change = self.change(number, values, source)
            except RejectedRowError as exc:
                problem = RowProblem(number, exc.category, str(exc), exc.field, exc.details)
                report.rejected.append(problem)
                rejects.append(self.exception(problem, values, source))
                if len(rejects) >= BATCH:
                    self.exceptions.raise_many(rejects, actor="import")
                    rejects = []
                continue
            batch.append(change)
            pending.add(sid)
            imported.append(sid)
            if len(batch) >= BATCH:
                self._write(batch, report)
                batch, pending = [], set()
        self._write(batch, report)
        self.exceptions.raise_many(rejects, actor="import")
        report.closed = self.close_fixed(imported) if close else 0
        return report

    def _write(self, batch: list[Change], report: CsvReport) -> None:
        if not batch:
            return
        result = self.store.write(batch, actor="import")
        for change in batch:  # what later rows of the file may name
            for key, source_id in change.record.xrefs.items():
                system, _, obj = key.partition(":")
                if system == SYSTEM and obj in self._xrefs:
                    self._xrefs[obj][source_id] = change.record.id
        report.created += result.created
        report.updated += result.updated
        report.unchanged += result.unchanged
        self._names.clear()

    def exception(self, problem: RowProblem, values: dict[str, str], source: str) -> NewException:
        """The exception a rejected row raises, holding the row and its mapping for replay."""
        sid = self.source_id(problem.row, values, source)
        entity = self.entity if self.entity != LINE_ITEM else "Opportunity"
        payload = {
            "file": source,
            "row": problem.row,
            "entity": self.entity,
            "values": values,
            "mapping": self._mapping,
        }
        return NewException(
            category=problem.category,
            message=f"{source} row {problem.row}: {problem.message}",
            system=SYSTEM,
            object=self.entity,
            source_id=sid,
            entity_type=entity,
            record_id=self.canonical_id(self.entity, sid),
            details={"row": problem.row, "file": source, "field": problem.field}
            | {"stage": STAGE}
            | problem.details,
            payload=json.dumps(payload, sort_keys=True, default=str),
        )

    def close_fixed(self, source_ids: list[str]) -> int:
        """Resolve the active exceptions earlier imports of these rows raised (the checks'
        findings about the records are the checks' to close)."""
        x = exception_record.c
        unique = sorted(set(source_ids))
        found: list[str] = []
        with self.store.engine.connect() as conn:
            for start in range(0, len(unique), 500):
                rows = conn.execute(
                    select(x.id, x.details).where(
                        x.system == SYSTEM,
                        x.object == self.entity,
                        x.source_id.in_(unique[start : start + 500]),
                        x.state.in_([s.value for s in ACTIVE]),
                    )
                )
                found += [str(r.id) for r in rows if json.loads(r.details).get("stage") == STAGE]
        for exc_id in found:
            self.exceptions.resolve(exc_id, "auto-resolved: the row imported", "import")
        return len(found)


def _fields(entity: str) -> set[str]:
    from pssync.onboarding.csv_mapping import fields_of

    return set(fields_of(entity))
