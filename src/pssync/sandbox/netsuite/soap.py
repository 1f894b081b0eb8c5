"""SuiteTalk SOAP `upsertList`: NetSuite's documented way to write many records in one call.

The REST record API writes one record per request; SOAP list operations take a list. Oracle's
"upsertList" page: records are matched by type and external ID (created when none has it,
updated otherwise), internal IDs are not allowed, and the answer has one `writeResponse` per
record, in order, each with its own `status` (`isSuccess`, and `statusDetail` code and message
when it failed) and `baseRef` (`internalId`, `externalId`, `type`). Authentication is TBA's
`tokenPassport` in the SOAP header ("Token-based Authentication and Web Services"). A refused
login or a malformed request is a SOAP fault (HTTP 500).

Records go through the same `RecordService` as REST, so validation, references and external ID
uniqueness are the same. Supported record types: Customer and Job (listRel), ProjectTask
(activities.scheduling) and TimeBill (tranEmp); fields are the REST field names, a reference is
an element with `internalId` / `externalId`, custom fields come in `customFieldList`, booleans
are ``true``/``false`` and a date field is an `xsd:dateTime` at midnight.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape, quoteattr

from starlette.requests import Request
from starlette.responses import Response

from pssync.sandbox.netsuite.errors import NetSuiteError
from pssync.sandbox.netsuite.oauth1 import TbaRejectedError

if TYPE_CHECKING:
    from pssync.sandbox.netsuite.emulator import NetSuiteEmulator

VERSION = "2024_2"  # the version answered in; requests may use any version's namespaces
SOAP_PATH = "/services/NetSuitePort_{version}"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
MESSAGES = f"urn:messages_{VERSION}.platform.webservices.netsuite.com"
CORE = f"urn:core_{VERSION}.platform.webservices.netsuite.com"
FAULTS = f"urn:faults_{VERSION}.platform.webservices.netsuite.com"
RECORD_TYPES = {
    "Customer": "customer",
    "Job": "job",
    "ProjectTask": "projecttask",
    "TimeBill": "timebill",
}
MAX_RECORDS = 1000
_MIDNIGHT = re.compile(r"(\d{4}-\d{2}-\d{2})T00:00:00(?:\.0+)?(?:Z|[+-]00:00)?")


class SoapFaultError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _value(element: ET.Element) -> Any:
    if element.get(f"{{{XSI}}}nil") == "true":
        return None
    ref = {k: element.get(k) for k in ("internalId", "externalId") if element.get(k)}
    if ref and not len(element):
        return (
            {"id": ref["internalId"]} if "internalId" in ref else {"externalId": ref["externalId"]}
        )
    text = (element.text or "").strip()
    if text in ("true", "false"):
        return text == "true"
    midnight = _MIDNIGHT.fullmatch(text)
    return midnight.group(1) if midnight else text


def record_body(element: ET.Element) -> dict[str, Any]:
    """A SOAP record as the REST body the record service takes."""
    body: dict[str, Any] = {}
    for child in element:
        name = _local(child.tag)
        if name == "nullFieldList":  # fields to clear
            for field in child:
                body[(field.text or "").strip()] = None
        elif name == "customFieldList":
            for field in child:
                value = next(iter(field), None)
                if field.get("scriptId") and value is not None:
                    body[str(field.get("scriptId"))] = _value(value)
        else:
            body[name] = _value(child)
    return body


def _parse(raw: bytes) -> ET.Element:
    if b"<!DOCTYPE" in raw.upper() or b"<!ENTITY" in raw.upper():
        raise SoapFaultError("INVALID_REQUEST", "DTDs are not accepted")
    try:
        return ET.fromstring(raw)
    except ET.ParseError as exc:
        raise SoapFaultError("INVALID_REQUEST", f"not XML: {exc}") from None


def _child(parent: ET.Element | None, name: str) -> ET.Element | None:
    """The child called `name` in any WSDL version's namespace (messages_2024_2, _2025_1...)."""
    if parent is None:
        return None
    return next((c for c in parent if _local(c.tag) == name), None)


def _passport(root: ET.Element) -> dict[str, str]:
    found = _child(_child(root, "Header"), "tokenPassport")
    if found is None:
        raise SoapFaultError("INVALID_LOGIN_ATTEMPT", "Invalid login attempt.")
    passport = {_local(child.tag): (child.text or "").strip() for child in found}
    signature = _child(found, "signature")
    passport["algorithm"] = signature.get("algorithm", "") if signature is not None else ""
    return passport


