"""What the engine needs from the layers above it, as protocols.

The engine (capture, inbox, stages, delivery) sits below governance and the flows: it raises
problems and writes through the system-of-record matrix, but the exception lifecycle and the
matrix are governance's. The runtime builder hands the concrete objects in
(`governance.exceptions.ExceptionStore`, `governance.ownership.OwnershipPolicy`); the engine
only knows these shapes, so it never imports governance.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from sqlalchemy import Engine

from pssync.store.problems import NewException


class RaisedException(Protocol):
    """An exception as raised or found: its ID and the record it is about."""

    @property
    def id(self) -> str: ...
    @property
    def record_id(self) -> str | None: ...


class ExceptionSink(Protocol):
    """Where problems go: raised (or refreshed), resolved, read back."""

    @property
    def engine(self) -> Engine: ...

    def raise_(self, new: NewException, actor: str = ...) -> RaisedException: ...

    def raise_many(self, news: list[NewException], actor: str = ...) -> list[str]: ...

    def resolve(self, exc_id: str, note: str, actor: str) -> object: ...

    def resolve_fingerprints(self, fingerprints: list[str], note: str, actor: str) -> int: ...

    def get(self, exc_id: str) -> RaisedException | None: ...

    def find(
        self,
        *,
        states: list[str] | None = None,
        category: str | None = None,
        owner: str | None = None,
        system: str | None = None,
        limit: int | None = None,
    ) -> Sequence[RaisedException]: ...


class FieldRefusal(Protocol):
    """One field a system that does not own it tried to change."""

    @property
    def field(self) -> str: ...
    @property
    def owner(self) -> str: ...
    @property
    def attempted(self) -> Any: ...
    @property
    def current(self) -> Any: ...
    @property
    def reason(self) -> str: ...


class OwnershipOutcome(Protocol):
    @property
    def payload(self) -> dict[str, Any]: ...
    @property
    def refused(self) -> Sequence[FieldRefusal]: ...


class FieldOwnership(Protocol):
    """The system-of-record matrix: which of a writer's field changes stand."""

    @property
    def fill_gaps(self) -> bool: ...

    def apply(
        self,
        entity_type: str,
        writer_role: str | None,
        incoming: dict[str, Any],
        current: dict[str, Any] | None,
    ) -> OwnershipOutcome: ...


class OpenPolicy:
    """No matrix: every system may change every field (the engine's default)."""

    fill_gaps = True

    def apply(
        self,
        entity_type: str,
        writer_role: str | None,
        incoming: dict[str, Any],
        current: dict[str, Any] | None,
    ) -> OwnershipOutcome:
        return _Unrestricted(dict(incoming))


class _Unrestricted:
    def __init__(self, payload: dict[str, Any]) -> None:
        self.payload = payload
        self.refused: Sequence[FieldRefusal] = ()
