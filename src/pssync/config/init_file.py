"""The `pssync.yaml` that `pssync init` writes: one connector per chosen system, commented.

The file is meant to sync the first time once its secrets are in the environment: no `mapping:`
key is needed (each connector's shipped mapping is used, `runtime.mappings`), amounts without a
currency are in the reporting currency, the crosswalk overrides have their place, and only the
business flows whose target systems exist are switched on (a CRM-only firm gets none).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

ROLES = ("crm", "psa", "erp")
# The built-in systems offered per role (any registered connector type is accepted).
CHOICES: dict[str, tuple[str, ...]] = {
    "crm": ("salesforce",),
    "psa": ("kantata",),
    "erp": ("netsuite", "sap_s4", "filedrop"),
}
DEFAULTS = {"crm": "salesforce", "psa": "kantata", "erp": "netsuite"}


@dataclass(frozen=True)
class Template:
    """What a connector entry of one type holds: placeholders for the non-secret settings and
    the secrets that must come from the environment."""

    settings: dict[str, Any]
    secrets: tuple[str, ...] = ()


TEMPLATES: dict[str, Template] = {
    "salesforce": Template(
        {
            "base_url": "https://yourorg.my.salesforce.com",
            "client_id": "your-connected-app-consumer-key",
        },
        ("client_secret",),
    ),
    "kantata": Template({"base_url": "https://api.mavenlink.com/api/v1"}, ("options.token",)),
    "netsuite": Template(
        {"base_url": "https://1234567.suitetalk.api.netsuite.com", "account_id": "1234567"},
        ("consumer_key", "consumer_secret", "token_id", "token_secret"),
    ),
    "sap_s4": Template(
        {"base_url": "https://my-s4.example.com", "username": "PSSYNC_USER"}, ("password",)
    ),
    "filedrop": Template(
        {
            "options": {
                "inbound_dir": "/srv/erp/inbound",
                "ack_dir": "/srv/erp/ack",
                "reject_dir": "/srv/erp/reject",
                "outbound_dir": "/srv/erp/outbound",
            }
        }
    ),
}
# Flows and the roles they need besides the CRM.
FLOW_NEEDS: dict[str, tuple[str, ...]] = {
    "opportunity_to_project": ("psa",),
    "closed_won_handoff": ("erp",),
    "resource_feedback": ("psa",),
    "financial_actuals": ("erp",),
}
FLOW_DEFAULTS: dict[str, dict[str, Any]] = {
    "opportunity_to_project": {
        "stages": ["Proposal/Price Quote", "Negotiation/Review"],
        "min_probability": 50,
    },
    "closed_won_handoff": {"sla_days": 5, "lookback_days": 90},
    "resource_feedback": {},
    "financial_actuals": {},
}


@dataclass
class InitAnswers:
    """What `pssync init` asked (or was told by flags): a system type per role or None."""

    systems: dict[str, str | None] = field(default_factory=lambda: dict(DEFAULTS))
    currency: str = "USD"
    urls: dict[str, str] = field(default_factory=dict)
    database_url: str = "sqlite:///pssync.db"
    analytics_path: str = "pssync.duckdb"
    sets: dict[str, Any] = field(default_factory=dict)  # dotted key -> value (`--set`)


def env_name(role: str, secret: str) -> str:
    return "PSSYNC__CONNECTORS__" + "__".join([role, *secret.split(".")]).upper()


def connector_entry(role: str, system: str, url: str | None) -> dict[str, Any]:
    template = TEMPLATES.get(system, Template({"base_url": "https://your-system.example.com"}))
    entry: dict[str, Any] = {"type": system, "role": role}
    entry.update(yaml.safe_load(yaml.safe_dump(template.settings)))  # a deep copy
    if url:
        entry["base_url"] = url
    return entry


def config_data(answers: InitAnswers) -> dict[str, Any]:
    """The configuration as data (what the file says, without its comments)."""
    chosen = {role: s for role, s in answers.systems.items() if s}
    data: dict[str, Any] = {
        "database_url": answers.database_url,
        "analytics_path": answers.analytics_path,
        "reporting_currency": answers.currency,
        "connectors": {
            role: connector_entry(role, system, answers.urls.get(role))
            for role, system in chosen.items()
        },
        "crosswalks": {},
        "flows": {
            name: dict(FLOW_DEFAULTS[name])
            for name, needs in FLOW_NEEDS.items()
            if "crm" in chosen and all(role in chosen for role in needs)
        },
    }
    for key, value in answers.sets.items():
        _put(data, key, value)
    return data


def _put(data: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, leaf = dotted.split(".")
    node = data
    for part in parents:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    node[leaf] = value


def parse_set(text: str) -> tuple[str, Any]:
    """``KEY=VALUE`` with a dotted key and a YAML value (``connectors.crm.client_id=abc``)."""
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise ValueError(f"--set {text!r}: expected KEY=VALUE, e.g. connectors.crm.client_id=abc")
    return key.strip(), yaml.safe_load(raw) if raw.strip() else ""


def secrets_needed(data: dict[str, Any]) -> list[str]:
    """The environment variables the chosen connectors read their secrets from."""
    found = []
    for role, entry in data.get("connectors", {}).items():
        template = TEMPLATES.get(str(entry.get("type")))
        for secret in template.secrets if template else ():
            found.append(env_name(role, secret))
    return found


def _block(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def render(data: dict[str, Any]) -> str:
    """The file's text: `data` with comments saying what each part is for."""
    secrets = secrets_needed(data)
    out = [
        "# pssync.yaml — written by `pssync init`; check it with `pssync config check`.",
        "# Every key can be overridden by an environment variable: PSSYNC__ + the key path",
        "# joined by __. Put secrets there, never in this file" + (":" if secrets else "."),
        *(f"#   export {name}=..." for name in secrets),
        "",
        "# Golden store (SQLite; a postgresql:// URL for several workers) and analytics file.",
        _block({k: data[k] for k in ("database_url", "analytics_path")}).rstrip(),
        "# Currency of every forecast number; also the currency of amounts a system leaves",
        "# without one (a single-currency Salesforce org). A system in another currency sets",
        "# connectors.<name>.currency.",
        _block({"reporting_currency": data["reporting_currency"]}).rstrip(),
        "",
        "# The systems pssync connects: `type` picks the connector, `role` says what it is to the",
        "# firm. Each uses the mapping shipped with its connector; `mapping: FILE` replaces it.",
        _block({"connectors": data["connectors"]}).rstrip(),
        "",
        "# Crosswalk entries merged over the mappings' own (vendor value -> canonical ID), for",
        "# every connector; connectors.<name>.crosswalks holds one connector's. For example:",
        "#   service_line:",
        '#     "GTX Pro": sl-erp',
        _block({"crosswalks": data.get("crosswalks") or {}}).rstrip(),
        "",
        "# Business flows between the systems (only those whose systems are configured).",
        _block({"flows": data.get("flows") or {}}).rstrip(),
    ]
    rest = {k: v for k, v in data.items() if k not in _WRITTEN}
    if rest:
        out += ["", _block(rest).rstrip()]
    return "\n".join(out) + "\n"


_WRITTEN = {
    "database_url",
    "analytics_path",
    "reporting_currency",
    "connectors",
    "crosswalks",
    "flows",
}
