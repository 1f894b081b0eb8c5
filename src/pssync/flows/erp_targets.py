"""What the closed-won handoff writes into each kind of ERP: vendor bodies and their keys.

The handoff's steps are the same for every ERP (customer, project with its code, billing
milestones, write-backs); what differs is each ERP's records and how they reference each other:

* NetSuite: ``customer``, ``job`` under it (``parent``), milestones as ``projecttask`` records
  with their amount; keyed by ``externalId``; references are internal IDs.
* SAP S/4HANA: the connector builds its own bodies (``connectors/sap_s4/handoff.py``: the
  partner by deep insert with its customer roles, the enterprise project, billing elements);
  `ConnectorTarget` turns them into commands through the `ErpHandoff` protocol.
* The file-drop ERP: ``customers`` and ``projects`` batches (contract value as ``budget``,
  billing rule as ``billing_method``), keyed by ``external_id``; projects name their customer
  by the external ID it was sent under. Its interface has no contract or milestone file, so
  the contract line and milestones are pssync's record of the plan (golden only).

External IDs are deterministic functions of the canonical records (or the project code), so a
rerun upserts the same records and, when nothing changed, writes nothing.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from typing import Any, Protocol

from pssync.engine.ids import external_id
from pssync.engine.outbound import Command
from pssync.engine.runtime import Runtime

ROUTE = "closed_won_handoff"
# Canonical revenue method -> the file-drop ERP's billing method codes.
FILEDROP_BILLING = {
    "time_and_materials": "TM",
    "fixed_fee": "FIXED",
    "milestone": "MILESTONE",
    "retainer": "RETAINER",
}


class UnsupportedErpError(LookupError):
    """No handoff is built for this kind of ERP."""


class VendorWrite(Protocol):
    """One create-or-update a connector's handoff asks for."""

    @property
    def object(self) -> str: ...
    @property
    def key_field(self) -> str: ...
    @property
    def external_id(self) -> str: ...
    @property
    def body(self) -> dict[str, Any]: ...


class ErpHandoff(Protocol):
    """The handoff bodies a connector builds for its own ERP (e.g. SAP's `SapHandoff`)."""

    holds_milestones: bool
    customer_id_length: int

    def customer(
        self, account: dict[str, Any], opp: dict[str, Any], external_id: str
    ) -> VendorWrite: ...
    def customer_ref(self, customer_id: str) -> str | None: ...
    def project(
        self, opp: dict[str, Any], project: dict[str, Any], code: str, customer_ref: str
    ) -> VendorWrite: ...
    def milestones(
        self, plan: list[dict[str, Any]], project_id: str, code: str
    ) -> list[VendorWrite]: ...


class ErpTarget(ABC):
    """One ERP of the handoff: builds its commands and finds the references between them."""

    #: whether the ERP holds the billing milestones (else they are golden-only)
    holds_milestones = True

    def __init__(self, runtime: Runtime, system: str, entity_code: str) -> None:
        self.runtime, self.system, self.entity_code = runtime, system, entity_code

    def command(
        self,
        obj: str,
        key: str,
        ext: str,
        entity_type: str,
        record: dict[str, Any],
        body: dict[str, Any],
    ) -> Command:
        clean = {k: v for k, v in body.items() if v is not None}
        return Command(
            ROUTE, self.system, obj, key, ext, entity_type, record["id"], record, clean, fields=[]
        )

    def vendor_value(self, crosswalk: str, value: Any) -> Any:
        """The ERP's code for a canonical value (reverse crosswalk), if it has one."""
        table = self.runtime.translator(self.system).spec.crosswalks.get(crosswalk, {})
        return next((code for code, canonical in table.items() if canonical == value), None)

    @abstractmethod
    def customer(self, account: dict[str, Any], opp: dict[str, Any]) -> Command:
        """Create-or-update of the customer for `account`."""

    def customer_ref(self, customer_id: str) -> str | None:
        """How the ERP's project names the customer with ERP ID `customer_id`."""
        return customer_id

    @abstractmethod
    def project(
        self, opp: dict[str, Any], project: dict[str, Any], code: str, customer_ref: str
    ) -> Command:
        """Create-or-update of the ERP project with its code under the customer."""

    @abstractmethod
    def milestones(self, plan: list[dict[str, Any]], project_id: str, code: str) -> list[Command]:
        """The billing milestones in the ERP under its project `project_id` (ERP ID)."""


def _dates(project: dict[str, Any], opp: dict[str, Any]) -> tuple[str, str]:
    start = project.get("planned_start") or opp["close_date"]
    end = project.get("planned_end") or start
    return str(start), str(max(dt.date.fromisoformat(str(end)), dt.date.fromisoformat(start)))


