"""Per-request retries for the connectors that ride on `requests` (simple-salesforce, pyodata).

The kit's httpx transport retries each request (`Transport.send`); the Salesforce and SAP
clients send through a `requests.Session` instead, so without this a single 503 or dropped
connection failed the whole read step it belonged to, and the capture restarted that step from
its cursor. A Bulk API job or an OData page with its look-ups is several requests: under the
chaos suite's fault mix (20% errors, 3% timeouts, 3% drops) a medium firm's capture ran out of
restarts. urllib3's `Retry` (the library `requests` already uses) retries the request itself.

Only reads are retried here (GET and HEAD, idempotent by HTTP's definition, RFC 9110 9.2.2):
a create or update that timed out may have landed, and its idempotency is the delivery's
business (external IDs, the delivery claim). A 429 or 503 is retried as the kit's transport
retries it: after its Retry-After when that is at most `MAX_WAIT` seconds (a blip: RFC 9110
10.2.3, RFC 6585 4); a longer one (a spent quota can ask for minutes) is given back at once,
for the capture and the delivery to wait out (`QuotaExhaustedError`, Retry-After), not a sleep
inside one call. Under the chaos mix a third of the injected errors are 429s: left to the
capture, an SAP page that needs a few dozen look-ups almost never got through.

Five attempts, not the kit's three: a read here is rarely alone. An SAP page of 1,000 rows
brings up to 25 look-ups per kind (40 keys a request), a Salesforce page its history queries,
and the capture's unit of progress is the page, so one request failing for good costs the
whole page again. At 27% of attempts failing (the chaos mix) three attempts leave 1.9% of
requests failed, and a 75-request page gets through a quarter of the time (nine tries in a row
fail 8% of the time: a medium firm has hundreds of such pages); five leave 0.14%, and the page
gets through 90% of the time.
"""

from __future__ import annotations

from typing import Any, Self

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import MaxRetryError, ResponseError
from urllib3.util.retry import Retry

READ_METHODS = frozenset({"GET", "HEAD"})
TRANSIENT_STATUS = frozenset({429, 500, 502, 503, 504})
MAX_WAIT = 2.0  # seconds: the longest Retry-After slept inside a request (as `Transport`)
READ_ATTEMPTS = 5


class ShortWaitRetry(Retry):
    """urllib3's `Retry`, except that an answer asking to wait longer than `MAX_WAIT` is
    returned to the caller at once instead of slept on."""

    def increment(
        self,
        method: str | None = None,
        url: str | None = None,
        response: Any = None,
        error: Exception | None = None,
        _pool: Any = None,
        _stacktrace: Any = None,
    ) -> Self:
        wait = self.get_retry_after(response) if response is not None else None
        if wait is not None and wait > MAX_WAIT:
            # With raise_on_status off, urllib3 hands this response back unchanged.
            raise MaxRetryError(_pool, url or "", ResponseError(f"Retry-After {wait:.0f} s"))
        return super().increment(method, url, response, error, _pool, _stacktrace)


def mount_read_retries(
    session: requests.Session, attempts: int = READ_ATTEMPTS
) -> requests.Session:
    """Retry `session`'s reads up to `attempts` times in all on connection failures, read
    timeouts, 5xx answers and short 429s, backing off 0.1 s, 0.2 s, ... (at most `MAX_WAIT`)
    or as the server's Retry-After says; the last answer (or error) is what the caller sees,
    so its error classes are unchanged."""
    retry = ShortWaitRetry(
        total=max(0, attempts - 1),
        allowed_methods=READ_METHODS,
        status_forcelist=TRANSIENT_STATUS,
        backoff_factor=0.1,
        backoff_max=MAX_WAIT,
        raise_on_status=False,
        respect_retry_after_header=True,
    )
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
