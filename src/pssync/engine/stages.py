"""The page's stages as the engine sees them: what the layers above hand in, and what they get.

A page of source records goes capture -> inbox -> translate -> govern -> store -> route ->
deliver. The engine owns capture, the inbox, translation, routing and delivery; the govern and
store stages are rules (reference and identity resolution, ownership, data quality, the
system-of-record matrix) that governance hands in through `Stages`, which the runtime builder
assembles for every runtime (flows or none). Each stage gets a `PageContext`: the page being
applied, with the reads it shares with the other stages, and nothing global.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from pssync.engine.ports import ExceptionSink
from pssync.mapping.translator import Translator
from pssync.model import CanonicalRecord
from pssync.store import Change, GoldenStore, RecordVersion


class RejectedError(ValueError):
    """A govern stage refusing a record; the engine makes it an exception of `category` with
    the source record as its replay payload."""

    def __init__(
        self, category: str, message: str, field: str | None = None, *, keep: bool = True
    ) -> None:
        super().__init__(message)
        self.category, self.field = category, field
        self.keep = keep  # False: rejected outright, the source record is not kept to replay


class PageContext(Protocol):
    """The page being applied (or the records being revised), as the stages see it."""

    @property
    def system(self) -> str: ...
    @property
    def obj(self) -> str: ...
    @property
    def store(self) -> GoldenStore: ...
    @property
    def exceptions(self) -> ExceptionSink: ...
    @property
    def roles(self) -> Mapping[str, str | None]: ...
    @property
    def translators(self) -> Mapping[str, Translator]: ...
    @property
    def memo(self) -> dict[Any, Any]:
        """Lives as long as the page: answers that cannot change before it is written."""

    def translator(self, system: str) -> Translator: ...

    def golden(self, entity_type: str, record_id: str) -> RecordVersion | None:
        """The golden record as of the page's start, read once per page."""

    def page_fields(self) -> list[dict[str, Any]]:
        """The translated fields of every record of the page that translates: a per-record
        stage can read what the whole page needs in one query on its first call."""


# (context, object, translated fields) -> fields: e.g. vendor reference IDs made canonical.
Enricher = Callable[[PageContext, str, dict[str, Any]], dict[str, Any]]
# (context, entity type, fields) -> the golden record a record new to the xref map already is.
Identifier = Callable[[PageContext, str, dict[str, Any]], str | None]
# (context, canonical record) -> None, or raise `RejectedError`; may raise flags meanwhile.
Check = Callable[[PageContext, CanonicalRecord], None]
# (context) -> None: once the page is written, for findings collected per record.
PageEnd = Callable[[PageContext], None]


@dataclass
class Written:
    """What the store stage did: the records whose write it changed (refused fields)."""

    refused: set[tuple[str, str]] = field(default_factory=set)


# (context, changes, their payloads, versions read up front, correlation ID) -> Written
Writer = Callable[
    [
        PageContext,
        Sequence[Change],
        Sequence[dict[str, Any]],
        Mapping[tuple[str, str], Sequence[RecordVersion]],
        str | None,
    ],
    Written,
]


def plain_write(
    ctx: PageContext,
    changes: Sequence[Change],
    payloads: Sequence[dict[str, Any]],
    prefetched: Mapping[tuple[str, str], Sequence[RecordVersion]],
    correlation_id: str | None,
) -> Written:
    """The store stage without a system-of-record matrix: every change is written as is."""
    ctx.store.write(list(changes), correlation_id=correlation_id)
    return Written()


@dataclass
class Stages:
    """The govern and store stages of every page, in order; empty lists run nothing.

    `crosswalk_categories` names the exception category of a crosswalk's misses (an unknown tax
    code is an `invalid_tax_code` for the tax team); a miss is `unmapped_value` otherwise."""

    enrich: list[Enricher] = field(default_factory=list)
    identify: list[Identifier] = field(default_factory=list)
    check: list[Check] = field(default_factory=list)
    page_end: list[PageEnd] = field(default_factory=list)
    write: Writer = plain_write
    crosswalk_categories: dict[str, str] = field(default_factory=dict)
    # Exception category -> "reject" | "hold" | "accept" (pssync.yaml's `checks:`): a record
    # refused at ingest is held (kept on its exception to replay) unless its category rejects.
    modes: dict[str, str] = field(default_factory=dict)
