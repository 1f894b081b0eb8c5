"""FileDropConnector: customers, projects and invoices of a legacy ERP, exchanged as CSV files,
plus the contracts, billing schedules, milestones, payments and general ledger journal it
exports (read-only).

Writes are batches dropped into the ERP's inbound folder and answered line by line in ack and
reject files; reads come from the ERP's export files. Every file operation that fails with an
OSError (share unmounted, permissions) is reported as retriable: the files are still there when
the share comes back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from pssync.connectors.base import (
    ColumnSnapshot,
    Connector,
    ConnectorSettings,
    Deletion,
    FieldInfo,
    ObjectDescription,
    Outcome,
    Page,
    SourceRecord,
    UpsertResult,
)
from pssync.connectors.errors import PermanentError, RetriableError
from pssync.connectors.filedrop.batches import Answer, batch_name, wait_for_answer, write_batch
from pssync.connectors.filedrop.exports import (
    SYSTEM,
    Export,
    ExportCursor,
    audit_stamp,
    business_date,
    fingerprint,
    journal_lines,
    latest_export,
    latest_export_frame,
)
from pssync.connectors.filedrop.handoff import FileDropHandoff
from pssync.connectors.filedrop.layouts import (
    ERP_ID,
    EXTERNAL_ID,
    KINDS,
    REFERENCES,
    UPDATED,
    Kind,
    erp_column,
)
from pssync.connectors.filedrop.settings import FileDropSettings


class FileDropConnector(Connector):
    """A legacy ERP behind inbound/ack/reject/outbound folders."""

    name = "filedrop"
    settings_model = FileDropSettings
    objects = tuple(KINDS)
    write_batch_size = 500

    def __init__(self, settings: ConnectorSettings) -> None:
        super().__init__(settings)
        assert isinstance(settings, FileDropSettings)  # checked by Connector.__init__
        self.config = settings
        # external_id -> erp_id acked to this instance, so that a record created a moment ago
        # counts as an update even before the ERP's next export shows it.
        self._acked: dict[str, dict[str, str]] = {kind: {} for kind in KINDS}

    def kind(self, obj: str) -> Kind:
        try:
            return KINDS[obj]
        except KeyError:
            raise PermanentError(
                f"unknown record kind {obj!r}; supported: {', '.join(KINDS)}", system=SYSTEM
            ) from None

    def export(self, kind: Kind) -> Export | None:
        try:
            export = latest_export(self.config.outbound_dir, kind.file)
        except OSError as exc:
            raise RetriableError(f"cannot read exports: {exc}", system=SYSTEM) from exc
        if export is not None and kind.posting is not None:
            accounts = self.config.revenue_accounts
            if kind.posting == "cost":
                accounts = self.config.cost_accounts
            export.rows = journal_lines(export.rows, set(accounts), kind.posting)
        return export

    def handoff(self, entity_code: str, vendor_value: Callable[[str, Any], Any]) -> FileDropHandoff:
        """The closed-won handoff's batch rows for this ERP (see `handoff`)."""
        return FileDropHandoff(vendor_value, self.external_id_of)

    def external_id_of(self, obj: str, erp_id: str) -> str | None:
        """The external ID a record was sent under (what other records reference it by), from
        this instance's acks or the newest export; None when the ERP does not know `erp_id`."""
        kind = self.kind(obj)
        acked = {v: k for k, v in self._acked[kind.name].items()}
        if erp_id in acked:
            return acked[erp_id]
        export = self.export(kind)
        rows = export.rows if export else []
        return next((str(r[EXTERNAL_ID]) for r in rows if str(r[ERP_ID]) == erp_id), None)

    def references(self, kind: Kind) -> dict[str, dict[str, str]]:
        """Reference column -> (external ID -> ERP id) for the kinds `kind` names.

        Rows name customers and projects by the external ID they were sent under (a CRM ID
        for what an earlier integration sent, a canonical ID for what pssync sent), while the
        xref map knows them by ERP id; reads add the ERP id as ``<column minus _external_id>
        _erp_id`` (``customer_erp_id``) so references resolve like any other system's.
        """
        out: dict[str, dict[str, str]] = {}
        for column, target in REFERENCES.get(kind.name, {}).items():
            export = self.export(self.kind(target))
            rows = export.rows if export else []
            out[column] = {str(r[EXTERNAL_ID]): str(r[ERP_ID]) for r in rows if r.get(EXTERNAL_ID)}
        return out

    def with_references(
        self, kind: Kind, export: Export, rows: list[dict[str, str | None]]
    ) -> list[SourceRecord]:
        refs = self.references(kind)
        out = []
        for row in rows:
            data = dict(row)
            for column, erp_ids in refs.items():
                value = row.get(column)
                data[erp_column(column)] = erp_ids.get(value) if value else None
            stamp = row_stamp(kind, row) or export.written_at
            out.append(SourceRecord(kind.name, str(row[ERP_ID]), data, stamp))
        return out

    def history(self, obj: str, records: Sequence[SourceRecord]) -> list[SourceRecord]:
        """What the ERP's exports say of a record's earlier states (it keeps no history
        beyond them): an invoice paid since it was issued was open on its date; a milestone
        billed since the ERP created it was planned, with no invoice, from its creation."""
        earlier = {"invoices": ("invoice_date", _unpaid), "milestones": ("created_at", _unbilled)}
        if obj not in earlier:
            return []
        column, before = earlier[obj]
        out = []
        for record in records:
            since = business_date(record.data.get(column))
            state = before(record.data)
            if state is None or since is None:
                continue
            out.append(SourceRecord(record.object, record.id, state, since))
        return out

    # ---- reads -------------------------------------------------------------------------

    def snapshot(self, obj: str) -> Iterator[Page]:
        """Every record of the newest export, in pages."""
        kind = self.kind(obj)
        export = self.export(kind)
        if export is None or not export.rows:
            yield Page([], None, True)
            return
        size = self.config.page_size
        for start in range(0, len(export.rows), size):
            chunk = export.rows[start : start + size]
            yield Page(
                self.with_references(kind, export, chunk),
                None,
                start + size >= len(export.rows),
            )

    def snapshot_columns(self, obj: str) -> ColumnSnapshot | None:
        """The newest export read by polars, for kinds whose rows name no other record (the
        others gain ERP-id columns per row, see `with_references`)."""
        kind = self.kind(obj)
        if REFERENCES.get(kind.name):
            return None
        try:
            found = latest_export_frame(self.config.outbound_dir, kind.name)
        except OSError as exc:
            raise RetriableError(f"cannot read exports: {exc}", system=SYSTEM) from exc
        if found is None:
            return None
        frame, written = found
        return ColumnSnapshot(frame, ERP_ID, written)

    def changes(self, obj: str, cursor: str | None) -> Iterator[Page]:
        """Rows of the newest export that are new or differ from what the cursor delivered."""
        kind = self.kind(obj)
        state = ExportCursor.decode(cursor)
        export = self.export(kind)
        if export is None:
            yield Page([], cursor, True)
            return
        state.row = state.start_row(export)
        state.file, state.version = export.path.name, export.version
        size = self.config.page_size
        page: list[dict[str, str | None]] = []
        for index in range(state.row, len(export.rows)):
            row = export.rows[index]
            erp_id, mark = str(row[ERP_ID]), fingerprint(row)
            state.row = index + 1
            if state.seen.get(erp_id) == mark:
                continue
            state.seen[erp_id] = mark
            page.append(row)
            if len(page) == size and state.row < len(export.rows):
                yield Page(self.with_references(kind, export, page), state.encode(), False)
                page = []
        yield Page(self.with_references(kind, export, page), state.encode(), True)

    def deletes(self, obj: str, cursor: str | None) -> tuple[list[Deletion], str | None]:
        """Records in the previous export (the cursor) that the newest export no longer has.
        The first call only records the baseline."""
        kind = self.kind(obj)
        export = self.export(kind)
        if export is None:
            return [], cursor
        current = {str(r[ERP_ID]) for r in export.rows}
        before = set(ExportCursor.decode(cursor).seen) if cursor else current
        gone = sorted(before - current)
        state = ExportCursor(export.path.name, export.version, len(export.rows))
        state.seen = {erp_id: "" for erp_id in sorted(current)}
        return [Deletion(kind.name, i, export.written_at) for i in gone], state.encode()

    # ---- writes ------------------------------------------------------------------------

    def upsert(
        self, obj: str, external_id_field: str, records: list[dict[str, Any]]
    ) -> list[UpsertResult]:
        """Drop one batch with the records that need writing and wait for the ERP's answer."""
        kind = self.kind(obj)
        if kind.export_only:
            reason = f"{kind.name} are the ERP's own books: they are read from its exports only"
            return [self.failed(str(r.get(EXTERNAL_ID) or ""), reason) for r in records]
        if external_id_field != EXTERNAL_ID:
            raise PermanentError(
                f"the ERP matches records by {EXTERNAL_ID!r} only, not {external_id_field!r}",
                system=SYSTEM,
                field=external_id_field,
            )
        export = self.export(kind)
        current = {str(r[EXTERNAL_ID]): r for r in export.rows} if export else {}
        results: list[UpsertResult | None] = [None] * len(records)
        batch: list[tuple[int, dict[str, str]]] = []
        for index, record in enumerate(records):
            ext = str(record.get(EXTERNAL_ID) or "")
            row, problem = self.to_row(kind, record)
            if problem is not None:
                results[index] = self.failed(ext, *problem)
            elif self.config.skip_unchanged and _same(row, current.get(ext)):
                erp_id = str(current[ext][ERP_ID])
                results[index] = UpsertResult(ext, Outcome.UNCHANGED, id=erp_id)
            else:
                batch.append((index, row))
        # One file per column set: a column missing from a file is left alone by the ERP,
        # while an empty cell clears the field.
        groups: dict[tuple[str, ...], list[tuple[int, dict[str, str]]]] = {}
        for index, row in batch:
            columns = tuple(c for c in kind.columns if c in row)
            groups.setdefault(columns, []).append((index, row))
        for columns, members in groups.items():
            answer = self.send(kind, columns, [row for _, row in members])
            for line, (index, row) in enumerate(members, start=2):
                ext = row[EXTERNAL_ID]
                known = ext in current or ext in self._acked[kind.name]
                results[index] = self.result(kind, ext, line, answer, known)
        return [r for r in results if r is not None]

    def to_row(
        self, kind: Kind, record: dict[str, Any]
    ) -> tuple[dict[str, str], tuple[str, str | None] | None]:
        """The CSV row of a record, or (reason, field) when the ERP could not take it."""
        if not str(record.get(EXTERNAL_ID) or "").strip():
            return {}, (f"no value for {EXTERNAL_ID}", EXTERNAL_ID)
        row: dict[str, str] = {}
        for name, value in record.items():
            if name not in kind.columns:
                return {}, (f"{kind.name} have no column {name}", name)
            text = "" if value is None else str(value)
            if "\n" in text or "\r" in text:
                return {}, ("line breaks cannot travel in this ERP's CSV", name)
            row[name] = text
        return row, None

    def send(self, kind: Kind, columns: tuple[str, ...], rows: list[dict[str, str]]) -> Answer:
        name = batch_name(kind.name)
        cfg = self.config
        try:
            write_batch(cfg.inbound_dir, name, columns, rows)
            return wait_for_answer(
                cfg.ack_dir, cfg.reject_dir, name, cfg.ack_timeout, cfg.poll_interval
            )
        except OSError as exc:
            raise RetriableError(f"batch {name}: {exc}", system=SYSTEM) from exc

    def result(self, kind: Kind, ext: str, line: int, answer: Answer, known: bool) -> UpsertResult:
        problems = answer.rejected.get(line) or answer.rejected.get(1) or answer.rejected.get(0)
        if problems:
            fields = [f for f, _ in problems if f]
            reason = "; ".join(f"{f}: {r}" if f else r for f, r in problems)
            return self.failed(ext, reason, fields[0] if fields else None)
        erp_id = answer.acked.get(line)
        if erp_id is None:
            return self.failed(ext, f"the ERP neither acknowledged nor rejected line {line}")
        self._acked[kind.name][ext] = erp_id
        return UpsertResult(ext, Outcome.UPDATED if known else Outcome.CREATED, id=erp_id)

    @staticmethod
    def failed(ext: str, reason: str, field: str | None = None) -> UpsertResult:
        error = PermanentError(reason, system=SYSTEM, record_id=ext, field=field)
        return UpsertResult(ext, Outcome.FAILED, error=error)

    def describe(self, obj: str) -> ObjectDescription:
        """The interface document's columns (the files carry no schema of their own)."""
        kind = self.kind(obj)
        fields = [FieldInfo(ERP_ID, "string", nullable=False, updateable=False)]
        fields += [
            FieldInfo(
                c,
                kind.type_of(c),
                nullable=c not in kind.required,
                updateable=not kind.export_only,
                external_id=c == EXTERNAL_ID,
            )
            for c in kind.columns
        ]
        fields += [FieldInfo(c, kind.type_of(c), updateable=False) for c in kind.erp_columns]
        return ObjectDescription(kind.name, fields)