def fault(code: str, message: str) -> Response:
    body = (
        f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV}"><soapenv:Body><soapenv:Fault>'
        f"<faultcode>soapenv:Server.userException</faultcode>"
        f"<faultstring>{escape(message)}</faultstring><detail>"
        f'<platformFaults:invalidCredentialsFault xmlns:platformFaults="{FAULTS}">'
        f"<platformFaults:code>{escape(code)}</platformFaults:code>"
        f"<platformFaults:message>{escape(message)}</platformFaults:message>"
        "</platformFaults:invalidCredentialsFault></detail></soapenv:Fault>"
        "</soapenv:Body></soapenv:Envelope>"
    )
    return Response(body, status_code=500, media_type="text/xml; charset=utf-8")


def _write_response(type_name: str, ext: str, record_id: str | None, error: Any) -> str:
    if error is None:
        status = '<platformCore:status isSuccess="true"/>'
    else:
        status = (
            '<platformCore:status isSuccess="false"><platformCore:statusDetail type="ERROR">'
            f"<platformCore:code>{escape(error.code)}</platformCore:code>"
            f"<platformCore:message>{escape(error.detail)}</platformCore:message>"
            "</platformCore:statusDetail></platformCore:status>"
        )
    internal = f" internalId={quoteattr(record_id)}" if record_id else ""
    return (
        f"<writeResponse>{status}<baseRef{internal} externalId={quoteattr(ext)} "
        f'type="{type_name}" xsi:type="platformCore:RecordRef"/></writeResponse>'
    )


class SoapService:
    """`POST /services/NetSuitePort_2024_2` with ``SOAPAction: upsertList``."""

    def __init__(self, emulator: NetSuiteEmulator) -> None:
        self.emulator = emulator
        self.calls = 0

    async def handle(self, request: Request) -> Response:
        try:
            root = _parse(await request.body())
            try:
                self.emulator.verifier.verify_passport(_passport(root))
            except TbaRejectedError:
                raise SoapFaultError("INVALID_LOGIN_ATTEMPT", "Invalid login attempt.") from None
            operation = _child(_child(root, "Body"), "upsertList")
            if operation is None:
                raise SoapFaultError(
                    "INVALID_REQUEST", "Only upsertList is served by this emulator."
                )
            records = list(operation)
            if len(records) > MAX_RECORDS:
                raise SoapFaultError(
                    "EXCEEDED_MAX_RECORDS", f"A list operation takes at most {MAX_RECORDS} records."
                )
        except SoapFaultError as exc:
            return fault(exc.code, exc.message)
        self.calls += 1
        answers = [self._upsert(record) for record in records]
        body = (
            f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV}" xmlns:xsi="{XSI}"><soapenv:Body>'
            f'<upsertListResponse xmlns="{MESSAGES}"><writeResponseList>'
            f'<platformCore:status isSuccess="true" xmlns:platformCore="{CORE}"/>'
            + "".join(answers)
            + "</writeResponseList></upsertListResponse></soapenv:Body></soapenv:Envelope>"
        )
        body = body.replace("<writeResponse>", f'<writeResponse xmlns:platformCore="{CORE}">')
        return Response(body, media_type="text/xml; charset=utf-8")

    def _upsert(self, element: ET.Element) -> str:
        kind = (element.get(f"{{{XSI}}}type") or "").rpartition(":")[2]
        ext = element.get("externalId") or ""
        type_name = RECORD_TYPES.get(kind)
        try:
            if type_name is None:
                raise NetSuiteError(
                    400, f"Record type {kind!r} is not supported.", code="INVALID_RCRD_TYPE"
                )
            if element.get("internalId"):
                raise NetSuiteError(
                    400, "upsert does not accept internal IDs.", code="INVALID_KEY_OR_REF"
                )
            if not ext:
                raise NetSuiteError(400, "upsert needs an externalId.", code="USER_ERROR")
            records = self.emulator.records
            record_id, _ = records.upsert(records.spec(type_name), ext, record_body(element))
        except NetSuiteError as exc:
            return _write_response(type_name or kind.lower(), ext, None, exc)
        return _write_response(type_name, ext, record_id, None)
