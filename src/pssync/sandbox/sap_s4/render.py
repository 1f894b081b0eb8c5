"""JSON and service-document shapes of OData v2 responses (``{"d": …}``, ``__metadata``).

SAP always returns every property of the type; an unset string is ``""`` and an unset boolean is
``false`` (ABAP has no null for them), while unset dates and decimals are ``null``. Navigation
properties are ``__deferred`` links unless inlined (``$expand``, or a deep insert's response);
an entity with a concurrency token carries it as ``__metadata.etag``.
"""

from __future__ import annotations

from html import escape
from typing import Any

from pssync.sandbox.sap_s4.etags import etag_of
from pssync.sandbox.sap_s4.schema import EntitySet, Service
from pssync.sandbox.sap_s4.values import key_literal

Record = dict[str, Any]


def key_predicate(entity_set: EntitySet, record: Record) -> str:
    parts = []
    for name in entity_set.keys:
        prop = entity_set.prop(name)
        assert prop is not None
        parts.append(key_literal(prop, record.get(name)))
    if len(parts) == 1:
        return f"({parts[0]})"
    return "(" + ",".join(f"{k}={v}" for k, v in zip(entity_set.keys, parts, strict=True)) + ")"


def _empty(edm: str) -> Any:
    return {"Edm.String": "", "Edm.Boolean": False}.get(edm)


def entity(
    service: Service,
    entity_set: EntitySet,
    record: Record,
    service_url: str,
    select: list[str] | None = None,
) -> Record:
    """One entity in v2 JSON, with `__metadata` id/uri/type."""
    uri = f"{service_url}{entity_set.name}{key_predicate(entity_set, record)}"
    meta = {"id": uri, "uri": uri, "type": f"{service.name}.{entity_set.type_name}"}
    etag = etag_of(entity_set, record)
    if etag is not None:
        meta["etag"] = etag
    out: Record = {"__metadata": meta}
    for prop in entity_set.props:
        if select is None or prop.name in select:
            value = record.get(prop.name)
            out[prop.name] = _empty(prop.edm) if value is None else value
    for nav in entity_set.navs:
        if select is not None and nav.name not in select:
            continue
        target = service.entity_set(nav.target)
        assert target is not None
        if nav.name not in record:
            out[nav.name] = {"__deferred": {"uri": f"{uri}/{nav.name}"}}
        elif nav.many:
            rows = record[nav.name] or []
            out[nav.name] = {"results": [entity(service, target, r, service_url) for r in rows]}
        else:
            one = record[nav.name]
            out[nav.name] = None if one is None else entity(service, target, one, service_url)
    return out


def service_document_json(service: Service) -> Record:
    return {"d": {"EntitySets": [s.name for s in service.entity_sets]}}


def service_document_xml(service: Service, service_url: str) -> bytes:
    collections = "".join(
        f'<app:collection sap:creatable="{str(s.creatable).lower()}" href="{s.name}">'
        f"<atom:title>{escape(s.label)}</atom:title></app:collection>"
        for s in service.entity_sets
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<app:service xml:lang="en" xml:base="{escape(service_url)}"'
        ' xmlns:app="http://www.w3.org/2007/app" xmlns:atom="http://www.w3.org/2005/Atom"'
        ' xmlns:sap="http://www.sap.com/Protocols/SAPData">'
        f"<app:workspace><atom:title>Data</atom:title>{collections}</app:workspace>"
        "</app:service>"
    ).encode()
