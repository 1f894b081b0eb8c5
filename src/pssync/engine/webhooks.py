"""Webhook ingress: signed pushes from source systems become engine events.

Two wire formats arrive here. Generic senders follow Standard Webhooks
(https://www.standardwebhooks.com): ``webhook-id``, ``webhook-timestamp`` (Unix seconds) and
``webhook-signature`` (space-separated ``v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">``
under a ``whsec_`` base64 secret). Salesforce sends outbound messages, SOAP without a
signature: they must come with a configured secret in the endpoint URL and/or from an allowed
network, and name a configured organisation (`webhooks_salesforce.py`).

Either way a change is handed to `workflows.submit_event`, whose workflow ID is the change's
event key: a delivery repeated any number of times is one workflow and one effect. Replay
protection on top of that, per message ID (`Messages`, a table beside the golden store):

* a signature that does not verify, or a timestamp outside the tolerance, is 401 — so a
  captured request replayed after the window is refused, and a captured signature cannot be
  moved to another body, ID or timestamp;
* an ID seen before with the same body is answered 200 ``duplicate`` with no second effect:
  senders retry a message whose answer they did not get, re-signing it with the retry's
  timestamp, so requiring byte-identical signature headers would refuse legitimate retries;
* an ID seen before with a different body is 409: IDs are the sender's idempotency key, and
  reusing one for other content is a sender bug or forgery, never a new change.

The message is remembered only after its event was enqueued, so a failure in between makes
the sender's retry apply it rather than drop it.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import Engine, select
from starlette.concurrency import run_in_threadpool

from pssync.config.settings import WebhooksConfig
from pssync.engine.pipeline import source_record
from pssync.engine.pushed import problem_of
from pssync.engine.runtime import Runtime
from pssync.engine.sql import insert_ignore
from pssync.engine.tables import engine_webhook_message
from pssync.engine.workflows import submit_event
from pssync.governance.signing import sign
from pssync.store.history import utcnow

DEFAULT_TOLERANCE = 300.0
MAX_BODY = 2_000_000
MAX_DEPTH = 32  # a change record is flat or nearly so; deeper is hostile
SECRET_ENV_PREFIX = "PSSYNC_WEBHOOK_SECRET_"


class SignatureError(ValueError):
    """The request is not authentic or not fresh (answered 401)."""


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class WebhookSettings:
    """Secrets per sending system (several during a rotation), freshness window, and who may
    post Salesforce outbound messages: the organisations (15- or 18-char IDs), plus at least one
    real credential — endpoint tokens (the secret path segment of the endpoint URL) and/or the
    networks allowed to connect (`webhooks_salesforce.authorised`)."""

    secrets: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    tolerance: float = DEFAULT_TOLERANCE
    salesforce_system: str = "salesforce"
    salesforce_org_ids: tuple[str, ...] = ()
    salesforce_tokens: tuple[str, ...] = ()
    salesforce_networks: tuple[Network, ...] = ()
    clock: Callable[[], float] = time.time

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> WebhookSettings:
        """``PSSYNC_WEBHOOK_SECRET_<SYSTEM>`` (space-separated), ``PSSYNC_WEBHOOK_TOLERANCE``,
        ``PSSYNC_SALESFORCE_SYSTEM``, ``PSSYNC_SALESFORCE_ORG_IDS`` (comma-separated),
        ``PSSYNC_SALESFORCE_ENDPOINT_SECRETS`` (space-separated),
        ``PSSYNC_SALESFORCE_ALLOWED_IPS`` (comma-separated CIDR networks)."""
        env = os.environ if environ is None else environ
        secrets = {
            name.removeprefix(SECRET_ENV_PREFIX).lower(): tuple(value.split())
            for name, value in env.items()
            if name.startswith(SECRET_ENV_PREFIX) and value.strip()
        }
        orgs = tuple(o.strip() for o in env.get("PSSYNC_SALESFORCE_ORG_IDS", "").split(",") if o)
        nets = [n.strip() for n in env.get("PSSYNC_SALESFORCE_ALLOWED_IPS", "").split(",")]
        return cls(
            secrets=secrets,
            tolerance=float(env.get("PSSYNC_WEBHOOK_TOLERANCE", DEFAULT_TOLERANCE)),
            salesforce_system=env.get("PSSYNC_SALESFORCE_SYSTEM", "salesforce"),
            salesforce_org_ids=orgs,
            salesforce_tokens=tuple(env.get("PSSYNC_SALESFORCE_ENDPOINT_SECRETS", "").split()),
            salesforce_networks=tuple(ipaddress.ip_network(n, strict=False) for n in nets if n),
        )

    @classmethod
    def from_config(
        cls, config: WebhooksConfig, environ: Mapping[str, str] | None = None
    ) -> WebhookSettings:
        """The ``webhooks:`` block of pssync.yaml, plus the ``PSSYNC_WEBHOOK_*`` /
        ``PSSYNC_SALESFORCE_*`` variables of `from_env` (secrets of both are accepted)."""
        env = cls.from_env(environ)
        secrets = {k: list(v) for k, v in env.secrets.items()}
        for system, values in config.secrets.items():
            secrets.setdefault(system.lower(), []).extend(v.get_secret_value() for v in values)
        sf = config.salesforce
        return cls(
            secrets={k: tuple(v) for k, v in secrets.items()},
            tolerance=config.tolerance_seconds,
            salesforce_system=sf.system,
            salesforce_org_ids=env.salesforce_org_ids + tuple(sf.org_ids),
            salesforce_tokens=env.salesforce_tokens
            + tuple(t.get_secret_value() for t in sf.endpoint_secrets),
            salesforce_networks=env.salesforce_networks + tuple(sf.allowed_ips),
        )


def verify(
    headers: Mapping[str, str],
    body: bytes,
    secrets: tuple[str, ...],
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> str:
    """Check a Standard Webhooks request; return its message ID or raise `SignatureError`."""
    message_id = headers.get("webhook-id", "")
    stamp = headers.get("webhook-timestamp", "")
    signatures = headers.get("webhook-signature", "")
    if not (message_id and stamp and signatures):
        raise SignatureError("missing webhook-id, webhook-timestamp or webhook-signature")
    try:
        timestamp = int(stamp)
    except ValueError:
        raise SignatureError("webhook-timestamp is not Unix seconds") from None
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        raise SignatureError("webhook-timestamp is outside the tolerance")
    offered = [s.partition(",")[2] for s in signatures.split() if s.startswith("v1,")]
    for secret in secrets:
        expected = sign(secret, message_id, timestamp, body).partition(",")[2]
        if any(hmac.compare_digest(expected, sig) for sig in offered):
            return message_id
    raise SignatureError("no matching signature")


class Messages:
    """Message IDs already accepted, per sender, with the digest of their body."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def digest_of(self, sender: str, message_id: str) -> str | None:
        c = engine_webhook_message.c
        stmt = select(c.body_digest).where(c.sender == sender, c.message_id == message_id)
        with self.engine.connect() as conn:
            row = conn.execute(stmt).first()
        return None if row is None else str(row.body_digest)

    def remember(self, sender: str, message_id: str, digest: str, workflows: list[str]) -> None:
        row = {
            "sender": sender,
            "message_id": message_id,
            "body_digest": digest,
            "workflow_ids": json.dumps(workflows),
            "received_at": utcnow(),
        }
        with self.engine.begin() as conn:
            insert_ignore(conn, engine_webhook_message, [row])


