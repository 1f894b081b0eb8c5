"""Salesforce outbound messages: the SOAP ``notifications`` call, acknowledged with ``Ack``.

A workflow rule or flow in the org posts up to 100 ``Notification`` elements per message, each
with the notification ``Id`` and the ``sObject`` with the fields the admin selected. Salesforce
cannot sign the request, and the ``OrganizationId`` in the envelope is no credential (anyone can
write it). So a message is accepted only with a real one, checked before the body is parsed
(`authorised`): the secret token the admin put in the endpoint URL
(``https://host/webhooks/salesforce/outbound/<token>``, compared in constant time against every
configured token, so tokens rotate by listing both), and/or a client address inside the allowed
networks (Salesforce publishes its IP ranges). With neither configured the endpoint refuses
everything. The organisation is then checked as well.

Salesforce redelivers a message until it reads ``<Ack>true</Ack>`` and may deliver one twice
even after an ack, and delivers only the latest field values. Each notification becomes one
`submit_event` keyed by the record's content and ``SystemModstamp``, so any redelivery is the
same workflow; notification IDs are remembered as well (for tracing which message carried what).
The ack is sent once every notification is enqueued — durably, in DBOS — not once applied.

Field values arrive as text (``xsi:nil`` as None); the mapping's ``as:`` conversions type them.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from pssync.engine.pipeline import source_record
from pssync.engine.pushed import problem_of
from pssync.engine.webhooks import Ingress, WebhookSettings, body_digest, read_body
from pssync.engine.workflows import submit_event

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
OUTBOUND = "http://soap.sforce.com/2005/09/outbound"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
STAMP = "SystemModstamp"

ACK = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV}"><soapenv:Body>'
    f'<notificationsResponse xmlns="{OUTBOUND}"><Ack>true</Ack></notificationsResponse>'
    "</soapenv:Body></soapenv:Envelope>"
)


class OutboundError(ValueError):
    """A message that is not a well-formed outbound message (answered with a SOAP fault)."""


@dataclass(frozen=True)
class Notification:
    id: str
    object: str
    record_id: str
    fields: dict[str, Any]


@dataclass(frozen=True)
class OutboundMessage:
    organization_id: str
    action_id: str
    notifications: list[Notification]


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _sobject(element: ET.Element) -> tuple[str, dict[str, Any]]:
    """The object name (from ``xsi:type="sf:Account"``) and the fields of one sObject."""
    kind = element.get(f"{{{XSI}}}type", "")
    fields: dict[str, Any] = {}
    for child in element:
        nil = child.get(f"{{{XSI}}}nil") == "true"
        fields[_local(child.tag)] = None if nil else (child.text or "")
    return kind.rpartition(":")[2], fields


def parse(body: bytes) -> OutboundMessage:
    """Parse a ``notifications`` envelope. Documents with a DTD are refused outright (no
    entity expansion of any kind), which ElementTree would otherwise partly allow."""
    if b"<!DOCTYPE" in body.upper() or b"<!ENTITY" in body.upper():
        raise OutboundError("DTDs are not accepted")
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise OutboundError(f"not XML: {exc}") from None
    found = root.find(f"{{{SOAP_ENV}}}Body/{{{OUTBOUND}}}notifications")
    if found is None:
        raise OutboundError("no notifications element in a SOAP body")
    org = found.findtext(f"{{{OUTBOUND}}}OrganizationId", "").strip()
    notes: list[Notification] = []
    for note in found.findall(f"{{{OUTBOUND}}}Notification"):
        note_id = note.findtext(f"{{{OUTBOUND}}}Id", "").strip()
        sobject = note.find(f"{{{OUTBOUND}}}sObject")
        if not note_id or sobject is None:
            raise OutboundError("a Notification needs an Id and an sObject")
        obj, fields = _sobject(sobject)
        record_id = fields.get("Id")
        if not obj or not record_id:
            raise OutboundError(f"notification {note_id}: sObject without a type or an Id")
        notes.append(Notification(note_id, obj, str(record_id), fields))
    action = found.findtext(f"{{{OUTBOUND}}}ActionId", "").strip()
    return OutboundMessage(org, action, notes)


def same_org(org_id: str, allowed: tuple[str, ...]) -> bool:
    """Org IDs compare on their case-sensitive 15-character form (18 adds a checksum)."""
    return bool(org_id) and org_id[:15] in {a[:15] for a in allowed}


def fault(code: str, message: str, status: int) -> Response:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV}"><soapenv:Body><soapenv:Fault>'
        f"<faultcode>soapenv:{code}</faultcode><faultstring>{_escape(message)}</faultstring>"
        "</soapenv:Fault></soapenv:Body></soapenv:Envelope>"
    )
    return Response(body, status_code=status, media_type="text/xml; charset=utf-8")


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def authorised(settings: WebhookSettings, token: str | None, client: str | None) -> str | None:
    """Why this request may not post outbound messages (None: it may)."""
    tokens, networks = settings.salesforce_tokens, settings.salesforce_networks
    if not tokens and not networks:
        return (
            "outbound messages are not enabled: configure webhooks.salesforce.endpoint_secrets"
            " and/or webhooks.salesforce.allowed_ips"
        )
    if tokens:
        offered = (token or "").encode()
        matches = [hmac.compare_digest(offered, t.encode()) for t in tokens]  # no early exit
        if not any(matches):
            return "unknown endpoint token"
    if networks:
        try:
            address = ipaddress.ip_address(client or "")
        except ValueError:
            return "client address unknown"
        if not any(address.version == n.version and address in n for n in networks):
            return f"client address {address} is not allowed"
    return None


def accept(
    ingress: Ingress, body: bytes, token: str | None = None, client: str | None = None
) -> Response:
    """Authenticate, verify, enqueue every notification, acknowledge."""
    settings = ingress.settings
    refused = authorised(settings, token, client)
    if refused is not None:
        return fault("Client", refused, 403)
    try:
        message = parse(body)
    except OutboundError as exc:
        return fault("Client", str(exc), 400)
    if not same_org(message.organization_id, settings.salesforce_org_ids):
        return fault("Client", "unknown OrganizationId", 403)
    system = settings.salesforce_system
    objects = ingress.runtime.translators.get(system)
    records = []
    for note in message.notifications:
        if objects is None or note.object not in objects.spec.objects:
            return fault("Client", f"no mapping for {system} {note.object}", 422)
        record = source_record(note.record_id, note.fields, note.fields.get(STAMP) or None)
        problem = problem_of(record, STAMP)
        if problem is not None:  # refused whole: Salesforce retries, its monitor shows why
            return fault("Client", f"notification {note.id}: {problem}", 422)
        records.append(record)
    for note, record in zip(message.notifications, records, strict=True):
        workflow_id = submit_event(system, note.object, record)
        digest = body_digest(json.dumps(note.fields, sort_keys=True).encode("utf-8"))
        ingress.messages.remember(system, note.id, digest, [workflow_id])
    return Response(ACK, media_type="text/xml; charset=utf-8")


def outbound_endpoint(ingress: Ingress) -> Callable[[Request], Awaitable[Response]]:
    """The FastAPI endpoint Salesforce's outbound message action points at."""

    async def salesforce_outbound(request: Request, token: str | None = None) -> Response:
        """A Salesforce outbound message (SOAP ``notifications``); answers ``Ack``."""
        client = request.client.host if request.client else None
        refused = authorised(ingress.settings, token, client)
        if refused is not None:  # before the body is even read
            return fault("Client", refused, 403)
        body = await read_body(request)
        return await run_in_threadpool(accept, ingress, body, token, client)

    return salesforce_outbound
