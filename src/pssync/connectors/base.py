"""The connector contract: what every system adapter offers the engine, and nothing more.

Reads come as pages of `SourceRecord`s: a snapshot of an object, the changes since a cursor (the
cursor comes back with the page, is stored by the engine and makes the read resumable), and the
deletes since a cursor. Writes are batched upserts by external ID that answer per record, so one
bad record never silently fails its batch. `describe` exposes the object's fields so schema drift
is visible. Failures are raised as the classes in `connectors.errors`.
"""

from __future__ import annotations

import abc
import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict

from pssync.connectors.errors import PermanentError

if TYPE_CHECKING:
    import polars as pl


class ConnectorSettings(BaseModel):
    """Typed settings of one connector; subclasses add fields (secrets as SecretStr)."""

    model_config = ConfigDict(extra="forbid")

    base_url: str


@dataclass(frozen=True)
class SourceRecord:
    """One record as the system holds it, in its own field names."""

    object: str
    id: str
    data: dict[str, Any]
    modified_at: dt.datetime | None = None
    deleted: bool = False

    @property
    def version(self) -> str:
        """What orders this record's changes (its modification stamp)."""
        return self.modified_at.isoformat() if self.modified_at else ""


@dataclass
class Page:
    """A page of records and the cursor to resume after it (None when nothing more)."""

    records: list[SourceRecord]
    cursor: str | None
    done: bool = True


@dataclass(frozen=True)
class ColumnSnapshot:
    """Every live record of an object as one frame of string columns (null: empty), as
    `snapshot` would give them: `id_column` is each record's ID, `modified_at` every record's
    stamp. Reconciliation compares it column-wise (docs/decisions/0007)."""

    frame: pl.DataFrame
    id_column: str
    modified_at: dt.datetime | None


@dataclass(frozen=True)
class Deletion:
    object: str
    id: str
    deleted_at: dt.datetime


class Outcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    FAILED = "failed"


@dataclass
class UpsertResult:
    """What happened to one record of an upsert batch."""

    external_id: str
    outcome: Outcome
    id: str | None = None
    error: PermanentError | None = None


@dataclass(frozen=True)
class FieldInfo:
    name: str
    type: str
    nullable: bool = True
    updateable: bool = True
    external_id: bool = False
    length: int | None = None


@dataclass
class ObjectDescription:
    object: str
    fields: list[FieldInfo] = field(default_factory=list)

    def field_names(self) -> set[str]:
        return {f.name for f in self.fields}


class Connector(abc.ABC):
    """Base class of every connector. Subclasses set the class attributes and implement reads,
    writes and describe for the objects they support."""

    name: ClassVar[str]
    settings_model: ClassVar[type[ConnectorSettings]] = ConnectorSettings
    objects: ClassVar[tuple[str, ...]] = ()
    write_batch_size: ClassVar[int] = 200
    read_page_size: ClassVar[int] = 2000

    def __init__(self, settings: ConnectorSettings) -> None:
        """Refuse another connector's settings here, once, for every connector (third-party
        ones included); subclasses then narrow the type with a plain `isinstance` assert."""
        if not isinstance(settings, self.settings_model):
            raise TypeError(
                f"{type(self).__name__} needs {self.settings_model.__name__}, "
                f"got {type(settings).__name__}"
            )
        self.settings = settings

    @abc.abstractmethod
    def snapshot(self, obj: str) -> Iterator[Page]:
        """Every live record of `obj`, page by page."""

    def snapshot_columns(self, obj: str) -> ColumnSnapshot | None:
        """`snapshot` as one column frame, for a system that can read it whole cheaply (an
        export file); None (the default) where only pages exist."""
        return None

    @abc.abstractmethod
    def changes(self, obj: str, cursor: str | None) -> Iterator[Page]:
        """Records of `obj` changed after `cursor` (all when None), oldest first; each page
        carries the cursor to store once the page is applied."""

    @abc.abstractmethod
    def deletes(self, obj: str, cursor: str | None) -> tuple[list[Deletion], str | None]:
        """Records of `obj` deleted after `cursor`, and the next cursor."""

    @abc.abstractmethod
    def upsert(
        self, obj: str, external_id_field: str, records: list[dict[str, Any]]
    ) -> list[UpsertResult]:
        """Create or update by external ID; one result per record, in order."""

    @abc.abstractmethod
    def describe(self, obj: str) -> ObjectDescription:
        """The object's fields and types as the system reports them."""

    def history(self, obj: str, records: Sequence[SourceRecord]) -> list[SourceRecord]:
        """The states `records` had before their current ones, from the system's own history,
        each a whole record as it was then, stamped (`modified_at`) when the system recorded
        that state; oldest first per record. Empty when the system keeps no history of `obj`
        (the default). A first sync asks for it to backfill each record's valid time."""
        return []

    def close(self) -> None:  # noqa: B027 - optional hook, most connectors hold nothing to close
        """Release sessions and connections."""
