"""The connector's field catalogue: what an object is (`NsObject`) and the REST field names
and kinds shared by entities, transactions and transaction lines."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["text", "ref", "bool", "number", "date", "datetime"]
STAMP = "lastModifiedDate"

ENTITY: dict[str, Kind] = {
    "id": "text",
    "externalId": "text",
    "entityId": "text",
    "companyName": "text",
    "subsidiary": "ref",
    "currency": "ref",
    "dateCreated": "datetime",
    STAMP: "datetime",
}
TRANSACTION: dict[str, Kind] = {
    "id": "text",
    "externalId": "text",
    "tranId": "text",
    "tranDate": "date",
    "subsidiary": "ref",
    "currency": "ref",
    "memo": "text",
    "createdDate": "datetime",
    STAMP: "datetime",
}
LINE_FIELDS: dict[str, Kind] = {
    "account": "ref",
    "debit": "number",
    "credit": "number",
    "entity": "ref",
    "memo": "text",
    "department": "ref",
    "class": "ref",
}


@dataclass(frozen=True)
class NsObject:
    """One object of the connector: where its rows come from and how its fields look."""

    name: str
    record_type: str  # REST record type (writes, describe)
    table: str  # SuiteQL table
    fields: dict[str, Kind]
    where: str | None = None  # condition selecting this object's rows in `table`
    writable: bool = True
    related: str | None = None  # which `related.Related` method completes its records
    computed: frozenset[str] = field(default_factory=frozenset)

    @property
    def journal(self) -> bool:
        return self.related == "journal"

    def kind(self, name: str) -> Kind | None:
        return self.fields.get(name)
