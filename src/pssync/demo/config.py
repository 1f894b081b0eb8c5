"""The configuration of a running sandbox: one connector per emulator, as a user would write it.

The demo writes it to `pssync.yaml` so that the commands run afterwards (`pssync forecast`,
`pssync kpis`, `pssync trace`, `pssync serve`) open the same golden store and analytics file and
know the same systems. The credentials in it are the emulators' throwaway ones; the emulators
stop when the demo ends, so later commands must only read local state, never these systems.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from pssync.config.settings import Settings
from pssync.sandbox.up import Sandbox

DB_FILE = "pssync.db"
ANALYTICS_FILE = "pssync.duckdb"
CONFIG_FILE = "pssync.yaml"
# Which sandbox system plays which part; servicenow (ITSM) has no connector and is not synced.
ROLES = {
    "salesforce": "crm",
    "kantata": "psa",
    "netsuite": "erp",
    "sap_s4": "erp",
    "filedrop": "erp",
}

# The business flows, on as a firm would run them (docs/flows.md): a draft PSA project once a
# deal is at Proposal or Negotiation with at least even odds, the ERP handoff five days after a
# win, the PSA's dates back to the CRM and the ERP's actuals to the CRM account.
FLOWS: dict[str, dict[str, Any]] = {
    "opportunity_to_project": {"stages": ["Proposal", "Negotiation"], "min_probability": 50},
    # Deals won in the last four months are handed off when the ERP has no project for them.
    "closed_won_handoff": {"sla_days": 5, "lookback_days": 120},
    "resource_feedback": {},
    "financial_actuals": {},
}
# Who fixes what: every category the flows and the firm's planted misalignments raise has the
# team that can fix it at its source; pssync's own mapping gaps stay with the integrators.
OWNERS: dict[str, str] = {
    "unmapped_value": "deal-desk",
    "orphan_line_item": "deal-desk",
    "stale_stage": "sales-ops",
    "missing_attribute": "deal-desk",
    "invalid_tax_code": "tax-team",
    "missing_legal_entity": "finance-ops",
    "duplicate_customer": "mdm-team",
    "resource_conflict": "resource-managers",
    "psa_crm_date_mismatch": "resource-managers",
    "non_owner_write": "integration-team",
}


def mapping_file(system: str) -> str:
    """The mapping shipped with the connector package (absolute, so any cwd can load it)."""
    import pssync.connectors

    return str(Path(pssync.connectors.__file__).parent / system / "mapping.yaml")


def _connector(system: str, info: dict[str, Any]) -> dict[str, Any]:
    """One `connectors.<system>` block from the emulator's `describe()`."""
    creds = info["credentials"]
    base: dict[str, Any] = {"type": system, "role": ROLES[system], "mapping": mapping_file(system)}
    if system == "salesforce":
        return base | {
            "base_url": creds["instance_url"],
            "client_id": creds["client_id"],
            "client_secret": creds["client_secret"],
            "options": {"ca_file": info["ca_file"]},
        }
    if system == "kantata":
        return base | {"base_url": info["base_url"], "options": {"token": creds["token"]}}
    if system == "netsuite":
        keys = ("account_id", "consumer_key", "consumer_secret", "token_id", "token_secret")
        return base | {"base_url": info["base_url"]} | {k: creds[k] for k in keys}
    if system == "sap_s4":
        return base | {
            "base_url": info["base_url"],
            "username": creds["username"],
            "password": creds["password"],
            "options": {"sap_client": creds["sap_client"]},
        }
    folders = ("inbound_dir", "ack_dir", "reject_dir", "outbound_dir")
    return base | {"options": {k: creds[k] for k in folders}}


def sandbox_config(sandbox: Sandbox, workdir: Path) -> dict[str, Any]:
    """`pssync.yaml` content for `sandbox`, with the local state files in `workdir`."""
    described = sandbox.describe()
    return {
        "database_url": f"sqlite:///{workdir / DB_FILE}",
        "analytics_path": str(workdir / ANALYTICS_FILE),
        "reporting_currency": "USD",
        "connectors": {
            name: _connector(name, info) for name, info in described.items() if name in ROLES
        },
        "flows": FLOWS,
        "exceptions": {
            "default_owner": "integration-team",
            "routing": [{"category": c, "owner": o} for c, o in OWNERS.items()],
        },
    }


def write_config(config: dict[str, Any], path: Path) -> Settings:
    """Write the file with a header saying where it came from; return it validated."""
    header = (
        "# pssync.yaml written by `pssync demo`: the sandbox systems it synced.\n"
        "# The emulators stopped when the demo ended; forecast, kpis, exceptions, trace and\n"
        "# serve read only the local state named here. Run `pssync demo` again to refresh.\n"
    )
    path.write_text(header + yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return Settings(**config)
