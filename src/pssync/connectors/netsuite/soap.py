"""Batch writes through SuiteTalk SOAP `upsertList`: up to `soap_batch_size` records a call.

Why SOAP: NetSuite's REST record API writes one record per request (its async mode still takes
one request per record, plus polling), while SOAP's list operations are the documented way to
write many records in one call, keyed by external ID like REST's ``PUT .../eid:`` (Oracle,
"upsertList"). An initial load of thousands of customers or tasks then costs one call per batch
instead of one per record. SOAP authenticates with TBA's `tokenPassport` (HMAC-SHA256 over
``account&consumerKey&token&nonce&timestamp``, keyed ``consumerSecret&tokenSecret``), so it is
used only with TBA settings; OAuth 2.0 installations write over REST.

Each record gets its own `writeResponse` (in order): success gives the internal ID; a failure
fails that record only (`statusDetail` code and message), as a 400 does on REST. A SOAP fault
fails the call: an invalid login is an `AuthError`, anything else permanent; HTTP 429 and 5xx
without a fault are retriable.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape, quoteattr

import httpx

from pssync.connectors.errors import AuthError, PermanentError
from pssync.connectors.netsuite.auth import SYSTEM, _secret
from pssync.connectors.netsuite.transport import classify, transport_error

if TYPE_CHECKING:
    from pssync.connectors.netsuite.objects import NsObject
    from pssync.connectors.netsuite.transport import Transport

VERSION = "2024_2"
SOAP_PATH = f"/services/NetSuitePort_{VERSION}"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
MESSAGES = f"urn:messages_{VERSION}.platform.webservices.netsuite.com"
CORE = f"urn:core_{VERSION}.platform.webservices.netsuite.com"
# REST record type -> (SOAP record type, its XSD namespace).
SOAP_TYPES = {
    "customer": ("Customer", f"urn:relationships_{VERSION}.lists.webservices.netsuite.com"),
    "job": ("Job", f"urn:relationships_{VERSION}.lists.webservices.netsuite.com"),
    "projecttask": (
        "ProjectTask",
        f"urn:scheduling_{VERSION}.activities.webservices.netsuite.com",
    ),
    "timebill": ("TimeBill", f"urn:employees_{VERSION}.transactions.webservices.netsuite.com"),
}


class Written:
    """One record's answer: its internal ID, or the error that failed it."""

    def __init__(self, record_id: str | None, error: PermanentError | None) -> None:
        self.record_id, self.error = record_id, error


def passport(transport: Transport) -> str:
    settings = transport.settings
    nonce, timestamp = secrets.token_hex(10), str(int(time.time()))
    account, key, token = settings.account_id, settings.consumer_key or "", settings.token_id or ""
    secret = f"{_secret(settings.consumer_secret)}&{_secret(settings.token_secret)}"
    message = "&".join((account, key, token, nonce, timestamp))
    signature = base64.b64encode(
        hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest()
    ).decode()
    parts = [("account", account), ("consumerKey", key), ("token", token)]
    parts += [("nonce", nonce), ("timestamp", timestamp)]
    fields = "".join(f'<{n} xmlns="{CORE}">{escape(v)}</{n}>' for n, v in parts)
    return (
        f'<tokenPassport xmlns="{MESSAGES}">{fields}'
        f'<signature xmlns="{CORE}" algorithm="HMAC-SHA256">{signature}</signature>'
        "</tokenPassport>"
    )


def _field(obj: NsObject, name: str, value: Any) -> str:
    if isinstance(value, dict):
        attr = "internalId" if value.get("id") else "externalId"
        return f"<q:{name} {attr}={quoteattr(str(value.get('id') or value['externalId']))}/>"
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif obj.kind(name) == "date":
        text = f"{value}T00:00:00.000Z"
    else:
        text = str(value)
    return f"<q:{name}>{escape(text)}</q:{name}>"


