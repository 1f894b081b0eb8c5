"""Object and field metadata: what describe returns, and what writes and SOQL are checked against.

One table drives three behaviours that must agree: the describe resources, validation of
record writes (unknown, read-only and required fields), and field resolution in SOQL. Names are
case-insensitive on the platform, so lookups go through a lower-cased index.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pssync.sandbox.salesforce.ids import KEY_PREFIXES

SOAP_TYPES = {
    "id": "tns:ID",
    "reference": "tns:ID",
    "boolean": "xsd:boolean",
    "date": "xsd:date",
    "datetime": "xsd:dateTime",
    "currency": "xsd:double",
    "double": "xsd:double",
    "percent": "xsd:double",
    "int": "xsd:int",
}
NUMERIC = frozenset({"currency", "double", "percent", "int"})
TEXT = frozenset({"string", "textarea", "picklist", "email", "phone", "url", "id", "reference"})


@dataclass(frozen=True)
class FieldDef:
    name: str
    type: str
    label: str = ""
    length: int = 0
    createable: bool = True
    updateable: bool = True
    nillable: bool = True
    required: bool = False  # must be given on create (Salesforce: not nillable, no default)
    external_id: bool = False
    unique: bool = False
    reference_to: str | None = None
    relationship_name: str | None = None
    picklist: tuple[str, ...] = ()
    name_field: bool = False

    @property
    def custom(self) -> bool:
        return self.name.endswith("__c")

    def describe(self) -> dict[str, Any]:
        precision, scale = (18, 2) if self.type in NUMERIC - {"int"} else (0, 0)
        return {
            "name": self.name,
            "label": self.label or self.name.removesuffix("__c").replace("_", " "),
            "type": self.type,
            "soapType": SOAP_TYPES.get(self.type, "xsd:string"),
            "length": self.length,
            "byteLength": self.length * 3,
            "precision": precision,
            "scale": scale,
            "digits": 9 if self.type == "int" else 0,
            "nillable": self.nillable,
            "createable": self.createable,
            "updateable": self.updateable,
            "defaultedOnCreate": not self.createable or self.type == "boolean",
            "calculated": False,
            "custom": self.custom,
            "externalId": self.external_id,
            "unique": self.unique,
            "idLookup": self.external_id or self.type == "id",
            "caseSensitive": False,
            "nameField": self.name_field,
            "filterable": self.type != "textarea",
            "sortable": self.type != "textarea",
            "groupable": self.type not in ("textarea", "datetime", "currency", "double"),
            "autoNumber": False,
            "referenceTo": [self.reference_to] if self.reference_to else [],
            "relationshipName": self.relationship_name,
            "picklistValues": [
                {"active": True, "defaultValue": False, "label": v, "value": v, "validFor": None}
                for v in self.picklist
            ],
            "restrictedPicklist": False,
            "defaultValue": None,
            "inlineHelpText": None,
        }


@dataclass
class ObjectDef:
    name: str
    label: str
    label_plural: str
    fields: list[FieldDef]
    createable: bool = True
    updateable: bool = True
    deletable: bool = True
    _index: dict[str, FieldDef] = field(default_factory=dict, repr=False)
    _relationships: dict[str, FieldDef] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for f in self.fields:
            self._add_to_index(f)

    def _add_to_index(self, f: FieldDef) -> None:
        self._index[f.name.lower()] = f
        if f.relationship_name:
            self._relationships[f.relationship_name.lower()] = f

    @property
    def key_prefix(self) -> str:
        return KEY_PREFIXES[self.name]

    def field(self, name: str) -> FieldDef | None:
        return self._index.get(name.lower())

    def relationship(self, name: str) -> FieldDef | None:
        """The reference field behind a relationship name (``Account`` for ``AccountId``)."""
        return self._relationships.get(name.lower())

    def add_field(self, f: FieldDef) -> None:
        """Add a field, or replace the one with the same name (keeping its position)."""
        old = self.field(f.name)
        if old is None:
            self.fields.append(f)
        else:
            self.fields[self.fields.index(old)] = f
        self._add_to_index(f)

    @property
    def external_ids(self) -> list[FieldDef]:
        return [f for f in self.fields if f.external_id]

    def urls(self, version: str) -> dict[str, str]:
        base = f"/services/data/v{version}/sobjects/{self.name}"
        return {
            "sobject": base,
            "describe": f"{base}/describe",
            "rowTemplate": f"{base}/{{ID}}",
        }

    def summary(self, version: str) -> dict[str, Any]:
        """The object's entry in describeGlobal."""
        return {
            "name": self.name,
            "label": self.label,
            "labelPlural": self.label_plural,
            "keyPrefix": self.key_prefix,
            "custom": False,
            "createable": self.createable,
            "updateable": self.updateable,
            "deletable": self.deletable,
            "queryable": True,
            "retrieveable": True,
            "replicateable": True,
            "searchable": self.createable,
            "layoutable": self.createable,
            "triggerable": True,
            "undeletable": self.deletable,
            "urls": self.urls(version),
        }

    def describe(self, version: str, children: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            **self.summary(version),
            "fields": [f.describe() for f in self.fields],
            "childRelationships": children,
            "recordTypeInfos": [],
        }


def infer_field(name: str, value: object) -> FieldDef:
    """A field the schema lacks but seeded data carries: typed from its value, so the synthetic
    firm can add custom fields without a schema change here."""
    kind = "string"
    if isinstance(value, bool):
        kind = "boolean"
    elif isinstance(value, int | float):
        kind = "double"
    elif isinstance(value, str) and len(value) == 10 and value[4:5] == "-" and value[7:8] == "-":
        kind = "date"
    elif isinstance(value, str) and len(value) > 18 and value[10:11] == "T":
        kind = "datetime"
    return FieldDef(name, kind, length=255 if kind == "string" else 0)
