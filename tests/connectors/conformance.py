"""The connector conformance suite: one base class every connector's test module subclasses.

A subclass says how to start its system's emulator, how to build a connector for it, and how to
make records of the object it writes; the suite then checks the contract of
`pssync.connectors.base.Connector` the same way for every system: complete snapshots, exact and
resumable incremental reads, idempotent upserts, page boundaries, round trips of awkward values,
per-record failures, and the error class of each injected fault (``PUT /__admin/faults``).

Cost: one emulator per test class for the write tests (class scope), plus short-lived emulators
for the tests that need an exact record count. See docs/connectors.md for a walk-through.
"""

from __future__ import annotations

import abc
import dataclasses
import uuid
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

import httpx
import pytest

from pssync.connectors.base import Connector, Outcome, Page, SourceRecord
from pssync.connectors.errors import (
    AuthError,
    ConnectorError,
    PermanentError,
    RetriableError,
)
from pssync.sandbox.common.emulator import Emulator
from pssync.sandbox.common.faults import FaultConfig

View = dict[str, list[dict[str, Any]]]

# name -> (faults to set, expected error class); "quota" takes the class from the subclass.
FAULTS: dict[str, dict[str, Any]] = {
    "429": {"error_rate": 1.0, "error_statuses": [429], "retry_after": 7},
    "500": {"error_rate": 1.0, "error_statuses": [500]},
    "503": {"error_rate": 1.0, "error_statuses": [503], "retry_after": 3},
    "dropped_connection": {"drop_rate": 1.0},
    "timeout": {"timeout_rate": 1.0, "timeout_seconds": 2.0},
    "quota": {"quota_exhausted": True},
}


def drain(pages: Iterator[Page]) -> tuple[list[SourceRecord], str | None, int]:
    """All records of a paged read, the last page's cursor and the number of pages."""
    records: list[SourceRecord] = []
    cursor: str | None = None
    count = 0
    for page in pages:
        records += page.records
        cursor = page.cursor if page.cursor is not None else cursor
        count += 1
    return records, cursor, count


def plain_equal(expected: Any, actual: Any) -> bool:
    """Equality that forgives wire cosmetics: "" vs None, "12.5" vs "12.500", dates vs
    datetimes at midnight. Connectors with other quirks override `same_value`."""
    if expected in (None, "") or actual in (None, ""):
        return expected in (None, "") and actual in (None, "")
    if expected == actual:
        return True
    try:
        return Decimal(str(expected)) == Decimal(str(actual))
    except InvalidOperation:
        pass
    text_e, text_a = str(expected), str(actual)
    return text_a.startswith(text_e[:10]) and text_e[10:] in ("", "T00:00:00+00:00")


