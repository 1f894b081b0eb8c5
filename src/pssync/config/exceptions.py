"""The `exceptions:` block of `pssync.yaml`: who owns an exception, and where owners are told.

These are configuration models only; governance applies them (`governance.routing.Router`,
`governance.notify.Notifier`).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr


class RoutingRule(BaseModel):
    """Match on any of category / region / service line / system; empty fields match anything."""

    model_config = ConfigDict(extra="forbid")

    owner: str
    category: str | None = None
    region_id: str | None = None
    service_line_id: str | None = None
    system: str | None = None


class RoutingConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    default_owner: str = "integration-team"
    routing: list[RoutingRule] = Field(default_factory=list)
    sla_hours: dict[str, int] = Field(default_factory=dict)


class WebhookTarget(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str
    secret: SecretStr
    categories: list[str] = Field(default_factory=list)  # empty: every category


class ServiceNowTarget(BaseModel):
    model_config = ConfigDict(extra="forbid")

    base_url: str
    username: str
    password: SecretStr
    min_severity: str = "high"
    table: str = "incident"


class NotifyConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    webhooks: list[WebhookTarget] = Field(default_factory=list)
    servicenow: ServiceNowTarget | None = None
