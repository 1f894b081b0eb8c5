"""Settings of the Dynamics 365 connector: an Entra ID app registration (client credentials);
the secret comes from the environment (``PSSYNC__CONNECTORS__PSA__CLIENT_SECRET``)."""

from __future__ import annotations

from pydantic import Field, SecretStr

from pssync.connectors.base import ConnectorSettings


class DynamicsSettings(ConnectorSettings):
    """`base_url` is the environment URL (``https://contoso.crm.dynamics.com``)."""

    tenant_id: str
    client_id: str
    client_secret: SecretStr
    token_url: str | None = Field(default=None, description="default: Entra ID's v2.0 endpoint")
    api_path: str = "/api/data/v9.2"
    page_size: int = Field(default=1000, ge=1, le=5000, description="odata.maxpagesize")
    timeout: float = Field(default=60.0, gt=0, description="seconds per HTTP request")
    attempts: int = Field(default=3, ge=1, description="tries of a retriable request")
    max_retry_wait: float = Field(default=2.0, ge=0, description="longer Retry-After: raise")
    overlap_seconds: int = Field(default=0, ge=0, description="unused: changes use delta links")
