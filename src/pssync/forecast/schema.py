"""Flattened analytics columns per canonical entity type.

The analytics store keeps the golden store's versions as raw JSON and materialises one typed
table per entity type as of a date. Money lands as DECIMAL(18,2) next to its currency, rates as
DECIMAL(18,4), so SQL aggregates stay exact and never mix currencies silently.
"""

from __future__ import annotations

MONEY = "DECIMAL(18,2)"
RATE = "DECIMAL(18,4)"
HOURS = "DECIMAL(18,2)"

# column name -> (JSON path in the payload, SQL type)
Spec = dict[str, tuple[str, str]]


def _money(name: str, path: str | None = None, sql: str = MONEY) -> Spec:
    base = path or name
    return {
        name: (f"$.{base}.amount", sql),
        f"{name}_currency": (f"$.{base}.currency", "VARCHAR"),
    }


def _cols(**columns: str) -> Spec:
    return {name: (f"$.{name}", sql) for name, sql in columns.items()}


ENTITY_COLUMNS: dict[str, Spec] = {
    "Opportunity": {
        **_cols(
            account_id="VARCHAR",
            stage="VARCHAR",
            probability="DECIMAL(5,2)",
            close_date="DATE",
            is_closed="BOOLEAN",
            is_won="BOOLEAN",
            service_line_id="VARCHAR",
            region_id="VARCHAR",
            legal_entity_id="VARCHAR",
            revenue_method="VARCHAR",
            requested_start="DATE",
            delivery_start="DATE",
            duration_months="INTEGER",
            created_at="TIMESTAMPTZ",
        ),
        **_money("amount"),
    },
    "Project": _cols(
        account_id="VARCHAR",
        opportunity_id="VARCHAR",
        status="VARCHAR",
        project_code="VARCHAR",
        service_line_id="VARCHAR",
        region_id="VARCHAR",
        legal_entity_id="VARCHAR",
        planned_start="DATE",
        planned_end="DATE",
        actual_start="DATE",
        baseline_hours=HOURS,
    ),
    "Resource": {
        **_cols(
            role_id="VARCHAR",
            region_id="VARCHAR",
            weekly_capacity_hours=HOURS,
            start_date="DATE",
            end_date="DATE",
        ),
        **_money("cost_rate", sql=RATE),
        **_money("bill_rate", sql=RATE),
    },
    "Assignment": {
        **_cols(
            project_id="VARCHAR",
            resource_id="VARCHAR",
            role_id="VARCHAR",
            booking_type="VARCHAR",
            start_date="DATE",
            end_date="DATE",
            hours=HOURS,
        ),
        **_money("bill_rate", sql=RATE),
    },
    "ContractLine": {
        **_cols(
            account_id="VARCHAR",
            project_id="VARCHAR",
            opportunity_id="VARCHAR",
            revenue_method="VARCHAR",
            start_date="DATE",
            end_date="DATE",
            service_line_id="VARCHAR",
            legal_entity_id="VARCHAR",
            status="VARCHAR",
        ),
        **_money("amount"),
    },
    "BillingMilestone": {
        **_cols(
            contract_line_id="VARCHAR", due_date="DATE", status="VARCHAR", invoice_id="VARCHAR"
        ),
        **_money("amount"),
    },
    "Invoice": {
        **_cols(
            account_id="VARCHAR",
            issue_date="DATE",
            status="VARCHAR",
            project_id="VARCHAR",
            contract_line_id="VARCHAR",
            legal_entity_id="VARCHAR",
        ),
        **_money("amount"),
    },
    "RevenueEvent": {
        **_cols(
            recognized_date="DATE",
            project_id="VARCHAR",
            contract_line_id="VARCHAR",
            service_line_id="VARCHAR",
            region_id="VARCHAR",
            legal_entity_id="VARCHAR",
        ),
        **_money("amount"),
    },
    "TimeEntry": {
        **_cols(
            project_id="VARCHAR",
            resource_id="VARCHAR",
            role_id="VARCHAR",
            work_date="DATE",
            hours=HOURS,
            billable="BOOLEAN",
        ),
        **_money("bill_rate", sql=RATE),
        **_money("cost_rate", sql=RATE),
    },
    "CostActual": {
        **_cols(project_id="VARCHAR", posting_date="DATE", category="VARCHAR"),
        **_money("amount"),
    },
    "FxRate": _cols(
        from_currency="VARCHAR", to_currency="VARCHAR", rate="DECIMAL(18,8)", effective_date="DATE"
    ),
}


#: Large fact sets the forecast only aggregates in SQL (no payload kept in their tables).
FACT_TYPES = frozenset({"TimeEntry", "CostActual", "RevenueEvent"})


def table_name(entity_type: str) -> str:
    """snake_case table name of an entity type (``ContractLine`` -> ``contract_line``)."""
    out = [f"_{c.lower()}" if c.isupper() and i else c.lower() for i, c in enumerate(entity_type)]
    return "".join(out)


def typed_name(entity_type: str) -> str:
    """Table of every version of an entity type with its typed columns (all time axes)."""
    return f"versions_{table_name(entity_type)}"


def select_sql(entity_type: str) -> str:
    """Typed projection of the raw versions of one entity type.

    The payload is kept for the types the snapshot parses into models; fact types (time
    entries, cost actuals, revenue events) are read only through SQL aggregates, and their
    payloads would be most of the bytes (a medium firm: ~120 MB of time-entry JSON).
    """
    columns = ", ".join(
        f"CAST(payload ->> '{path}' AS {sql}) AS {name}"
        for name, (path, sql) in ENTITY_COLUMNS.get(entity_type, {}).items()
    )
    extra = f", {columns}" if columns else ""
    payload = "" if entity_type in FACT_TYPES else ", payload"
    return (
        "SELECT record_id AS id, version_id, valid_from, valid_to, recorded_from, recorded_to, "
        f"deleted, content_hash{extra}{payload} FROM record_versions "
        f"WHERE entity_type = '{entity_type}'"
    )