def row_stamp(kind: Kind, row: dict[str, str | None]) -> dt.datetime | None:
    """When a row's state became true: a dated fact's business date (`Kind.dated_by`), else
    the ERP's own change stamp (``updated_at``); None when the export carries neither (an ERP
    that exports no audit columns), and then the export's time stands in."""
    stamps = (business_date(row.get(column)) for column in kind.dated_by)
    return next((s for s in stamps if s is not None), None) or audit_stamp(row.get(UPDATED))


def _same(row: dict[str, str], exported: dict[str, str | None] | None) -> bool:
    """Does the export already hold every value of `row`? (The ERP trims cells.)"""
    if exported is None:
        return False
    return all(value.strip() == (exported.get(column) or "") for column, value in row.items())


def _unpaid(data: dict[str, Any]) -> dict[str, Any] | None:
    """A (partly) paid invoice as it was when issued."""
    if data.get("status") in (None, "open"):
        return None
    return {**data, "status": "open", "paid_amount": None, "paid_date": None}


def _unbilled(data: dict[str, Any]) -> dict[str, Any] | None:
    """A billed milestone as it was before its invoice."""
    if data.get("status") in (None, "PLANNED") or not data.get("invoice_external_id"):
        return None
    return {**data, "status": "PLANNED", "invoice_external_id": None, "invoice_erp_id": None}
