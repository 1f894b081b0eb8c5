"""Dataverse Web API errors: ``{"error": {"code": "0x...", "message": "..."}}``.

The envelope and codes follow "Troubleshoot Dataverse Web API client errors"
(https://learn.microsoft.com/troubleshoot/power-platform/power-apps/dataverse/web-api-client-errors),
"Perform conditional operations using the Web API" (412/404 of a limited upsert,
https://learn.microsoft.com/power-apps/developer/data-platform/webapi/perform-conditional-operations-using-web-api)
and "Service protection API limits" (429 with Retry-After,
https://learn.microsoft.com/power-apps/developer/data-platform/api-limits).
"""

from __future__ import annotations

import json

from starlette.responses import Response

NOT_FOUND = "0x80040217"  # ObjectDoesNotExist
NO_SEGMENT = "0x8006088a"  # Resource not found for the segment
PAYLOAD = "0x80048d19"  # Error identified in Payload provided by the user
TOO_LONG = "0x80044331"  # the length of an attribute exceeded its maximum
BAD_QUERY = "0x0"  # OData query errors carry no Dataverse code
REQUESTS_LIMIT = "0x80072322"  # service protection: number of requests
UNEXPECTED = "0x80040216"  # an unexpected error occurred
ODATA_HEADERS = {"OData-Version": "4.0"}


class DataverseError(Exception):
    """Raised by handlers; rendered as the Web API's error envelope."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def response(self) -> Response:
        return Response(
            error_body(self.code, self.message),
            status_code=self.status,
            media_type="application/json; odata.metadata=minimal",
            headers=ODATA_HEADERS,
        )


def error_body(code: str, message: str) -> bytes:
    return json.dumps({"error": {"code": code, "message": message}}).encode()


def injected_error(status: int, reason: str) -> tuple[str, bytes]:
    """The fault injector's hook: an injected status in the Web API's error shape (a 429 is
    the service protection limit on the number of requests, as documented)."""
    if status == 429:
        message = "Number of requests exceeded the limit of 6000 over time window of 300 seconds."
        return "application/json", error_body(REQUESTS_LIMIT, message)
    return "application/json", error_body(UNEXPECTED, f"An unexpected error occurred ({reason}).")
