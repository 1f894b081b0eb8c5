"""Kantata OX API errors: `{"errors": [{"type": ..., "message": ..., "field"?: ...}]}`.

Validation failures answer 422 with one entry per failing field (`type` "validation", `field`
named), authentication failures 401 (`type` "oauth"), everything else `type` "system". A
connector decides between fixing data (an exception for the owner) and retrying on this shape.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response

from pssync.sandbox.kantata.objects import ValidationProblem

_TYPES = {401: "oauth", 422: "validation", 429: "rate_limit"}


class KantataError(Exception):
    """Raised by handlers; rendered as Kantata's error body."""

    def __init__(
        self, status: int, message: str, *, problems: list[ValidationProblem] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.problems = problems or []

    def body(self) -> dict[str, Any]:
        if self.problems:
            return {
                "errors": [
                    {"type": "validation", "message": p.message, "field": p.field}
                    for p in self.problems
                ]
            }
        return {"errors": [{"type": _TYPES.get(self.status, "system"), "message": self.message}]}

    def response(self) -> Response:
        headers = {"WWW-Authenticate": 'Bearer realm="Kantata"'} if self.status == 401 else {}
        return Response(
            json.dumps(self.body()),
            status_code=self.status,
            media_type="application/json",
            headers=headers,
        )


def injected_error(status: int, reason: str) -> tuple[str, bytes]:
    """The base fault injector's hook: an injected status in Kantata's error shape."""
    message = {
        429: "Rate limit exceeded. Please retry after the period in Retry-After.",
        503: "Service temporarily unavailable.",
    }.get(status, f"An error occurred ({reason}).")
    return "application/json", json.dumps(KantataError(status, message).body()).encode()
