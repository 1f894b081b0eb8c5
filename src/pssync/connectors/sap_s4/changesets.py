"""Writes to SAP sent as one OData ``$batch``, one changeset per record.

SAP Gateway's batch endpoint is the standard way to send many modifications at once: one HTTP
round trip (and one CSRF-checked POST) for up to a hundred records, while each changeset stays
its own unit of work, so a record SAP refuses fails alone and the others are kept. pyodata
builds and parses the multipart bodies; its stock changeset handler raises as soon as one
changeset is answered by an error, losing the answers of the others, so each changeset here
gets a handler that hands the error response back instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pyodata.v2.service import Changeset, ODataHttpResponse


@dataclass
class Outcome:
    """The answer to one changeset: the request's result, or SAP's error response."""

    result: Any = None
    error: ODataHttpResponse | None = None


def _handler(changeset: Changeset, parts: list[Any]) -> Outcome:
    if not parts or not isinstance(parts[0], list):  # one response answers for the changeset
        return Outcome(error=ODataHttpResponse.from_string(parts[0] if parts else ""))
    answers = [
        request.handler(ODataHttpResponse.from_string(part[0]))
        for part, request in zip(parts, changeset.requests, strict=True)
    ]
    return Outcome(result=answers[0] if len(answers) == 1 else answers)


def send(
    client: Any, requests: list[Any], write: Callable[[Callable[[], Any]], Any]
) -> list[Outcome]:
    """Send `requests` (pyodata create/modify requests of one service) in one ``$batch``,
    each in its own changeset; `write` runs the POST with a valid CSRF token."""
    if not requests:
        return []
    batch = client.create_batch()
    for request in requests:
        changeset = Changeset(client.url, client.connection, _handler)
        changeset.add_request(request)
        batch.add_request(changeset)
    outcomes: list[Outcome] = write(batch.execute)
    return outcomes
