"""Blocking checks at the moment a target needs the data: before a won deal is handed off.

The closed-won flow calls `validate_before_handoff` (every finding raised to its owner, and
the findings validation no longer makes resolved) and `block_duplicate_customer` (a probable
duplicate is not created as a new ERP customer) before an ERP customer is created. The checks
that run on every page are the govern stage's (`governance.stages`).
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from pssync.engine.runtime import Runtime
from pssync.governance.quality import candidates_detail, duplicate_candidates
from pssync.governance.validation import HandoffValidator, Violation
from pssync.store.problems import ACTIVE, NewException
from pssync.store.tables import exception_record


def clear_passed(
    runtime: Runtime, opportunity_id: str, stage: str, violations: list[Violation]
) -> list[str]:
    """Resolve the deal's `stage` validation exceptions that validation no longer finds (its
    region arrived with its account, say), so the deal's owner is not left chasing a fixed
    problem; returns their IDs. The handoff's own "no ERP serves this entity" is not a
    validation finding and is left to the handoff."""
    still = {(v.category, v.entity_type, v.record_id, v.field) for v in violations}
    xr = exception_record.c
    with runtime.store.engine.connect() as conn:
        rows = conn.execute(
            select(xr.id, xr.category, xr.entity_type, xr.record_id, xr.details).where(
                xr.payload == opportunity_id,
                xr.category.in_(_VALIDATION_CATEGORIES),
                xr.state.in_([s.value for s in ACTIVE]),
            )
        ).all()
    cleared = []
    for row in rows:
        details = json.loads(row.details or "{}")
        key = (row.category, row.entity_type, row.record_id, details.get("field"))
        if details.get("stage") != stage or key in still:
            continue
        if key[:2] == ("missing_legal_entity", "Opportunity"):
            continue
        runtime.exceptions.resolve(str(row.id), "auto-resolved: the deal now validates", "flows")
        cleared.append(str(row.id))
    return cleared


_VALIDATION_CATEGORIES = (
    "missing_attribute",
    "unmapped_value",
    "missing_legal_entity",
    "invalid_tax_code",
)


def validate_before_handoff(runtime: Runtime, opportunity_id: str) -> list[Violation]:
    """Pre-sync validation of a won deal; every violation raised to its owner (and the ones it
    no longer finds resolved)."""
    violations = HandoffValidator(runtime.store).closed_won_handoff(opportunity_id)
    report_violations(runtime, opportunity_id, "handoff", violations, actor="governance")
    return violations


def report_violations(
    runtime: Runtime,
    opportunity_id: str,
    stage: str,
    violations: list[Violation],
    *,
    actor: str,
    correlation_id: str | None = None,
) -> None:
    """Raise each of a deal's `stage` validation findings to its owner and resolve the ones
    validation no longer finds (`clear_passed`)."""
    clear_passed(runtime, opportunity_id, stage, violations)
    for v in violations:
        runtime.exceptions.raise_(
            NewException(
                category=v.category,
                message=v.message,
                entity_type=v.entity_type,
                record_id=v.record_id,
                details={"field": v.field, "stage": stage, "opportunity_id": opportunity_id},
                payload=opportunity_id,
                correlation_id=correlation_id,
            ),
            actor=actor,
        )


def block_duplicate_customer(
    runtime: Runtime, account: dict[str, Any], opportunity_id: str
) -> list[dict[str, Any]]:
    """Candidates that block creating `account` as a new ERP customer (empty: go ahead).

    An account already linked to a customer in the ERP is not new, so it is never blocked.
    """
    matches = duplicate_candidates(runtime.store, account)
    if not matches:
        return []
    detail = candidates_detail(matches, runtime.store)
    listed = ", ".join(f"{c['name']} ({c['record_id']}, score {c['score']:.2f})" for c in detail)
    runtime.exceptions.raise_(
        NewException(
            category="duplicate_customer",
            message=f"{account.get('name')}: not created in the ERP, probable duplicate of "
            f"{listed}; merge the accounts in the CRM or mark them distinct",
            entity_type="Account",
            record_id=str(account["id"]),
            region_id=account.get("region_id"),
            details={
                "field": "name",
                "stage": "handoff",
                "opportunity_id": opportunity_id,
                "candidates": detail,
            },
            payload=opportunity_id,
        ),
        actor="governance",
    )
    return detail
