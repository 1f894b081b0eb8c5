"""``$batch``: many operations in one multipart/mixed request, changesets all-or-nothing.

As OData V2 (Batch Processing, section 2.2) and SAP Gateway define it: the body is a
multipart/mixed document whose parts are single retrievals (``application/http``) or changesets
(a nested multipart/mixed of modifying requests). The answer is ``202 Accepted`` with one part
per request part, in order. A changeset is a unit of work: if any of its requests fails, none
of its changes is kept and its whole answer is the one error response (SAP Gateway returns the
failing request's error in place of the changeset); other changesets are not affected.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from http import HTTPStatus
from urllib.parse import parse_qsl, unquote, urlsplit

from pssync.sandbox.sap_s4.errors import ERROR_CONTENT_TYPE, ODataError, error_document
from pssync.sandbox.sap_s4.operations import WRITE_METHODS, Answer, Call, Operations
from pssync.sandbox.sap_s4.schema import SERVICE_ROOT, Service


def run_batch(
    ops: Operations, service: Service, url: str, content_type: str, body: bytes
) -> Answer:
    """Execute a ``$batch`` body; the 202 multipart answer."""
    boundary = _boundary(content_type)
    if not content_type.lower().startswith("multipart/mixed") or boundary is None:
        raise ODataError(400, "A $batch request must be multipart/mixed with a boundary")
    parts = _parts(body, boundary)
    if not parts:
        raise ODataError(400, "The $batch body holds no parts")
    boundary = "batchresponse_" + secrets.token_hex(8)
    with ops.repo.changeset():  # one commit for the batch; changesets are savepoints in it
        out = [_answer(ops, service, url, part) for part in parts]
    return Answer(202, _multipart(boundary, out), f"multipart/mixed; boundary={boundary}")


def _answer(ops: Operations, service: Service, url: str, part: _Part) -> bytes:
    if part.boundary is not None:
        return _changeset(ops, service, url, _parts(part.content, part.boundary))
    call = _call(part, service)
    if call.method != "GET":
        return _http_part(_error(ODataError(400, "Modifying requests belong in a changeset")))
    return _http_part(_safely(ops, call, service, url))


def _changeset(ops: Operations, service: Service, url: str, requests: list[_Part]) -> bytes:
    """One changeset: every request or none (the first error answers for all of them)."""
    answers: list[Answer] = []
    created: dict[str, str] = {}  # Content-ID -> path of the entity its request created
    try:
        with ops.repo.changeset():
            for request in requests:
                call = _resolve(_call(request, service), created)
                if call.method not in WRITE_METHODS:
                    raise ODataError(400, "A changeset may hold only modifying requests")
                answer = ops.run(call, service, url)
                content_id = call.headers.get("content-id")
                if content_id:
                    answer.headers["content-id"] = content_id
                    location = answer.headers.get("location", "")
                    if location.startswith(url):
                        created[content_id] = location[len(url) :]
                answers.append(answer)
    except ODataError as exc:
        return _http_part(_error(exc))
    boundary = "changesetresponse_" + secrets.token_hex(8)
    body = _multipart(boundary, [_http_part(a) for a in answers])
    head = f"Content-Type: multipart/mixed; boundary={boundary}\r\n\r\n".encode()
    return head + body


@dataclass(frozen=True)
class _Part:
    """One body part: its content, and its boundary when it is itself multipart/mixed."""

    content: bytes
    boundary: str | None
    content_id: str | None = None


def _boundary(content_type: str) -> str | None:
    match = re.search(r'boundary="?([^";]+)"?', content_type, re.IGNORECASE)
    return match.group(1).strip() if match else None


def _parts(body: bytes, boundary: str) -> list[_Part]:
    """The body parts of a multipart/mixed body (RFC 2046 section 5.1.1)."""
    chunks = body.split(b"--" + boundary.encode())
    parts = []
    for chunk in chunks[1:]:
        if chunk.startswith(b"--"):  # the close delimiter
            break
        head, content = _head_and_content(chunk.removeprefix(b"\r\n").removeprefix(b"\n"))
        headers = head.decode("latin-1").lower()
        nested = _boundary(headers) if "multipart/mixed" in headers else None
        found = re.search(r"^content-id:\s*(\S+)", headers, re.MULTILINE)
        parts.append(_Part(content, nested, found.group(1) if found else None))
    return parts


def _head_and_content(chunk: bytes) -> tuple[bytes, bytes]:
    """Split a part at its first empty line (CRLF or bare LF line ends)."""
    ends = [(i, n) for i, n in ((chunk.find(b"\r\n\r\n"), 4), (chunk.find(b"\n\n"), 2)) if i >= 0]
    if not ends:
        return chunk, b""
    at, width = min(ends)
    return chunk[:at], chunk[at + width :].removesuffix(b"\r\n")


def _call(part: _Part, service: Service) -> Call:
    """The HTTP request an ``application/http`` part carries."""
    text = part.content.decode("utf-8")
    head, _, body = text.replace("\r\n", "\n").partition("\n\n")
    lines = head.strip("\n").split("\n")
    words = lines[0].split()
    if len(words) not in (2, 3):  # the protocol version is optional (MS-ODATA 2.2.7.6.5)
        raise ODataError(400, f"Malformed request line in $batch: {lines[0]!r}")
    method, target = words[0], words[1]
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    split = urlsplit(target)
    path = unquote(split.path)
    if SERVICE_ROOT + "/" in path:  # an absolute path: keep what follows the service segment
        path = path.split(SERVICE_ROOT + "/", 1)[1].partition("/")[2]
    method = method.upper()
    override = headers.get("x-http-method", "").upper()
    if method == "POST" and override in WRITE_METHODS:
        method = override
    if part.content_id:  # a MIME header of the part, not of the request it carries
        headers["content-id"] = part.content_id
    return Call(method, path.lstrip("/"), dict(parse_qsl(split.query)), headers, body.encode())


def _resolve(call: Call, created: dict[str, str]) -> Call:
    """``$1/to_X``: a path starting with a Content-ID names the entity that request created
    earlier in the same changeset (MS-ODATA 2.2.7.6.5, "Referencing Requests in a Change Set")."""
    if not call.rest.startswith("$"):
        return call
    ref, sep, rest = call.rest[1:].partition("/")
    if ref not in created:
        raise ODataError(404, f"Content-ID ${ref} names no request of this changeset")
    path = created[ref] + sep + rest
    return Call(call.method, path, call.params, call.headers, call.body)


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
    lines += [f"{k}: {v}" for k, v in answer.headers.items() if k != "content-id"]
    head = "Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n"
    if "content-id" in answer.headers:  # a MIME header of the part, as in the request
        head += f"Content-ID: {answer.headers['content-id']}\r\n"
    head += "\r\n"
    return (head + "\r\n".join(lines) + "\r\n\r\n").encode() + answer.body


def _multipart(boundary: str, parts: list[bytes]) -> bytes:
    out = b""
    for part in parts:
        out += f"--{boundary}\r\n".encode() + part + b"\r\n"
    return out + f"--{boundary}--\r\n".encode()
