"""One declarative catalog of the objects a connector serves.

Each object says what every generic read and write needs: its ID field, its modification stamp,
its page size, the field that holds pssync's external ID (where the system has one), and which
objects it references (a lookup field naming another object's ID) or nests (child records read
inside it). Connectors look objects up here instead of keeping their own tables, so an unknown
object is refused the same way everywhere, and the reference graph gives a safe write order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from pssync.connectors.errors import PermanentError


@dataclass(frozen=True)
class Ref:
    """A field of this object holding another object's ID.

    `field` is where reads show the ID; `target` the object it names; `bind` how writes name
    it when the system wants something else there (Dataverse: a navigation property bound with
    ``<bind>@odata.bind``); empty when the field is written as read."""

    field: str
    target: str
    bind: str = ""


@dataclass(frozen=True)
class ObjectSpec:
    name: str
    id_field: str
    modified_field: str
    entity: str = ""  # the system's type name when it differs (Dataverse logical name)
    page_size: int = 1000
    key_field: str | None = None  # the field holding pssync's external ID (an alternate key)
    writable: bool = True
    refs: tuple[Ref, ...] = ()
    nests: tuple[str, ...] = ()  # objects read inside this one (order lines in an order)
    server_fields: frozenset[str] = field(default_factory=frozenset)  # never written

    def ref(self, name: str) -> Ref | None:
        return next((r for r in self.refs if r.field == name), None)

    def outbound(
        self, body: dict[str, Any], bind: Callable[[Ref, Any], tuple[str, Any]]
    ) -> dict[str, Any]:
        """A write body: server fields dropped, each reference as `bind(ref, value)` names it
        (a reference without `bind` is written as read)."""
        out: dict[str, Any] = {}
        for name, value in body.items():
            ref = self.ref(name)
            if ref is not None and ref.bind:
                key, value = bind(ref, value)
                out[key] = value
            elif name not in self.server_fields:
                out[name] = value
        return out


class Catalog:
    """The objects of one system, by name."""

    def __init__(self, system: str, specs: Iterable[ObjectSpec]) -> None:
        self.system = system
        self.specs = {s.name: s for s in specs}
        for spec in self.specs.values():
            for name in (*(r.target for r in spec.refs), *spec.nests):
                if name not in self.specs:
                    raise ValueError(f"{spec.name} refers to {name!r}, not in the catalog")

    def __getitem__(self, name: str) -> ObjectSpec:
        try:
            return self.specs[name]
        except KeyError:
            known = ", ".join(self.specs)
            raise PermanentError(
                f"unknown object {name!r}; supported: {known}", system=self.system
            ) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self.specs)

    def names(self) -> tuple[str, ...]:
        return tuple(self.specs)

    def referencing(self, target: str) -> list[tuple[ObjectSpec, Ref]]:
        """The (object, reference) pairs that name `target`."""
        return [(s, r) for s in self.specs.values() for r in s.refs if r.target == target]

    def write_order(self) -> list[str]:
        """Objects with what they reference first (a self-reference, a parent task, is
        ignored: those records are ordered inside their batch; nested objects travel with
        their parent)."""
        done: list[str] = []

        def visit(name: str, path: tuple[str, ...]) -> None:
            if name in done:
                return
            if name in path:
                raise ValueError(f"reference cycle: {' -> '.join((*path, name))}")
            spec = self.specs[name]
            for target in sorted({r.target for r in spec.refs if r.target != name}):
                visit(target, (*path, name))
            done.append(name)

        for name in self.specs:
            visit(name, ())
        return done
