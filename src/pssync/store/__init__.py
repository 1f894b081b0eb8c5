"""The golden store: bitemporal canonical records, xref, field provenance and the audit log."""

from pssync.store.db import database_url, make_engine, migrate, open_engine
from pssync.store.history import Change, GoldenStore, RecordVersion, WriteResult

__all__ = [
    "Change",
    "GoldenStore",
    "RecordVersion",
    "WriteResult",
    "database_url",
    "make_engine",
    "migrate",
    "open_engine",
]