class NetSuiteTarget(ErpTarget):
    def customer(self, account: dict[str, Any], opp: dict[str, Any]) -> Command:
        body: dict[str, Any] = {
            "companyName": account.get("legal_name") or account.get("name"),
            "subsidiary": {"id": self.entity_code},
        }
        terms = self.vendor_value("payment_terms", account.get("payment_terms"))
        if terms is not None:
            body["terms"] = {"id": terms}
        ext = external_id("Account", account["id"], 40)
        return self.command("customer", "externalId", ext, "Account", account, body)

    def project(
        self, opp: dict[str, Any], project: dict[str, Any], code: str, customer_ref: str
    ) -> Command:
        body = {
            "companyName": project["name"],
            "entityId": code,
            "parent": {"id": customer_ref},
            "subsidiary": {"id": self.entity_code},
            "startDate": project.get("planned_start"),
            "projectedEndDate": project.get("planned_end"),
            "estimatedRevenue": str(opp["amount"]["amount"]),
            "custentity_billing_rule": opp.get("revenue_method"),
        }
        ext = external_id("Project", project["id"], 40)
        return self.command("job", "externalId", ext, "Project", project, body)

    def milestones(self, plan: list[dict[str, Any]], project_id: str, code: str) -> list[Command]:
        return [
            self.command(
                "projecttask",
                "externalId",
                external_id("BillingMilestone", m["id"], 40),
                "BillingMilestone",
                m,
                {
                    "title": m["name"],
                    "company": {"id": project_id},
                    "endDate": m["due_date"],
                    "plannedWork": 0,
                    "isMilestone": True,
                    "custevent_milestone_amount": m["amount"]["amount"],
                },
            )
            for m in plan
        ]


class ConnectorTarget(ErpTarget):
    """An ERP whose connector builds its own handoff bodies (`handoff`, see `ErpHandoff`)."""

    def __init__(self, runtime: Runtime, system: str, entity_code: str) -> None:
        super().__init__(runtime, system, entity_code)
        factory = getattr(runtime.connector(system), "handoff", None)
        if not callable(factory):
            raise UnsupportedErpError(f"the {system} connector builds no handoff")
        self.handoff: ErpHandoff = factory(entity_code, self.vendor_value)
        self.holds_milestones = self.handoff.holds_milestones

    def _command(self, write: VendorWrite, entity_type: str, record: dict[str, Any]) -> Command:
        return self.command(
            write.object, write.key_field, write.external_id, entity_type, record, write.body
        )

    def customer(self, account: dict[str, Any], opp: dict[str, Any]) -> Command:
        ext = external_id("Account", account["id"], self.handoff.customer_id_length)
        return self._command(self.handoff.customer(account, opp, ext), "Account", account)

    def customer_ref(self, customer_id: str) -> str | None:
        return self.handoff.customer_ref(customer_id)

    def project(
        self, opp: dict[str, Any], project: dict[str, Any], code: str, customer_ref: str
    ) -> Command:
        write = self.handoff.project(opp, project, code, customer_ref)
        return self._command(write, "Project", project)

    def milestones(self, plan: list[dict[str, Any]], project_id: str, code: str) -> list[Command]:
        writes = self.handoff.milestones(plan, project_id, code)
        return [self._command(w, "BillingMilestone", m) for w, m in zip(writes, plan, strict=True)]


class FileDropTarget(ErpTarget):
    """The legacy ERP behind CSV batches: customers and projects."""

    holds_milestones = False

    def customer(self, account: dict[str, Any], opp: dict[str, Any]) -> Command:
        entity = self.runtime.store.get("LegalEntity", str(opp.get("legal_entity_id") or ""))
        address = account.get("billing_address") or {}
        country = address.get("country") or (entity.payload.get("country") if entity else None)
        body = {
            "name": str(account.get("legal_name") or account.get("name") or "")[:80],
            "country": country,
            "currency": account.get("currency") or opp["amount"]["currency"],
            "tax_id": account.get("tax_id"),
            "payment_terms": self.vendor_value("payment_terms", account.get("payment_terms")),
        }
        ext = external_id("Account", account["id"], 40)
        return self.command("customers", "external_id", ext, "Account", account, body)

    def customer_ref(self, customer_id: str) -> str | None:
        from pssync.connectors.filedrop.connector import FileDropConnector

        connector = self.runtime.connector(self.system)
        if not isinstance(connector, FileDropConnector):
            raise UnsupportedErpError(f"{self.system} is not a file-drop connector")
        return connector.external_id_of("customers", customer_id)

    def project(
        self, opp: dict[str, Any], project: dict[str, Any], code: str, customer_ref: str
    ) -> Command:
        start, end = _dates(project, opp)
        body = {
            "customer_external_id": customer_ref,
            "code": code,
            "name": str(project["name"])[:60],
            "start_date": start,
            "end_date": end,
            "currency": opp["amount"]["currency"],
            "budget": str(opp["amount"]["amount"]),
            "billing_method": FILEDROP_BILLING.get(str(opp.get("revenue_method"))),
        }
        ext = external_id("Project", project["id"], 40)
        return self.command("projects", "external_id", ext, "Project", project, body)

    def milestones(self, plan: list[dict[str, Any]], project_id: str, code: str) -> list[Command]:
        return []


TARGETS: dict[str, type[ErpTarget]] = {
    "netsuite": NetSuiteTarget,
    "filedrop": FileDropTarget,
}
# ERPs whose connector carries its own handoff bodies.
CONNECTOR_TARGETS = frozenset({"sap_s4"})


def target_for(runtime: Runtime, system: str, entity_code: str) -> ErpTarget:
    """The handoff target for a configured ERP system (by the kind of its mapping)."""
    kind = runtime.translator(system).spec.system
    if kind in CONNECTOR_TARGETS:
        return ConnectorTarget(runtime, system, entity_code)
    try:
        return TARGETS[kind](runtime, system, entity_code)
    except KeyError:
        raise UnsupportedErpError(f"no handoff is built for {system} ({kind})") from None
