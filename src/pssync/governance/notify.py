"""Tell an exception's owner where they work: a signed webhook, a ServiceNow incident.

Exceptions must not stay hidden in middleware logs (the domain article): each raised exception
can be posted, signed with Standard Webhooks, to the endpoints configured for its category, and
those at or above a severity become ServiceNow incidents through the Table API, assigned to the
owner's group. The incident number is kept on the exception so the two can be found from each
other, and a refreshed exception does not open a second incident.

`assignment_group` is a reference field (ServiceNow docs, "Table API"): it holds the sys_id of a
sys_user_group record, so the owner's group is looked up by name first (once per notifier) and
its sys_id sent. An owner with no such group opens an unassigned incident that says so, rather
than a broken reference the instance's assignment rules would never route.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import httpx
from sqlalchemy import Engine

from pssync.config.exceptions import NotifyConfig, RoutingConfig, ServiceNowTarget, WebhookTarget
from pssync.governance.exceptions import ExceptionRecord, ExceptionStore
from pssync.governance.routing import Router
from pssync.governance.signing import sign

SEVERITY_ORDER = ("low", "medium", "high", "critical")
_URGENCY = {"critical": "1", "high": "2", "medium": "3", "low": "3"}


def _at_least(severity: str, minimum: str) -> bool:
    rank = {s: i for i, s in enumerate(SEVERITY_ORDER)}
    return rank.get(severity, 1) >= rank.get(minimum, 2)


def event_body(exc: ExceptionRecord) -> dict[str, Any]:
    """The notification: the exception without its replay payload (which may hold data)."""
    data = {k: v for k, v in exc.as_dict().items() if k != "payload"}
    return {"type": "exception.raised", "timestamp": exc.updated_at.isoformat(), "data": data}


class Notifier:
    def __init__(self, config: NotifyConfig, client: httpx.Client | None = None) -> None:
        self.config = config
        self.client = client or httpx.Client(timeout=10.0)
        self._groups: dict[str, str | None] = {}  # group name -> sys_id (None: no such group)

    def renew_client(self) -> None:
        """A client of its own for a forked process (the parent's pooled sockets stay the
        parent's)."""
        self.client = httpx.Client(timeout=self.client.timeout)

    def notify(self, exc: ExceptionRecord) -> dict[str, Any]:
        """Deliver `exc` to every matching target; returns what happened, per target."""
        outcome: dict[str, Any] = {"webhooks": []}
        body = json.dumps(event_body(exc), sort_keys=True, default=str).encode()
        for target in self.config.webhooks:
            if target.categories and exc.category not in target.categories:
                continue
            outcome["webhooks"].append({"url": target.url, "status": self._post(target, body)})
        snow = self.config.servicenow
        if snow is not None and _at_least(exc.severity, snow.min_severity):
            if exc.details.get("incident"):
                outcome["incident"] = exc.details["incident"]  # one incident per exception
            else:
                outcome["incident"] = self._incident(snow, exc)
        return outcome

    def _post(self, target: WebhookTarget, body: bytes) -> int:
        message_id = f"msg_{uuid.uuid4().hex}"
        timestamp = int(dt.datetime.now(dt.UTC).timestamp())
        headers = {
            "content-type": "application/json",
            "webhook-id": message_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(
                target.secret.get_secret_value(), message_id, timestamp, body
            ),
        }
        try:
            return self.client.post(target.url, content=body, headers=headers).status_code
        except httpx.HTTPError:
            return 0  # the owner's endpoint is down: the exception itself is still recorded

    def _table(self, snow: ServiceNowTarget, table: str) -> str:
        return f"{snow.base_url.rstrip('/')}/api/now/table/{table}"

    def _auth(self, snow: ServiceNowTarget) -> tuple[str, str]:
        return snow.username, snow.password.get_secret_value()

    def group_id(self, snow: ServiceNowTarget, name: str) -> str | None:
        """The sys_id of the sys_user_group called `name` (None when there is none)."""
        if name not in self._groups:
            response = self.client.get(
                self._table(snow, "sys_user_group"),
                params={
                    "sysparm_query": f"name={name}",
                    "sysparm_fields": "sys_id,name",
                    "sysparm_limit": "1",
                },
                auth=self._auth(snow),
                headers={"accept": "application/json"},
            )
            response.raise_for_status()
            found = response.json()["result"]
            self._groups[name] = str(found[0]["sys_id"]) if found else None
        return self._groups[name]

    def _incident(self, snow: ServiceNowTarget, exc: ExceptionRecord) -> dict[str, str]:
        record = exc.record_id or exc.source_id or exc.id
        description = f"{exc.message}\n\npssync exception {exc.id}"
        group = self.group_id(snow, exc.owner) if exc.owner else None
        if exc.owner and group is None:
            description += (
                f"\nowner {exc.owner!r} has no ServiceNow group (sys_user_group) of that name:"
                " the incident is unassigned"
            )
        fields = {
            "short_description": f"pssync {exc.category}: {record}"[:160],
            "description": description,
            "urgency": _URGENCY.get(exc.severity, "3"),
            "impact": _URGENCY.get(exc.severity, "3"),
            "assignment_group": group or "",
            "correlation_id": exc.id,
            "category": "pssync",
        }
        response = self.client.post(
            self._table(snow, snow.table),
            json=fields,
            auth=self._auth(snow),
            headers={"accept": "application/json"},
        )
        response.raise_for_status()
        result = response.json()["result"]
        return {"sys_id": _value(result["sys_id"]), "number": _value(result.get("number", ""))}


def _value(field: Any) -> str:
    """A Table API field's actual value, whether given plain or as a ``{value, ...}`` object."""
    return str(field.get("value", "")) if isinstance(field, dict) else str(field)


def exception_store(engine: Engine, routing: RoutingConfig, notify: NotifyConfig) -> ExceptionStore:
    """The exception store every entry point uses: configured routing, and notifications when
    any target is configured."""
    notifier = Notifier(notify).notify if (notify.webhooks or notify.servicenow) else None
    return ExceptionStore(engine, Router(routing), notify=notifier)
