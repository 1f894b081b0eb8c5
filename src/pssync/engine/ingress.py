"""The whole webhook ingress: Standard Webhooks and Salesforce outbound messages, one router.

`webhooks.py` holds what every format shares (signatures, message memory, `Ingress`) and the
Standard Webhooks endpoint; `webhooks_salesforce.py` builds the outbound-message endpoint on
it. This module puts them together, so neither has to import the other back. The REST API
mounts the router when the process hands it the engine's runtime (`pssync serve`).
"""

from __future__ import annotations

from fastapi import APIRouter

from pssync.engine.runtime import Runtime
from pssync.engine.webhooks import WebhookSettings, webhooks_router
from pssync.engine.webhooks_salesforce import outbound_endpoint

# Salesforce outbound messages carry the endpoint secret as the last path segment; the bare
# path serves deployments authenticated by an IP allow-list alone (docs/configuration.md).
SALESFORCE_OUTBOUND = ("/salesforce/outbound/{token}", "/salesforce/outbound")


def ingress_router(runtime: Runtime, settings: WebhookSettings | None = None) -> APIRouter:
    """``POST /webhooks/salesforce/outbound[/{token}]`` and ``POST /webhooks/{system}`` into
    `runtime`."""
    extra = dict.fromkeys(SALESFORCE_OUTBOUND, outbound_endpoint)
    return webhooks_router(runtime, settings, extra)
