"""``$batch``: many operations in one multipart/mixed request, changesets all-or-nothing.

As OData V2 (Batch Processing, section 2.2) and SAP Gateway define it: the body is a
multipart/mixed document whose parts are single retrievals (``application/http``) or changesets
(a nested multipart/mixed of modifying requests). The answer is ``202 Accepted`` with one part
per request part, in order. A changeset is a unit of work: if any of its requests fails, none
of its changes is kept and its whole answer is the one error response (SAP Gateway returns the
failing request's error in place of the changeset); other changesets are not affected.
"""

from __future__ import annotations

import email
import secrets
from email.message import Message
from http import HTTPStatus
from urllib.parse import parse_qsl, unquote, urlsplit

from pssync.sandbox.sap_s4.errors import ERROR_CONTENT_TYPE, ODataError, error_document
from pssync.sandbox.sap_s4.operations import WRITE_METHODS, Answer, Call, Operations
from pssync.sandbox.sap_s4.schema import SERVICE_ROOT, Service


def run_batch(
    ops: Operations, service: Service, url: str, content_type: str, body: bytes
) -> Answer:
    """Execute a ``$batch`` body; the 202 multipart answer."""
    if not content_type.lower().startswith("multipart/mixed") or "boundary=" not in content_type:
        raise ODataError(400, "A $batch request must be multipart/mixed with a boundary")
    message = email.message_from_bytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body
    )
    parts = _parts(message)
    if not parts:
        raise ODataError(400, "The $batch body holds no parts")
    boundary = "batchresponse_" + secrets.token_hex(8)
    out: list[bytes] = []
    for part in parts:
        if part.is_multipart():
            out.append(_changeset(ops, service, url, part))
        else:
            call = _call(part, service)
            if call.method != "GET":
                answer = _error(ODataError(400, "Modifying requests belong in a changeset"))
            else:
                answer = _safely(ops, call, service, url)
            out.append(_http_part(answer))
    return Answer(202, _multipart(boundary, out), f"multipart/mixed; boundary={boundary}")


def _changeset(ops: Operations, service: Service, url: str, part: Message) -> bytes:
    """One changeset: every request or none (the first error answers for all of them)."""
    requests = _parts(part)
    answers: list[Answer] = []
    try:
        with ops.repo.changeset():
            for request in requests:
                call = _call(request, service)
                if call.method not in WRITE_METHODS:
                    raise ODataError(400, "A changeset may hold only modifying requests")
                answers.append(ops.run(call, service, url))
    except ODataError as exc:
        return _http_part(_error(exc))
    boundary = "changesetresponse_" + secrets.token_hex(8)
    body = _multipart(boundary, [_http_part(a) for a in answers])
    head = f"Content-Type: multipart/mixed; boundary={boundary}\r\n\r\n".encode()
    return head + body


def _parts(message: Message) -> list[Message]:
    payload = message.get_payload()
    if not message.is_multipart() or not isinstance(payload, list):
        return []
    return [p for p in payload if isinstance(p, Message)]


def _call(part: Message, service: Service) -> Call:
    """The HTTP request an ``application/http`` part carries."""
    raw = part.get_payload(decode=True)
    text = raw.decode("utf-8") if isinstance(raw, bytes) else str(part.get_payload())
    head, _, body = text.replace("\r\n", "\n").partition("\n\n")
    lines = head.strip("\n").split("\n")
    try:
        method, target, _version = lines[0].split(" ", 2)
    except ValueError as exc:
        raise ODataError(400, f"Malformed request line in $batch: {lines[0]!r}") from exc
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    split = urlsplit(target)
    prefix = f"{SERVICE_ROOT}/{service.name}/"
    path = unquote(split.path)
    if prefix in path:
        path = path.split(prefix, 1)[1]
    method = method.upper()
    override = headers.get("x-http-method", "").upper()
    if method == "POST" and override in WRITE_METHODS:
        method = override
    return Call(method, path.lstrip("/"), dict(parse_qsl(split.query)), headers, body.encode())


def _safely(ops: Operations, call: Call, service: Service, url: str) -> Answer:
    try:
        return ops.run(call, service, url)
    except ODataError as exc:
        return _error(exc)


def _error(exc: ODataError) -> Answer:
    body = error_document(exc.status, exc.message, target=exc.target, code=exc.code)
    return Answer(exc.status, body, ERROR_CONTENT_TYPE)


def _http_part(answer: Answer) -> bytes:
    reason = HTTPStatus(answer.status).phrase
    lines = [f"HTTP/1.1 {answer.status} {reason}"]
    if answer.media_type:
        lines.append(f"Content-Type: {answer.media_type}")
    lines.append(f"Content-Length: {len(answer.body)}")
    lines += [f"{k}: {v}" for k, v in answer.headers.items()]
    head = "Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n"
    return (head + "\r\n".join(lines) + "\r\n\r\n").encode() + answer.body


def _multipart(boundary: str, parts: list[bytes]) -> bytes:
    out = b""
    for part in parts:
        out += f"--{boundary}\r\n".encode() + part + b"\r\n"
    return out + f"--{boundary}--\r\n".encode()
