"""Typed settings of the Kantata OX connector.

Kantata authenticates API clients with an OAuth 2.0 bearer token (issued to an integration user
through the authorization-code flow or created in Kantata's settings); the connector only sends
it, as a SecretStr that never shows in logs. Put it in the environment, e.g.
``PSSYNC__CONNECTORS__PSA__TOKEN``.

Kantata has no external-ID field or upsert. The connector keeps each record's external ID (the
canonical ID pssync sends) in a custom field value on the record (`external_id_custom_field`),
and hands it out on reads under `external_id_key`.
"""

from __future__ import annotations

from pydantic import Field, SecretStr

from pssync.connectors.base import ConnectorSettings


class KantataSettings(ConnectorSettings):
    """`base_url` is the API host (``https://api.mavenlink.com``)."""

    token: SecretStr
    api_root: str = Field(default="/api/v1", description="path in front of the object keys")
    page_size: int = Field(default=200, ge=1, le=200, description="records per call (per_page)")
    external_id_custom_field: str = Field(
        default="pssync_external_id",
        min_length=1,
        description="ID of the custom field that holds pssync's external ID on each record",
    )
    external_id_key: str = Field(
        default="external_id", description="name under which reads report that external ID"
    )
    detect_unchanged: bool = Field(
        default=True, description="read records before an upsert and skip the unchanged ones"
    )
    timeout: float = Field(default=60.0, gt=0, description="seconds per HTTP request")