def body_digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def event_from(runtime: Runtime, system: str, payload: Any) -> tuple[str, dict[str, Any]]:
    """(object, serialised source record) from a generic webhook body.

    The body is ``{"object", "record", "id"?, "modified_at"?, "deleted"?, "system"?}``, or the
    same inside Standard Webhooks' ``{"type", "timestamp", "data": {...}}`` envelope. Without
    ``id`` / ``modified_at`` the mapping's id and change-stamp fields of the record are used.
    Whatever the pipeline would refuse (`pushed.problem_of`: a stamp that is not ISO 8601,
    ``"deleted": "false"``) is a `ValueError` here, answered 422 before anything is queued.
    """
    data = payload.get("data", payload) if isinstance(payload, dict) else None
    if not isinstance(data, dict) or not isinstance(data.get("record"), dict):
        raise ValueError("the body needs an object and a record")
    if data.get("system", system) != system:
        raise ValueError(f"the body is for system {data['system']!r}, posted to {system!r}")
    obj, record = str(data.get("object", "")), data["record"]
    spec = (
        runtime.translators[system].spec.objects.get(obj) if system in runtime.translators else None
    )
    if spec is None:
        raise ValueError(f"no mapping for {system} {obj!r}")
    record_id = data.get("id", record.get(spec.id_field))
    if isinstance(record_id, bool) or not isinstance(record_id, str | int) or record_id == "":
        raise ValueError(f"the record has no id ({spec.id_field})")
    stamp = data.get("modified_at") or (
        record.get(spec.modified_field) if spec.modified_field else None
    )
    deleted = data.get("deleted", False)
    if not isinstance(deleted, bool):
        raise ValueError(f"deleted must be true or false, not {deleted!r:.40}")
    event = source_record(str(record_id), record, stamp, deleted)
    problem = problem_of(event)
    if problem is not None:
        raise ValueError(problem)
    return obj, event


