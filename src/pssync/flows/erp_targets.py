"""What the closed-won handoff writes into each kind of ERP: delivery commands from the bodies
each ERP's connector builds.

The handoff's steps are the same for every ERP (customer, project with its code, billing
milestones, write-backs); what differs is each ERP's records and how they reference each other,
and that lives in the connector's own folder (its `handoff` factory, see `ErpHandoff`):

* NetSuite (``connectors/netsuite/handoff.py``): ``customer``, ``job`` under it, milestones as
  ``projecttask`` records with their amount; keyed by ``externalId``.
* SAP S/4HANA (``connectors/sap_s4/handoff.py``): the partner by deep insert with its customer
  roles, the enterprise project, billing elements.
* The file-drop ERP (``connectors/filedrop/handoff.py``): ``customers`` and ``projects`` rows;
  no milestone file, so the contract line and milestones are golden only.

External IDs are deterministic functions of the canonical records (or the project code), so a
rerun upserts the same records and, when nothing changed, writes nothing.
"""

from __future__ import annotations

from typing import Any, Protocol

from pssync.engine.ids import external_id
from pssync.engine.outbound import Command
from pssync.engine.runtime import Runtime

ROUTE = "closed_won_handoff"


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
    """The handoff bodies a connector builds for its own ERP (e.g. SAP's `SapHandoff`).

    The flow computes the external IDs and reads the golden legal entity (`entity`); an ERP
    keyed by its own IDs (SAP's project code) may ignore the external IDs it is given."""

    holds_milestones: bool
    customer_id_length: int

    def customer(
        self,
        account: dict[str, Any],
        opp: dict[str, Any],
        external_id: str,
        entity: dict[str, Any] | None,
    ) -> VendorWrite: ...
    def customer_ref(self, customer_id: str) -> str | None: ...
    def project(
        self,
        opp: dict[str, Any],
        project: dict[str, Any],
        code: str,
        customer_ref: str,
        external_id: str,
    ) -> VendorWrite: ...
    def milestones(
        self, plan: list[dict[str, Any]], project_id: str, code: str, external_ids: list[str]
    ) -> list[VendorWrite]: ...


class ErpTarget:
    """One ERP of the handoff: turns its connector's bodies into delivery commands."""

    def __init__(self, runtime: Runtime, system: str, entity_code: str) -> None:
        self.runtime, self.system, self.entity_code = runtime, system, entity_code
        factory = getattr(runtime.connector(system), "handoff", None)
        if not callable(factory):
            raise UnsupportedErpError(f"the {system} connector builds no handoff")
        self.handoff: ErpHandoff = factory(entity_code, self.vendor_value)
        #: whether the ERP holds the billing milestones (else they are golden-only)
        self.holds_milestones = self.handoff.holds_milestones

    def vendor_value(self, crosswalk: str, value: Any) -> Any:
        """The ERP's code for a canonical value (reverse crosswalk), if it has one."""
        table = self.runtime.translator(self.system).spec.crosswalks.get(crosswalk, {})
        return next((code for code, canonical in table.items() if canonical == value), None)

    def _command(self, write: VendorWrite, entity_type: str, record: dict[str, Any]) -> Command:
        clean = {k: v for k, v in write.body.items() if v is not None}
        return Command(
            ROUTE,
            self.system,
            write.object,
            write.key_field,
            write.external_id,
            entity_type,
            record["id"],
            record,
            clean,
            fields=[],
        )

    def customer(self, account: dict[str, Any], opp: dict[str, Any]) -> Command:
        """Create-or-update of the customer for `account`."""
        ext = external_id("Account", account["id"], self.handoff.customer_id_length)
        found = self.runtime.store.get("LegalEntity", str(opp.get("legal_entity_id") or ""))
        entity = found.payload if found else None
        return self._command(self.handoff.customer(account, opp, ext, entity), "Account", account)

    def customer_ref(self, customer_id: str) -> str | None:
        """How the ERP's project names the customer with ERP ID `customer_id`."""
        return self.handoff.customer_ref(customer_id)

    def project(
        self, opp: dict[str, Any], project: dict[str, Any], code: str, customer_ref: str
    ) -> Command:
        """Create-or-update of the ERP project with its code under the customer."""
        ext = external_id("Project", project["id"], 40)
        write = self.handoff.project(opp, project, code, customer_ref, ext)
        return self._command(write, "Project", project)

    def milestones(self, plan: list[dict[str, Any]], project_id: str, code: str) -> list[Command]:
        """The billing milestones in the ERP under its project `project_id` (ERP ID)."""
        exts = [external_id("BillingMilestone", m["id"], 40) for m in plan]
        writes = self.handoff.milestones(plan, project_id, code, exts)
        return [self._command(w, "BillingMilestone", m) for w, m in zip(writes, plan, strict=True)]


def target_for(runtime: Runtime, system: str, entity_code: str) -> ErpTarget:
    """The handoff target for a configured ERP system (its connector builds the bodies)."""
    return ErpTarget(runtime, system, entity_code)
