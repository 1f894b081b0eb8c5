"""Typed settings of the SAP S/4HANA connector.

A communication user with basic auth is how S/4HANA Cloud communication arrangements expose the
OData APIs; the password is a SecretStr so it never shows in logs, reprs or `pssync config`.
Environment overrides follow the usual nesting, e.g. ``PSSYNC__CONNECTORS__ERP__PASSWORD``.
"""

from __future__ import annotations

from pydantic import Field, SecretStr

from pssync.connectors.base import ConnectorSettings


class SapS4Settings(ConnectorSettings):
    """Where the system is and how to log on; `base_url` is the host (``https://my-s4.example``)."""

    username: str
    password: SecretStr
    sap_client: str | None = Field(
        default=None, description="SAP client (mandant), sent as the sap-client header"
    )
    service_root: str = Field(
        default="/sap/opu/odata/sap", description="Gateway path in front of the service names"
    )
    page_size: int = Field(default=1000, ge=1, le=5000, description="rows per read ($top)")
    lookup_chunk: int = Field(
        default=40, ge=1, le=200, description="external IDs looked up per request on upsert"
    )
    timeout: float = Field(default=60.0, gt=0, description="seconds per HTTP request")
    revenue_accounts: list[str] = Field(
        default=["41000000"],
        description="G/L accounts whose journal items are recognised revenue (RevenueEvent)",
    )
    cost_accounts: list[str] = Field(
        default=["50301000"],
        description="G/L accounts whose journal items are project costs (CostActual)",
    )
    payment_document_types: list[str] = Field(
        default=["DZ"],
        description="accounting document types of incoming customer payments (Payment)",
    )
    billing_project_field: str | None = Field(
        default="YY1_EnterpriseProject_BDH",
        description="custom field of the billing document header holding its Project ID "
        "(key-user extensibility); None when the tenant has none",
    )
    customer_grouping: str = Field(
        default="BP02",
        max_length=4,
        description="business partner grouping (number range) of customers pssync creates",
    )
    verify: bool | str = Field(default=True, description="TLS verification, or a CA bundle path")
