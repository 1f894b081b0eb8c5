"""Dataverse change tracking over the Web API: ``Prefer: odata.track-changes`` and delta links.

As "Use change tracking to synchronize data with external systems"
(https://learn.microsoft.com/power-apps/developer/data-platform/use-change-tracking-synchronize-data-external-systems)
and "Track entity data changes with change tracking and the Web API"
(https://learn.microsoft.com/training/modules/dataverse-web-api/change-tracking) document it:

- A collection GET with ``Prefer: odata.track-changes`` answers every row (no deleted ones: the
  first read treats everything as new), ``@odata.context`` ending ``/$delta``,
  ``Preference-Applied: odata.track-changes``; paged by ``odata.maxpagesize`` and a
  ``$skiptoken`` paging cookie (``istracking="True"``), the last page carrying
  ``@odata.deltaLink``: the same query with a ``$deltatoken`` in Dataverse's shape,
  ``<row version>!<MM/dd/yyyy HH:mm:ss>`` (the example's ``919042!08/22/2017 08:10:44``).
- GET on the delta link answers the rows created or changed since its token, in full (``$select``
  applies), and each row deleted since as ``{"@odata.context": ".../$metadata#<set>/$deletedEntity",
  "id": "<guid>", "reason": "deleted"}``, in row-version order, paged the same way, with a
  fresh ``@odata.deltaLink`` on the last page.
- ``$filter``, ``$orderby``, ``$top`` and ``$expand`` are refused with tracking: change tracking
  answers a whole table (the documented requests use ``$select`` only); a token that is not
  Dataverse's shape is a 400.
- Not emulated: tables with change tracking switched off (every table here tracks changes), and
  the expiry of tokens older than the organisation's ``ExpireChangeTrackingInDays``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import urllib.parse
from typing import TYPE_CHECKING

from starlette.requests import Request

from pssync.sandbox.dynamics import odata
from pssync.sandbox.dynamics.entities import Record, Table

if TYPE_CHECKING:
    from pssync.sandbox.dynamics.api import DataverseApi

TRACK = "odata.track-changes"
REFUSED = ("$filter", "$orderby", "$top", "$expand")
DELTA_TOKEN = re.compile(r"^(\d+)!\d\d/\d\d/\d{4} \d\d:\d\d:\d\d$")
COOKIE = re.compile(r'pagenumber="(\d+)" pagingcookie="([^"]*)" istracking="True"')


def wanted(request: Request) -> bool:
    """Whether a collection GET is a change-tracking read (first or delta)."""
    tracked = odata.prefers(request.headers.get("prefer"), TRACK)
    return tracked or "$deltatoken" in request.query_params


def _since(text: str) -> int:
    match = DELTA_TOKEN.match(text)
    if match is None:
        raise odata.bad(f"The delta token '{text}' is not valid.")
    return int(match.group(1))


def _cookie(page: int, state: list[int]) -> str:
    cookie = urllib.parse.quote(json.dumps(state))
    return f'<cookie pagenumber="{page}" pagingcookie="{cookie}" istracking="True" />'


def _read_cookie(text: str) -> tuple[int, list[int]]:
    match = COOKIE.search(text)
    try:
        assert match is not None
        state = [int(v) for v in json.loads(urllib.parse.unquote(match.group(2)))]
        assert len(state) == 3
    except (AssertionError, ValueError, TypeError):
        raise odata.bad("The $skiptoken is not a valid paging cookie.") from None
    return int(match.group(1)), state


def _query(pairs: list[tuple[str, str]]) -> str:
    """As the documented links write them: ``$select=a,b&$deltatoken=919042%2108%2f22...``."""
    return "&".join(f"{k}={urllib.parse.quote(v, safe=',')}" for k, v in pairs)


def respond(
    api: DataverseApi, request: Request, table: Table, select: list[str] | None
) -> tuple[Record, dict[str, str]]:
    """The body and headers of one page of a first or delta read."""
    params = request.query_params
    for name in REFUSED:
        if name in params:
            raise odata.bad(f"The query parameter {name} is not supported with change tracking.")
    service = api.service
    if "$skiptoken" in params:  # [version after which this page starts, since, high water]
        number, (after, since, high) = _read_cookie(params["$skiptoken"])
        delta = since > 0
    else:
        delta = "$deltatoken" in params
        since = _since(params["$deltatoken"]) if delta else 0
        number, after, high = 1, since, service.high_water
    rows = service.rows.values(table.set_name)
    entries: list[tuple[int, Record | None, str]] = [
        (int(r["versionnumber"]), r, str(r[table.id_field]))
        for r in rows
        if int(r["versionnumber"]) > after
    ]
    if delta:  # a first read answers no deleted rows
        live = {str(r[table.id_field]) for r in rows}
        entries += [
            (int(t["versionnumber"]), None, str(t["id"]))
            for t in service.tombstones(table)
            if int(t["versionnumber"]) > after and str(t["id"]) not in live
        ]
    entries.sort(key=lambda e: e[0])
    size = odata.page_size(request.headers.get("prefer"))
    page = entries[:size]
    suffix = f"({','.join(select)})" if select else ""
    gone = api._url(request, f"$metadata#{table.set_name}/$deletedEntity")
    body: Record = {
        "@odata.context": api._url(request, f"$metadata#{table.set_name}{suffix}/$delta"),
        "value": [
            api.show(table, row, select, request)
            if row is not None
            else {"@odata.context": gone, "id": rid, "reason": "deleted"}
            for _, row, rid in page
        ],
    }
    keep = [(k, v) for k, v in params.multi_items() if k == "$select"]
    if len(entries) > size:
        state = [page[-1][0], since if delta else 0, high]
        encoded = _query([*keep, ("$skiptoken", _cookie(number + 1, state))])
        body["@odata.nextLink"] = api._url(request, f"{table.set_name}?{encoded}")
    else:
        moment = dt.datetime.now(dt.UTC).strftime("%m/%d/%Y %H:%M:%S")
        encoded = _query([*keep, ("$deltatoken", f"{high}!{moment}")])
        body["@odata.deltaLink"] = api._url(request, f"{table.set_name}?{encoded}")
    applied = [TRACK, *api._applied(request).get("Preference-Applied", "").split(",")]
    return body, {"Preference-Applied": ",".join(a for a in applied if a)}