def json_body(body: bytes, max_depth: int = MAX_DEPTH) -> Any:
    """The parsed body, refusing (ValueError) JSON nested deeper than `max_depth`: depth is
    counted before parsing, so a hostile body never reaches the recursive parser or encoder."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            deepest = max(deepest, depth)
            if deepest > max_depth:
                raise ValueError(f"JSON nested deeper than {max_depth} levels")
        elif byte in (0x5D, 0x7D):  # ] }
            depth -= 1
    return json.loads(body)


class Ingress:
    """What both webhook endpoints share: the runtime, the settings, the message memory."""

    def __init__(self, runtime: Runtime, settings: WebhookSettings) -> None:
        self.runtime, self.settings = runtime, settings
        self.messages = Messages(runtime.store.engine)

    def standard(self, system: str, headers: Mapping[str, str], body: bytes) -> Response:
        secrets = self.settings.secrets.get(system, ())
        if not secrets:
            raise HTTPException(404, f"no webhook secret configured for system {system!r}")
        try:
            message_id = verify(
                headers, body, secrets, tolerance=self.settings.tolerance, now=self.settings.clock()
            )
        except SignatureError as exc:
            raise HTTPException(401, str(exc)) from None
        digest = body_digest(body)
        seen = self.messages.digest_of(system, message_id)
        if seen is not None:
            if seen != digest:
                raise HTTPException(409, "webhook-id was already used for another body")
            return JSONResponse({"status": "duplicate", "webhook_id": message_id})
        try:
            obj, record = event_from(self.runtime, system, json_body(body))
        except ValueError as exc:  # json.JSONDecodeError and UnicodeDecodeError are ValueErrors
            raise HTTPException(422, str(exc)) from None
        workflow_id = submit_event(system, obj, record)
        self.messages.remember(system, message_id, digest, [workflow_id])
        return JSONResponse(
            {"status": "accepted", "webhook_id": message_id, "workflow_id": workflow_id},
            status_code=202,
        )


async def read_body(request: Request) -> bytes:
    """The body, read no further than `MAX_BODY` (413 beyond: never buffered whole)."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise HTTPException(413, "webhook body too large")
        chunks.append(chunk)
    return b"".join(chunks)


def webhooks_router(runtime: Runtime, settings: WebhookSettings | None = None) -> APIRouter:
    """The ingress endpoints, for the REST API to mount (or a bare app in tests):
    ``POST /webhooks/{system}`` (Standard Webhooks) and
    ``POST /webhooks/salesforce/outbound/{token}`` (Salesforce outbound messages; without the
    token segment only when just an IP allow-list is configured)."""
    # Imported here: the Salesforce module builds on this one's `Ingress`.
    from pssync.engine.webhooks_salesforce import outbound_endpoint

    ingress = Ingress(runtime, settings or WebhookSettings.from_env())
    router = APIRouter(prefix="/webhooks", tags=["webhooks"])
    endpoint = outbound_endpoint(ingress)
    router.add_api_route("/salesforce/outbound", endpoint, methods=["POST"])
    router.add_api_route("/salesforce/outbound/{token}", endpoint, methods=["POST"])

    @router.post("/{system}", status_code=202)
    async def standard_webhook(system: str, request: Request) -> Response:
        """A Standard Webhooks delivery of one change from `system`."""
        body = await read_body(request)
        headers = {k.lower(): v for k, v in request.headers.items()}
        return await run_in_threadpool(ingress.standard, system, headers, body)

    return router
