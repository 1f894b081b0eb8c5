"""The declaration types of the emulated OData v2 model: properties, navigation, entity sets.

`schema` and `finance_sets` declare SAP's entity sets with these; everything else (metadata,
validation, filters, JSON) derives from the declarations.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Prop:
    """One EntityType property with the `sap:` annotations a client may rely on."""

    name: str
    edm: str
    max_length: int | None = None
    precision: int | None = None
    scale: int | None = None
    nullable: bool = True
    label: str = ""
    creatable: bool = True
    updatable: bool = True
    display_format: str | None = None
    unit: str | None = None
    semantics: str | None = None


@dataclass(frozen=True)
class Nav:
    """A navigation property: `to_X` leading to `target`, one or many, joined on `on`
    (pairs of this type's property and the target's)."""

    name: str
    target: str
    many: bool
    on: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class EntitySet:
    """An entity set and its entity type (SAP names the type `<Set>Type`).

    `etag` names the property whose value is the entity's ETag (``ConcurrencyMode="Fixed"``
    in ``$metadata``): updates and deletes must then carry it in ``If-Match``.
    """

    name: str
    keys: tuple[str, ...]
    props: tuple[Prop, ...]
    label: str
    creatable: bool = True
    updatable: bool = True
    deletable: bool = False
    required: tuple[str, ...] = ()
    etag: str | None = None
    navs: tuple[Nav, ...] = ()
    _index: dict[str, Prop] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._index.update({p.name: p for p in self.props})

    @property
    def type_name(self) -> str:
        return f"{self.name}Type"

    def prop(self, name: str) -> Prop | None:
        return self._index.get(name)

    def nav(self, name: str) -> Nav | None:
        return next((n for n in self.navs if n.name == name), None)


@dataclass(frozen=True)
class Service:
    name: str
    entity_sets: tuple[EntitySet, ...]

    def entity_set(self, name: str) -> EntitySet | None:
        return next((s for s in self.entity_sets if s.name == name), None)


def text(name: str, length: int, label: str = "", *, ro: bool = False, upper: bool = True) -> Prop:
    fmt = "UpperCase" if upper else None
    return Prop(
        name,
        "Edm.String",
        max_length=length,
        label=label or name,
        display_format=fmt,
        creatable=not ro,
        updatable=not ro,
    )


def date(name: str, label: str = "", *, ro: bool = False) -> Prop:
    """SAP's ABAP DATS fields: Edm.DateTime (Precision 0) shown as a date."""
    return Prop(
        name,
        "Edm.DateTime",
        precision=0,
        label=label or name,
        display_format="Date",
        creatable=not ro,
        updatable=not ro,
    )


def stamp(name: str, label: str = "") -> Prop:
    """A server-maintained UTC timestamp (Edm.DateTimeOffset, Precision 7)."""
    return Prop(
        name,
        "Edm.DateTimeOffset",
        precision=7,
        label=label or name,
        creatable=False,
        updatable=False,
    )


def guid(name: str, label: str = "", *, ro: bool = False, nullable: bool = True) -> Prop:
    return Prop(
        name, "Edm.Guid", label=label or name, nullable=nullable, creatable=not ro, updatable=not ro
    )


def amount(name: str, precision: int, label: str = "", unit: str = "TransactionCurrency") -> Prop:
    return Prop(name, "Edm.Decimal", precision=precision, scale=3, label=label or name, unit=unit)


def flag(name: str, label: str = "") -> Prop:
    return Prop(name, "Edm.Boolean", label=label or name)


def clock(name: str, label: str = "") -> Prop:
    return Prop(
        name, "Edm.Time", precision=0, label=label or name, creatable=False, updatable=False
    )
