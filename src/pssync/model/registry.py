"""The one place that knows every canonical entity type by name.

Parsing goes through here so that every validation error names the entity type, the record ID
and the field, which is what an integrator needs to find and fix the source record.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from pssync.model.base import CanonicalRecord
from pssync.model.commercial import Account, Contact, Opportunity, Quote
from pssync.model.delivery import (
    Assignment,
    Project,
    Resource,
    ResourceRequest,
    TimeEntry,
    WbsElement,
)
from pssync.model.finance import (
    BillingMilestone,
    BillingSchedule,
    ContractLine,
    CostActual,
    Invoice,
    Payment,
    RevenueEvent,
)
from pssync.model.reference import (
    Currency,
    Department,
    FxRate,
    LegalEntity,
    ProjectTemplate,
    Region,
    Role,
    ServiceLine,
    TaxCode,
)

ENTITY_TYPES: dict[str, type[CanonicalRecord]] = {
    cls.__name__: cls
    for cls in (
        Account,
        Contact,
        Opportunity,
        Quote,
        Project,
        WbsElement,
        Resource,
        ResourceRequest,
        Assignment,
        ContractLine,
        BillingMilestone,
        BillingSchedule,
        Invoice,
        Payment,
        TimeEntry,
        CostActual,
        RevenueEvent,
        ServiceLine,
        LegalEntity,
        Currency,
        FxRate,
        TaxCode,
        ProjectTemplate,
        Department,
        Region,
        Role,
    )
}

REFERENCE_TYPES = frozenset(
    {
        "ServiceLine",
        "LegalEntity",
        "Currency",
        "FxRate",
        "TaxCode",
        "ProjectTemplate",
        "Department",
        "Region",
        "Role",
    }
)


class CanonicalValidationError(ValueError):
    """A payload that is not a valid canonical record; says which entity, record and fields."""

    def __init__(self, entity_type: str, record_id: str | None, problems: list[tuple[str, str]]):
        self.entity_type = entity_type
        self.record_id = record_id
        self.problems = problems
        where = f"{entity_type} {record_id!r}" if record_id else f"{entity_type} (no id)"
        details = "; ".join(f"field {field!r}: {msg}" for field, msg in problems)
        super().__init__(f"{where}: {details}")


def entity_class(entity_type: str) -> type[CanonicalRecord]:
    try:
        return ENTITY_TYPES[entity_type]
    except KeyError:
        known = ", ".join(sorted(ENTITY_TYPES))
        raise CanonicalValidationError(
            entity_type, None, [("entity_type", f"unknown entity type; known: {known}")]
        ) from None


def parse_record(entity_type: str, payload: Any) -> CanonicalRecord:
    """Validate `payload` as `entity_type`, raising CanonicalValidationError on any problem."""
    cls = entity_class(entity_type)
    record_id = payload.get("id") if isinstance(payload, dict) else None
    try:
        return cls.model_validate(payload)
    except ValidationError as exc:
        problems = [
            (".".join(str(p) for p in err["loc"]) or "(record)", err["msg"]) for err in exc.errors()
        ]
        raise CanonicalValidationError(
            entity_type, str(record_id) if record_id else None, problems
        ) from None


def export_json_schemas(directory: Path) -> list[Path]:
    """Write one JSON Schema file per entity type for integrators; returns the files written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, cls in sorted(ENTITY_TYPES.items()):
        schema = cls.model_json_schema(mode="serialization")
        schema["$id"] = f"https://pssync.dev/schema/{name}.v{cls.current_schema_version}.json"
        path = directory / f"{name}.schema.json"
        path.write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        written.append(path)
    return written
