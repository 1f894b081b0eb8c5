"""The error responses every API route may give, declared once so OpenAPI lists them.

Clients (and schemathesis) can then rely on the schema: a 404 or 409 is part of the contract,
with the same ``{"detail": ...}`` body FastAPI uses for its own errors.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class ErrorBody(BaseModel):
    detail: Any


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorBody, "description": description}


ERRORS: dict[int | str, dict[str, Any]] = {
    400: _error("Bad request"),
    401: _error("Missing or invalid credentials"),
    403: _error("The caller's role does not allow this"),
    404: _error("No such resource"),
    409: _error("Not allowed in the resource's current state"),
    413: _error("Request body too large"),
    429: _error("Rate limit exceeded; see Retry-After"),
}
