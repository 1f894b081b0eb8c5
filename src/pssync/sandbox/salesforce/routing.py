"""Request context, reply and a small regex router shared by the REST resources.

The resources are plain functions of (transaction, context) so that composite subrequests can
be dispatched in-process through the same routes as HTTP requests.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pssync.sandbox.salesforce.errors import SalesforceError, not_found


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Ctx:
    version: str
    method: str
    params: dict[str, str]
    body: Any
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def major(self) -> float:
        return float(self.version)

    def object_body(self) -> dict[str, Any]:
        if not isinstance(self.body, dict):
            raise SalesforceError(
                400, "JSON_PARSER_ERROR", "The request body must be a JSON object"
            )
        return self.body


Handler = Callable[..., Reply]


class Router:
    """(method, regex) → handler; named groups become keyword arguments."""

    def __init__(self) -> None:
        self.routes: list[tuple[str, re.Pattern[str], Handler]] = []

    def add(self, methods: str, pattern: str, handler: Handler) -> None:
        for method in methods.split("|"):
            self.routes.append((method, re.compile(f"^{pattern}$"), handler))

    def match(self, method: str, path: str) -> tuple[Handler, dict[str, str]]:
        allowed: list[str] = []
        for route_method, regex, handler in self.routes:
            found = regex.match(path)
            if found is None:
                continue
            if route_method == method:
                return handler, found.groupdict()
            allowed.append(route_method)
        if allowed:
            raise SalesforceError(
                405,
                "METHOD_NOT_ALLOWED",
                f"HTTP Method '{method}' not allowed. Allowed are {','.join(allowed)}",
            )
        raise not_found()
