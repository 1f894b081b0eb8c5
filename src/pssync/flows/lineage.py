"""Lineage of a deal: from the opportunity to its project, contract, milestones, invoices,
payments and revenue — with the system, transaction and time behind every field.

A CFO asking "why is this revenue in August?" should be able to walk from the number to the
deal, see that the PSA moved the start (which system, which transaction, when) and that the
ERP holds the contract and milestones the invoices were raised against. Everything comes from
the golden store: current records, their field provenance and the cross-system ID map.
`pssync trace` calls `lineage(store, opportunity_id)`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pssync.store import GoldenStore

_SKIP = frozenset({"id", "schema_version", "xrefs"})


def _when(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.datetime) else value


def node(store: GoldenStore, entity_type: str, record_id: str) -> dict[str, Any] | None:
    """One record: each field's value with the system, source record, transaction and times
    that set it, and the record's IDs in every system."""
    version = store.get(entity_type, record_id)
    if version is None:
        return None
    fields: dict[str, Any] = {}
    for name, value in sorted(version.payload.items()):
        if name in _SKIP:
            continue
        origin = store.provenance(entity_type, record_id, name) or {}
        fields[name] = {"value": value, **{k: _when(v) for k, v in origin.items()}}
    return {
        "entity_type": entity_type,
        "id": record_id,
        "ids": store.xrefs(entity_type, record_id),
        "fields": fields,
    }


def _where(store: GoldenStore, entity_type: str, key: str, values: set[str]) -> list[str]:
    return sorted(
        v.record_id for v in store.iter_records(entity_type) if v.payload.get(key) in values
    )


def lineage(store: GoldenStore, opportunity_id: str) -> dict[str, Any]:
    """The deal's path through the systems; empty lists where it has not got that far."""
    projects = set(_where(store, "Project", "opportunity_id", {opportunity_id}))
    contracts = set(_where(store, "ContractLine", "opportunity_id", {opportunity_id}))
    contracts |= set(_where(store, "ContractLine", "project_id", projects))
    milestones = _where(store, "BillingMilestone", "contract_line_id", contracts)
    invoices = set(_where(store, "Invoice", "project_id", projects))
    invoices |= set(_where(store, "Invoice", "contract_line_id", contracts))
    chain: list[tuple[str, str, list[str]]] = [
        ("projects", "Project", sorted(projects)),
        ("tasks", "WbsElement", _where(store, "WbsElement", "project_id", projects)),
        ("assignments", "Assignment", _where(store, "Assignment", "project_id", projects)),
        ("contracts", "ContractLine", sorted(contracts)),
        ("milestones", "BillingMilestone", milestones),
        ("invoices", "Invoice", sorted(invoices)),
        ("payments", "Payment", _where(store, "Payment", "invoice_id", invoices)),
        ("revenue", "RevenueEvent", _where(store, "RevenueEvent", "project_id", projects)),
        ("costs", "CostActual", _where(store, "CostActual", "project_id", projects)),
    ]
    out: dict[str, Any] = {"opportunity": node(store, "Opportunity", opportunity_id)}
    for key, entity_type, ids in chain:
        out[key] = [n for n in (node(store, entity_type, i) for i in ids) if n is not None]
    return out


def summary_lines(trace: dict[str, Any]) -> list[str]:
    """A readable outline: each record and where its key fields came from."""
    lines = []
    for key in ("opportunity", "projects", "contracts", "milestones", "invoices", "revenue"):
        nodes = trace.get(key)
        for n in nodes if isinstance(nodes, list) else [nodes] if nodes else []:
            ids = ", ".join(f"{k}={v}" for k, v in sorted(n["ids"].items()))
            lines.append(f"{n['entity_type']} {n['id']} [{ids}]")
            for name, f in n["fields"].items():
                if "system" in f and name in _KEY_FIELDS:
                    lines.append(
                        f"  {name} = {f['value']!r}  <- {f['system']} tx {f['transaction_id'][:8]}"
                        f" at {f['recorded_at']}"
                    )
    return lines


_KEY_FIELDS = frozenset(
    {
        "stage",
        "probability",
        "amount",
        "requested_start",
        "delivery_start",
        "planned_start",
        "status",
        "project_code",
        "due_date",
        "issue_date",
        "recognized_date",
    }
)
