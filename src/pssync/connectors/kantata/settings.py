"""Typed settings of the Kantata OX connector.

Kantata authenticates API clients with an OAuth 2.0 bearer token (issued to an integration user
through the authorization-code flow or created in Kantata's settings); the connector only sends
it, as a SecretStr that never shows in logs. Put it in the environment, e.g.
``PSSYNC__CONNECTORS__PSA__TOKEN``.

Kantata has no upsert. The connector keeps each record's external ID (the ID pssync sends) in a
Kantata external reference of ``service_name`` `external_reference_service_name`, written with
the create itself, and hands it out on reads under `external_id_key`.
"""

from __future__ import annotations

from pydantic import Field, SecretStr

from pssync.connectors.base import ConnectorSettings


class KantataSettings(ConnectorSettings):
    """`base_url` is the API host (``https://api.mavenlink.com``)."""

    token: SecretStr
    api_root: str = Field(default="/api/v1", description="path in front of the object keys")
    page_size: int = Field(default=200, ge=1, le=200, description="records per call (per_page)")
    external_reference_service_name: str = Field(
        default="pssync",
        min_length=1,
        description="service_name of the external references that hold pssync's external IDs",
    )
    external_reference_service_model: str | None = Field(
        default=None,
        description="their service_model (default: the Kantata subject type, e.g. Workspace)",
    )
    external_id_key: str = Field(
        default="external_id", description="name under which reads report that external ID"
    )
    detect_unchanged: bool = Field(
        default=True, description="read records before an upsert and skip the unchanged ones"
    )
    timeout: float = Field(default=60.0, gt=0, description="seconds per HTTP request")
