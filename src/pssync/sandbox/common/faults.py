"""Fault injection for the emulators: latency, error rates, timeouts, dropped connections, quota.

Set by flag at start (`FaultConfig.parse("error_rate=0.2,timeout_rate=0.05")`) or at run time by
``PUT /__admin/faults`` with a JSON body. Each emulator supplies its vendor's error body so that
an injected 429 or 503 looks exactly like the real system's. The admin endpoints also expose
per-path request counters, which the API-economy benchmarks read.
"""

from __future__ import annotations

import asyncio
import json
import random
import threading
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field, fields
from typing import Any

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
# Given (status, reason) an emulator returns (content type, body) in its vendor's error format.
ErrorBody = Callable[[int, str], tuple[str, bytes]]

ADMIN_PREFIX = "/__admin"


@dataclass
class FaultConfig:
    latency_ms: int = 0
    error_rate: float = 0.0
    error_statuses: list[int] = field(default_factory=lambda: [429, 500, 503])
    retry_after: int = 1
    timeout_rate: float = 0.0
    timeout_seconds: float = 30.0
    drop_rate: float = 0.0
    quota_exhausted: bool = False
    seed: int = 0

    @classmethod
    def parse(cls, spec: str) -> FaultConfig:
        """Parse ``key=value,key=value`` (the `--faults` flag); unknown keys are an error."""
        config = cls()
        known = {f.name: f for f in fields(cls)}
        for part in filter(None, (p.strip() for p in spec.split(","))):
            key, _, value = part.partition("=")
            if key not in known:
                raise ValueError(f"unknown fault {key!r}; known: {', '.join(sorted(known))}")
            config.update({key: value.split("/") if key == "error_statuses" else value})
        return config

    def update(self, values: dict[str, Any]) -> None:
        for f in fields(self):
            if f.name in values:
                raw = values[f.name]
                if f.name == "error_statuses":
                    setattr(self, f.name, [int(s) for s in raw])
                elif f.name == "quota_exhausted":
                    setattr(self, f.name, raw in (True, "true", "1", 1))
                else:
                    current = getattr(self, f.name)
                    setattr(self, f.name, type(current)(raw))


class FaultInjector:
    """ASGI middleware applying a FaultConfig to every non-admin request, and counting them."""

    def __init__(
        self,
        app: ASGIApp,
        error_body: ErrorBody,
        config: FaultConfig | None = None,
        quota_status: int = 403,
    ) -> None:
        self.app = app
        self.error_body = error_body
        self.config = config or FaultConfig()
        self.quota_status = quota_status
        self.counts: Counter[str] = Counter()
        self._rng = random.Random(self.config.seed)
        self._lock = threading.Lock()

    def reset_counts(self) -> None:
        with self._lock:
            self.counts.clear()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path.startswith(ADMIN_PREFIX):
            await self._admin(scope, receive, send)
            return
        with self._lock:
            self.counts[f"{scope['method']} {path}"] += 1
            self.counts["total"] += 1
            roll = self._rng.random()
        cfg = self.config
        if cfg.latency_ms:
            await asyncio.sleep(cfg.latency_ms / 1000)
        if cfg.quota_exhausted:
            await self._error(send, self.quota_status, "quota exhausted")
            return
        if roll < cfg.drop_rate:
            await send({"type": "http.response.start", "status": 200, "headers": []})
            raise ConnectionAbortedError("fault injection: connection dropped")
        roll -= cfg.drop_rate
        if roll < cfg.timeout_rate:
            await asyncio.sleep(cfg.timeout_seconds)
            await self._error(send, 504, "timed out")
            return
        roll -= cfg.timeout_rate
        if roll < cfg.error_rate and cfg.error_statuses:
            with self._lock:
                status = self._rng.choice(cfg.error_statuses)
            await self._error(send, status, "injected fault")
            return
        await self.app(scope, receive, send)

    async def _error(self, send: Send, status: int, reason: str) -> None:
        content_type, body = self.error_body(status, reason)
        headers = [
            (b"content-type", content_type.encode()),
            (b"content-length", str(len(body)).encode()),
        ]
        if status in (429, 503):
            headers.append((b"retry-after", str(self.config.retry_after).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _admin(self, scope: Scope, receive: Receive, send: Send) -> None:
        sub = scope["path"][len(ADMIN_PREFIX) :]
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        status, payload = 200, None
        if sub == "/faults" and scope["method"] == "PUT":
            try:
                values = json.loads(body or b"{}")
                self.config.update(values)
                if "seed" in values:  # a new seed restarts the fault sequence, as at start-up
                    with self._lock:
                        self._rng = random.Random(self.config.seed)
                payload = asdict(self.config)
            except (ValueError, TypeError) as exc:
                status, payload = 400, {"error": str(exc)}
        elif sub == "/faults":
            payload = asdict(self.config)
        elif sub == "/requests" and scope["method"] == "DELETE":
            self.reset_counts()
            payload = {}
        elif sub == "/requests":
            with self._lock:
                payload = dict(self.counts)
        else:
            status, payload = 404, {"error": f"no admin endpoint {sub}"}
        data = json.dumps(payload).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(data)).encode()),
        ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": data})