class ConnectorConformance(abc.ABC):
    """Subclass as ``class TestSapS4(ConnectorConformance)`` and implement the hooks below."""

    # ---- what the subclass declares ---------------------------------------------------
    write_object: ClassVar[str]  # an object the connector can create and update
    external_id_field: ClassVar[str]  # its external-ID field (vendor name)
    small_page: ClassVar[int] = 3  # page size used by paging tests
    quota_error: ClassVar[type[ConnectorError]] = RetriableError  # what a spent quota raises
    http_faults: ClassVar[bool] = True  # False when the connector does not speak HTTP
    derived_fields: ClassVar[frozenset[str]] = frozenset()  # the system computes these itself

    # ---- hooks ------------------------------------------------------------------------
    @abc.abstractmethod
    def start_emulator(self) -> Emulator:
        """A started, empty emulator of the system."""

    @abc.abstractmethod
    def seed_view(self) -> View:
        """The records the shared emulator is seeded with (the firm generator's view where it
        fits the emulator)."""

    @abc.abstractmethod
    def seeded_records(self, view: View) -> dict[str, dict[str, dict[str, Any]]]:
        """Object -> record ID the connector must report -> the seeded row (vendor fields)."""

    @abc.abstractmethod
    def connector_for(self, emulator: Emulator, **settings: Any) -> Connector:
        """A new connector instance for `emulator`; `settings` override (e.g. page_size)."""

    @abc.abstractmethod
    def rows_for_paging(self, n: int) -> View:
        """A seed view holding exactly `n` records of `write_object` (plus what they need)."""

    @abc.abstractmethod
    def make_record(self, i: int, tag: str, version: int = 0) -> dict[str, Any]:
        """A valid record of `write_object` whose external ID is unique for (tag, i); another
        `version` changes at least one written field."""

    @abc.abstractmethod
    def rich_record(self, tag: str) -> dict[str, Any]:
        """A valid record with unicode, text at the field's maximum length and null fields."""

    @abc.abstractmethod
    def bad_record(self, tag: str) -> tuple[dict[str, Any], str | None]:
        """A record the system refuses, and the field its refusal names (None if unnamed)."""

    def bad_credentials(self, emulator: Emulator) -> Connector | None:
        """A connector with wrong credentials; None when the system has none."""
        return None

    def settle(self, emulator: Emulator) -> None:  # noqa: B027 - optional hook
        """Wait until what was written is visible to reads (systems that export on a schedule
        run the export here); most systems need nothing."""

    def same_value(self, field: str, written: Any, read: Any) -> bool:
        return plain_equal(written, read)

    # ---- fixtures ---------------------------------------------------------------------
    @pytest.fixture(scope="class")
    @classmethod
    def emulator(cls) -> Iterator[Emulator]:
        """The shared emulator of this class: seeded once, written to by the write tests."""
        hooks = cls()
        emu = hooks.start_emulator()
        emu.seed(hooks.seed_view())
        yield emu
        emu.stop()

    @pytest.fixture
    def connector(self, emulator: Emulator) -> Iterator[Connector]:
        conn = self.connector_for(emulator)
        yield conn
        conn.close()

    @pytest.fixture
    def tag(self) -> str:
        """Makes external IDs unique per test, since the class shares one emulator."""
        return uuid.uuid4().hex[:6].upper()

    @pytest.fixture
    def faults(self, emulator: Emulator) -> Iterator[Any]:
        """`faults(**config)` sets the emulator's fault injection; reset after the test."""
        admin = f"{emulator.base_url}/__admin/faults"

        def put(**config: Any) -> None:
            httpx.put(admin, json=config, verify=False).raise_for_status()

        yield put
        defaults = dataclasses.asdict(FaultConfig())
        httpx.put(admin, json=defaults, verify=False).raise_for_status()

    # ---- helpers ----------------------------------------------------------------------
    def by_external_id(self, connector: Connector) -> dict[str, list[SourceRecord]]:
        records, _, _ = drain(connector.snapshot(self.write_object))
        found: dict[str, list[SourceRecord]] = {}
        for rec in records:
            ext = rec.data.get(self.external_id_field)
            if ext:
                found.setdefault(str(ext), []).append(rec)
        return found

    def upsert(self, connector: Connector, records: list[dict[str, Any]]) -> list[Any]:
        return connector.upsert(self.write_object, self.external_id_field, records)

    # ---- reads ------------------------------------------------------------------------
    def test_snapshot_returns_every_seeded_record(self) -> None:
        view = self.seed_view()
        emu = self.start_emulator()
        try:
            emu.seed(view)
            conn = self.connector_for(emu, page_size=7)
            for obj, expected in self.seeded_records(view).items():
                records, _, _ = drain(conn.snapshot(obj))
                ids = [r.id for r in records]
                assert len(ids) == len(set(ids)), f"{obj}: a record came twice"
                assert set(ids) == set(expected), f"{obj}: snapshot differs from the seeded view"
                for rec in records:
                    for field, value in expected[rec.id].items():
                        if field in rec.data and field not in self.derived_fields:
                            assert self.same_value(field, value, rec.data[field]), (
                                f"{obj} {rec.id} {field}: seeded {value!r}, read "
                                f"{rec.data[field]!r}"
                            )
        finally:
            emu.stop()

    @pytest.mark.parametrize("extra", [-1, 0, 1], ids=["empty", "one_page", "page_plus_one"])
    def test_page_boundaries(self, extra: int) -> None:
        n = 0 if extra < 0 else self.small_page + extra
        emu = self.start_emulator()
        try:
            emu.seed(self.rows_for_paging(n))
            conn = self.connector_for(emu, page_size=self.small_page)
            for read in (conn.snapshot, lambda obj: conn.changes(obj, None)):
                records, _, pages = drain(read(self.write_object))
                ids = [r.id for r in records]
                assert len(ids) == n and len(set(ids)) == n
                assert pages <= (n // self.small_page) + 1
                if n > self.small_page:
                    assert pages >= 2, "a read of more than a page must come in pages"
        finally:
            emu.stop()

    def test_incremental_read_is_exact_and_resumable(
        self, emulator: Emulator, connector: Connector, tag: str
    ) -> None:
        base = [self.make_record(i, tag) for i in range(3)]
        assert all(r.outcome is Outcome.CREATED for r in self.upsert(connector, base))
        self.settle(emulator)
        _, cursor, _ = drain(connector.changes(self.write_object, None))
        assert cursor is not None

        changed = [self.make_record(i, tag, version=1) for i in range(2)]
        added = [self.make_record(i, tag) for i in range(3, 5)]
        results = self.upsert(connector, changed + added)
        assert [r.outcome for r in results] == [Outcome.UPDATED] * 2 + [Outcome.CREATED] * 2
        expected = {r.id for r in results}
        self.settle(emulator)

        fresh = self.connector_for(emulator, page_size=self.small_page)
        records, next_cursor, _ = drain(fresh.changes(self.write_object, cursor))
        ids = [r.id for r in records]
        assert len(ids) == len(set(ids)), "a changed record came twice"
        assert set(ids) == expected
        again = self.connector_for(emulator, page_size=self.small_page)
        assert drain(again.changes(self.write_object, next_cursor))[0] == []

    # ---- writes -----------------------------------------------------------------------
    def test_upsert_twice_leaves_one_record_each(
        self, emulator: Emulator, connector: Connector, tag: str
    ) -> None:
        batch = [self.make_record(i, tag) for i in range(3)]
        first = self.upsert(connector, batch)
        assert [r.outcome for r in first] == [Outcome.CREATED] * 3
        second = self.upsert(connector, batch)
        assert all(r.outcome in (Outcome.UNCHANGED, Outcome.UPDATED) for r in second)
        assert [r.id for r in second] == [r.id for r in first]
        self.settle(emulator)
        found = self.by_external_id(connector)
        for record in batch:
            assert len(found[str(record[self.external_id_field])]) == 1

    def test_unicode_long_text_and_nulls_round_trip(
        self, emulator: Emulator, connector: Connector, tag: str
    ) -> None:
        record = self.rich_record(tag)
        assert None in record.values(), "rich_record should carry a null field"
        (result,) = self.upsert(connector, [record])
        assert result.outcome is Outcome.CREATED, result.error
        self.settle(emulator)
        (stored,) = self.by_external_id(connector)[str(record[self.external_id_field])]
        for field, value in record.items():
            assert self.same_value(field, value, stored.data.get(field)), (
                f"{field}: wrote {value!r}, read {stored.data.get(field)!r}"
            )

    def test_bad_record_fails_alone(self, connector: Connector, tag: str) -> None:
        bad, field = self.bad_record(tag)
        batch = [self.make_record(0, tag), bad, self.make_record(1, tag)]
        results = self.upsert(connector, batch)
        assert [r.external_id for r in results] == [str(r[self.external_id_field]) for r in batch]
        assert results[0].outcome is Outcome.CREATED and results[2].outcome is Outcome.CREATED
        failed = results[1]
        assert failed.outcome is Outcome.FAILED
        assert isinstance(failed.error, PermanentError) and failed.error.message
        assert failed.error.record_id == str(bad[self.external_id_field])
        if field is not None:
            assert failed.error.field == field

    # ---- faults -----------------------------------------------------------------------
    @pytest.mark.parametrize("fault", sorted(FAULTS))
    def test_fault_maps_to_error_class(self, emulator: Emulator, faults: Any, fault: str) -> None:
        if not self.http_faults:
            pytest.skip("this connector does not reach its system over HTTP")
        conn = self.connector_for(emulator, timeout=0.5)
        drain(conn.snapshot(self.write_object))  # warm: metadata, sessions
        faults(**FAULTS[fault])
        expected = self.quota_error if fault == "quota" else RetriableError
        with pytest.raises(expected) as caught:
            drain(conn.snapshot(self.write_object))
        if "retry_after" in FAULTS[fault] and isinstance(caught.value, RetriableError):
            assert caught.value.retry_after == FAULTS[fault]["retry_after"]

    def test_retriable_fault_on_write_raises(
        self, emulator: Emulator, faults: Any, tag: str
    ) -> None:
        if not self.http_faults:
            pytest.skip("this connector does not reach its system over HTTP")
        conn = self.connector_for(emulator)
        drain(conn.snapshot(self.write_object))
        faults(error_rate=1.0, error_statuses=[503])
        with pytest.raises(RetriableError):
            self.upsert(conn, [self.make_record(0, tag)])

    def test_wrong_credentials_raise_auth_error(self, emulator: Emulator) -> None:
        conn = self.bad_credentials(emulator)
        if conn is None:
            pytest.skip("this system has no credentials")
        with pytest.raises(AuthError):
            drain(conn.snapshot(self.write_object))
