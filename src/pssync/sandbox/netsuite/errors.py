"""NetSuite REST web services errors, in the documented body shape.

Oracle's "Error Handling in REST Web Services" page: an error carries `type` (an RFC link for the
status), `title`, `status` and `o:errorDetails`, a list of `{detail, o:errorCode}` with optional
`o:errorPath` (JSON path into the request body), `o:errorQueryParam`, `o:errorHeader` or
`o:urlPath`. A connector keys its retry/fatal decision and its exception routing on these fields,
so the emulator must produce them exactly, including for injected faults.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response

ERROR_CONTENT_TYPE = "application/vnd.oracle.resource+json; type=error"

# The `type` links NetSuite sends (and its "Error Handling in REST Web Services" examples show):
# the status's section of RFC 2616 on w3.org.
_RFC2616 = "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10."
_TYPES = {
    400: (_RFC2616 + "4.1", "Bad Request"),
    401: (_RFC2616 + "4.2", "Unauthorized"),
    403: (_RFC2616 + "4.4", "Forbidden"),
    404: (_RFC2616 + "4.5", "Not Found"),
    405: (_RFC2616 + "4.6", "Method Not Allowed"),
    415: (_RFC2616 + "4.16", "Unsupported Media Type"),
    429: ("https://tools.ietf.org/html/rfc6585#section-4", "Too Many Requests"),
    500: (_RFC2616 + "5.1", "Internal Server Error"),
    503: (_RFC2616 + "5.4", "Service Unavailable"),
    504: (_RFC2616 + "5.5", "Gateway Timeout"),
}
_DEFAULT_CODES = {
    400: "USER_ERROR",
    401: "INVALID_LOGIN",
    403: "INSUFFICIENT_PERMISSION",
    404: "NONEXISTENT_ID",
    405: "METHOD_NOT_ALLOWED",
    429: "CONCURRENCY_LIMIT_EXCEEDED",
    500: "UNEXPECTED_ERROR",
    503: "SERVICE_UNAVAILABLE",
    504: "TIMEOUT",
}

INVALID_LOGIN_DETAIL = (
    "Invalid login attempt. For more details, see the Login Audit Trail in the NetSuite UI at "
    "Setup > Users/Roles > User Management > View Login Audit Trail."
)


class NetSuiteError(Exception):
    """Raised by handlers; rendered by the app as a NetSuite error response."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        code: str | None = None,
        path: str | None = None,
        query_param: str | None = None,
        header: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.code = code or _DEFAULT_CODES.get(status, "UNEXPECTED_ERROR")
        self.path = path
        self.query_param = query_param
        self.header = header
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"detail": self.detail, "o:errorCode": self.code}
        if self.path is not None:
            entry["o:errorPath"] = self.path
        if self.query_param is not None:
            entry["o:errorQueryParam"] = self.query_param
        if self.header is not None:
            entry["o:errorHeader"] = self.header
        return error_body(self.status, [entry])

    def response(self) -> Response:
        return Response(
            json.dumps(self.body()),
            status_code=self.status,
            media_type=ERROR_CONTENT_TYPE,
            headers=self.headers,
        )


def error_body(status: int, details: list[dict[str, Any]]) -> dict[str, Any]:
    kind, title = _TYPES.get(status, (_RFC2616 + "4", "Error"))
    return {"type": kind, "title": title, "status": status, "o:errorDetails": details}


def injected_error(status: int, reason: str) -> tuple[str, bytes]:
    """The body the fault injector sends for an injected status (base `error_body` hook)."""
    code = _DEFAULT_CODES.get(status, "UNEXPECTED_ERROR")
    if status == 429:
        detail = "Concurrent request limit exceeded. Request blocked."
    elif status == 401:
        detail = INVALID_LOGIN_DETAIL
    else:
        detail = f"An unexpected error occurred ({reason})."
    body = error_body(status, [{"detail": detail, "o:errorCode": code}])
    return ERROR_CONTENT_TYPE, json.dumps(body).encode()
