"""Per-request retries for the connectors that ride on `requests` (simple-salesforce, pyodata).

The kit's httpx transport retries each request (`Transport.send`); the Salesforce and SAP
clients send through a `requests.Session` instead, so without this a single 503 or dropped
connection failed the whole read step it belonged to, and the capture restarted that step from
its cursor. A Bulk API job or an OData page with its look-ups is several requests: under the
chaos suite's fault mix (20% errors, 3% timeouts, 3% drops) a medium firm's capture ran out of
restarts. urllib3's `Retry` (the library `requests` already uses) retries the request itself.

Only reads are retried here (GET and HEAD, idempotent by HTTP's definition, RFC 9110 9.2.2):
a create or update that timed out may have landed, and its idempotency is the delivery's
business (external IDs, the delivery claim). 429 is left out, and no Retry-After is slept on
here: a spent quota can ask for minutes, which is the capture's and the delivery's to wait out
(`QuotaExhaustedError`, Retry-After), not a sleep inside one call.
"""

from __future__ import annotations

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

READ_METHODS = frozenset({"GET", "HEAD"})
TRANSIENT_STATUS = frozenset({500, 502, 503, 504})


def mount_read_retries(session: requests.Session, attempts: int = 3) -> requests.Session:
    """Retry `session`'s reads up to `attempts` times in all on connection failures, read
    timeouts and 5xx answers, backing off 0.1 s, 0.2 s, ... (at most 2 s); the last answer (or
    error) is what the caller sees, so its error classes are unchanged."""
    retry = Retry(
        total=max(0, attempts - 1),
        allowed_methods=READ_METHODS,
        status_forcelist=TRANSIENT_STATUS,
        backoff_factor=0.1,
        backoff_max=2.0,
        raise_on_status=False,
        respect_retry_after_header=False,
    )
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
