"""The kit's stamp cursor: exact boundaries, the overlap window, and the stored cursors of the
connectors that will move onto it (Kantata/NetSuite second-stamp cursors, Salesforce's)."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from pssync.connectors.base import SourceRecord
from pssync.connectors.errors import PermanentError
from pssync.connectors.kit.cursor import StampCursor, fingerprint
from pssync.connectors.stamp_cursor import SecondStampCursor

T0 = dt.datetime(2026, 3, 2, 10, 0, 0, tzinfo=dt.UTC)


def rec(record_id: str, at: dt.datetime, **data: object) -> SourceRecord:
    return SourceRecord("x", record_id, {"id": record_id, **data}, at)


def test_records_sharing_the_boundary_second_come_once_and_changes_again() -> None:
    cursor = StampCursor()
    first = cursor.admit([rec("2", T0, v=1), rec("1", T0, v=1)])
    assert [r.id for r in first] == ["1", "2"]  # (stamp, ID) order
    resumed = StampCursor.decode(cursor.encode())
    assert resumed.since() == T0
    again = resumed.admit([rec("1", T0, v=1), rec("2", T0, v=2), rec("3", T0, v=1)])
    assert [r.id for r in again] == ["2", "3"]  # 2 changed within the second, 3 is new


def test_stamps_are_cut_to_the_precision_and_unstamped_records_left_out() -> None:
    cursor = StampCursor()
    fresh = cursor.admit([rec("1", T0 + dt.timedelta(microseconds=900)), rec("2", None)])  # type: ignore[arg-type]
    assert [r.id for r in fresh] == ["1"] and cursor.at == T0


def test_the_shape_is_the_one_kantata_and_netsuite_store() -> None:
    old = SecondStampCursor(T0, {"7": "abc"}).encode()
    cursor = StampCursor.decode(old)
    assert cursor.encode() == old
    assert not cursor.admits(T0, "7", "abc") and cursor.admits(T0, "7", "def")


def test_a_salesforce_cursor_decodes_with_its_ids_matching_any_version() -> None:
    text = json.dumps({"v": 1, "stamp": T0.isoformat(), "ids": ["001A", "001B"]})
    cursor = StampCursor.decode(text)
    assert not cursor.admits(T0, "001A", fingerprint({"any": 1}))
    assert cursor.admits(T0, "001C", "x") and cursor.admits(
        T0 + dt.timedelta(seconds=1), "001A", "x"
    )


def test_the_overlap_rereads_a_window_without_repeating_it() -> None:
    overlap = dt.timedelta(seconds=30)
    cursor = StampCursor.decode(None, overlap)
    cursor.admit([rec("1", T0), rec("2", T0 + dt.timedelta(seconds=20))])
    resumed = StampCursor.decode(cursor.encode(), overlap)
    assert resumed.since() == T0 + dt.timedelta(seconds=20) - overlap
    late = rec("3", T0 + dt.timedelta(seconds=5))  # committed late with an earlier stamp
    fresh = resumed.admit([rec("1", T0), rec("2", T0 + dt.timedelta(seconds=20)), late])
    assert [r.id for r in fresh] == ["3"]
    resumed.admit([rec("4", T0 + dt.timedelta(minutes=5))])
    assert set(resumed.known) == {"4"}  # the window moved on: older fingerprints dropped


@pytest.mark.parametrize("text", ["not json", '{"v": 2, "at": "2026-01-01"}', '{"v": 1}'])
def test_a_bad_cursor_is_permanent(text: str) -> None:
    with pytest.raises(PermanentError):
        StampCursor.decode(text)