def record_xml(obj: NsObject, external_id: str, body: dict[str, Any]) -> str:
    """One `<record>` of an upsertList: fields in the record's namespace, `cust*` fields in its
    customFieldList, nulls in its nullFieldList (which clears them, as a REST null does)."""
    kind, namespace = SOAP_TYPES[obj.record_type]
    fields, custom, nulls = [], [], []
    for name, value in body.items():
        if value is None:
            nulls.append(f'<name xmlns="{CORE}">{escape(name)}</name>')
        elif name.startswith("cust"):
            ref = isinstance(value, dict)
            inner = _field(obj, "value", value).replace("q:value", "value")
            custom.append(
                f'<customField xmlns="{CORE}" scriptId={quoteattr(name)} '
                f'xsi:type="{"Select" if ref else "String"}CustomFieldRef">{inner}</customField>'
            )
        else:
            fields.append(_field(obj, name, value))
    if custom:
        fields.append(f"<q:customFieldList>{''.join(custom)}</q:customFieldList>")
    if nulls:
        fields.append(f"<q:nullFieldList>{''.join(nulls)}</q:nullFieldList>")
    return (
        f'<record xmlns:q="{namespace}" xsi:type="q:{kind}" externalId={quoteattr(external_id)}>'
        + "".join(fields)
        + "</record>"
    )


def parse_answer(response: httpx.Response, count: int) -> list[Written]:
    """The `writeResponse`s of an upsertList answer, in order; raises on a fault."""
    try:
        root = ET.fromstring(response.content)
    except ET.ParseError:
        raise classify(response) from None  # not SOAP: a gateway's 429 / 5xx
    fault = root.find(f"{{{SOAP_ENV}}}Body/{{{SOAP_ENV}}}Fault")
    if fault is not None:
        message = fault.findtext("faultstring", "SOAP fault")
        code = next((e.text for e in fault.iter() if e.tag.endswith("}code")), None)
        cls = AuthError if code == "INVALID_LOGIN_ATTEMPT" else PermanentError
        raise cls(message, system=SYSTEM, vendor_code=code, status=response.status_code)
    if response.status_code >= 400:
        raise classify(response)
    answers = [e for e in root.iter() if e.tag == f"{{{MESSAGES}}}writeResponse"]
    if len(answers) != count:
        raise PermanentError(
            f"upsertList answered {len(answers)} of {count} records", system=SYSTEM
        )
    out = []
    for answer in answers:
        status = answer.find(f"{{{CORE}}}status")
        ref = answer.find(f"{{{MESSAGES}}}baseRef")
        ext = ref.get("externalId") if ref is not None else None
        if status is not None and status.get("isSuccess") == "true" and ref is not None:
            out.append(Written(ref.get("internalId"), None))
            continue
        code = answer.findtext(f".//{{{CORE}}}code")
        message = answer.findtext(f".//{{{CORE}}}message") or "refused without a reason"
        error = PermanentError(message, system=SYSTEM, record_id=ext, vendor_code=code, status=400)
        out.append(Written(None, error))
    return out


def upsert_list(
    transport: Transport, obj: NsObject, records: list[tuple[str, dict[str, Any]]]
) -> list[Written]:
    """One upsertList call for (external ID, REST body) pairs; one answer per pair."""
    envelope = (
        f'<soap:Envelope xmlns:soap="{SOAP_ENV}" xmlns:xsi="{XSI}">'
        f"<soap:Header>{passport(transport)}</soap:Header>"
        f'<soap:Body><upsertList xmlns="{MESSAGES}">'
        + "".join(record_xml(obj, ext, body) for ext, body in records)
        + "</upsertList></soap:Body></soap:Envelope>"
    )
    headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": "upsertList"}
    try:
        response = transport.client.post(SOAP_PATH, content=envelope.encode(), headers=headers)
    except httpx.HTTPError as exc:
        raise transport_error(exc) from exc
    return parse_answer(response, len(records))


def eligible(transport: Transport, obj: NsObject, bodies: list[dict[str, Any]]) -> bool:
    """SOAP takes this batch: TBA, a SOAP record type, no sublists, enough records."""
    threshold = transport.settings.soap_batch_threshold
    return (
        threshold is not None
        and len(bodies) >= threshold
        and transport.settings.flow == "tba"
        and obj.record_type in SOAP_TYPES
        and not any(
            isinstance(v, list) or (isinstance(v, dict) and "items" in v)
            for body in bodies
            for v in body.values()
        )
    )
