"""Every object's describe in one API call, through the Composite resource.

Why: the connector needs each object's describe (which fields the org has, and their types to
read Bulk API 2.0's all-text CSV back), one call each, so an initial load of six objects spent
six calls on metadata. The Composite resource runs up to 25 subrequests, any sObject resource
among them (the sObject Describe ``/sobjects/{object}/describe/`` is one), and "the entire
series of requests counts as a single call toward your API limits" (REST API Developer Guide,
"Send Multiple Requests Using Composite",
https://developer.salesforce.com/docs/platform/api-rest/guide/resources-composite-composite-post.html).
``allOrNone`` is false: an object the org lacks answers its own 404 and the others still come;
the connector then asks for that one alone and reports its error as before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

from pssync.connectors.salesforce.soql import ident

MAX_SUBREQUESTS = 25  # per Composite request, as documented


def _composite(sf: Any, body: dict[str, Any]) -> Any:
    return sf.restful("composite", method="POST", json=body)


def describe_all(
    call: Callable[[Callable[[Any], Any]], Any], version: str, objects: Iterable[str]
) -> dict[str, dict[str, Any]]:
    """Describes of `objects` by lower-cased name, one Composite call per 25 objects; an
    object whose subrequest failed is left out."""
    names = list(dict.fromkeys(ident(o) for o in objects))
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(names), MAX_SUBREQUESTS):
        chunk = names[start : start + MAX_SUBREQUESTS]
        body = {
            "allOrNone": False,
            "compositeRequest": [
                {
                    "method": "GET",
                    "url": f"/services/data/v{version}/sobjects/{name}/describe/",
                    "referenceId": f"describe{index}",
                }
                for index, name in enumerate(chunk)
            ],
        }
        answer = call(partial(_composite, body=body))
        for name, sub in zip(chunk, answer.get("compositeResponse", []), strict=False):
            if sub.get("httpStatusCode") == 200 and isinstance(sub.get("body"), dict):
                found[name.lower()] = sub["body"]
    return found
