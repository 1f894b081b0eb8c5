"""The REST API's error envelope and the exception the handlers raise to produce it.

Salesforce answers every failed request with a JSON array of ``{"message", "errorCode"}``
objects (plus ``fields`` for record errors); simple-salesforce and pssync's connector read
``errorCode`` to decide between refreshing the session, retrying and giving up.
"""

from __future__ import annotations

from typing import Any

NOT_FOUND_MESSAGE = "The requested resource does not exist"

# Codes for statuses the base fault injector produces (see Emulator.error_body).
STATUS_CODES: dict[int, tuple[str, str]] = {
    401: ("INVALID_SESSION_ID", "Session expired or invalid"),
    403: ("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."),
    404: ("NOT_FOUND", NOT_FOUND_MESSAGE),
    429: ("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."),
    500: ("UNKNOWN_EXCEPTION", "An unexpected error occurred. Please include this ErrorId."),
    503: ("SERVER_UNAVAILABLE", "Server temporarily unavailable; please retry."),
    504: ("REQUEST_RUNNING_TOO_LONG", "Your request was running for too long."),
}


class SalesforceError(Exception):
    """A request failed the way Salesforce would fail it: HTTP status, errorCode, message."""

    def __init__(
        self, status: int, code: str, message: str, fields: list[str] | None = None
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields

    def envelope(self) -> list[dict[str, Any]]:
        """The top-level error body of a REST resource."""
        item: dict[str, Any] = {"message": self.message, "errorCode": self.code}
        if self.fields is not None:
            item["fields"] = self.fields
        return [item]

    def record_error(self) -> dict[str, Any]:
        """The per-record error inside collection results (`statusCode`, not `errorCode`)."""
        return {"statusCode": self.code, "message": self.message, "fields": self.fields or []}


def not_found(message: str = NOT_FOUND_MESSAGE) -> SalesforceError:
    return SalesforceError(404, "NOT_FOUND", message)


def invalid_field(message: str, fields: list[str] | None = None) -> SalesforceError:
    return SalesforceError(400, "INVALID_FIELD", message, fields)


def malformed(message: str) -> SalesforceError:
    return SalesforceError(400, "MALFORMED_QUERY", message)


def status_error(status: int, reason: str) -> list[dict[str, Any]]:
    code, message = STATUS_CODES.get(status, ("UNKNOWN_EXCEPTION", reason))
    return [{"message": message, "errorCode": code}]
