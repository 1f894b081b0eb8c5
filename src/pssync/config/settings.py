"""`pssync.yaml`, validated on load, with secrets from the environment.

Every key of the file can also come from an environment variable named ``PSSYNC__`` plus the key
path joined with ``__`` (``PSSYNC__CONNECTORS__CRM__CLIENT_SECRET``), which is how secrets are
meant to arrive. Secrets are `SecretStr`, so they print as ``**********`` in logs and errors.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    IPvAnyNetwork,
    SecretStr,
    ValidationError,
    field_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

from pssync.config.exceptions import NotifyConfig, RoutingConfig
from pssync.model import ENTITY_TYPES

DEFAULT_CONFIG_FILE = Path("pssync.yaml")
ENV_PREFIX = "PSSYNC__"
MIN_ENDPOINT_SECRET = 24
SYSTEM_ROLES = ("crm", "psa", "erp")
FLOW_NAMES = (
    "opportunity_to_project",
    "closed_won_handoff",
    "resource_feedback",
    "financial_actuals",
)


class ConfigError(ValueError):
    """The configuration is invalid; each problem names its key path and where it was set
    (`sources`, one per problem: the file, or the ``PSSYNC__`` variable that set the key)."""

    def __init__(
        self, source: str, problems: list[tuple[str, str]], sources: list[str] | None = None
    ):
        self.problems = problems
        self.sources = sources or [source] * len(problems)
        lines = "\n".join(
            f"  {key}: {msg}" + ("" if where == source else f" (set by {where})")
            for (key, msg), where in zip(problems, self.sources, strict=True)
        )
        super().__init__(f"invalid configuration in {source}:\n{lines}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ConnectorConfig(_Strict):
    """One connected system. `type` picks the connector; `role` says what it is to the firm."""

    type: str
    role: Literal["crm", "psa", "erp", "itsm"]
    base_url: str | None = None
    username: str | None = None
    client_id: str | None = None
    account_id: str | None = None
    # The mapping file; omitted (or `builtin`): the one shipped with the connector (`mappings`).
    mapping: str | None = None
    # The system's own currency, for amounts whose record names none (a single-currency
    # Salesforce org has no CurrencyIsoCode); omitted: `reporting_currency`.
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    # Crosswalk entries merged over the mapping file's (vendor value -> canonical ID).
    crosswalks: dict[str, dict[str, str]] = Field(default_factory=dict)
    password: SecretStr | None = None
    client_secret: SecretStr | None = None
    api_token: SecretStr | None = None
    consumer_key: SecretStr | None = None
    consumer_secret: SecretStr | None = None
    token_id: SecretStr | None = None
    token_secret: SecretStr | None = None
    options: dict[str, Any] = Field(default_factory=dict)


class FlowConfig(_Strict):
    enabled: bool = True
    stages: list[str] = Field(default_factory=list)
    min_probability: float | None = Field(default=None, ge=0, le=100)
    sla_days: int | None = Field(default=None, ge=0)
    lookback_days: int | None = Field(default=None, ge=0)  # handoff: only deals won this recently


class ScheduleConfig(_Strict):
    job: Literal["poll", "reconcile", "forecast"]
    cron: str
    connector: str | None = None

    @field_validator("cron")
    @classmethod
    def _five_fields(cls, value: str) -> str:
        if len(value.split()) != 5 or not re.fullmatch(r"[0-9*/,\- ]+", value):
            raise ValueError(f"{value!r} is not a 5-field cron expression")
        return value


class SalesforceOutboundConfig(_Strict):
    """Who may post Salesforce outbound messages. Salesforce cannot sign them, so the
    OrganizationId alone proves nothing: at least one of `endpoint_secrets` (a random token in
    the endpoint URL, ``/webhooks/salesforce/outbound/<token>``) or `allowed_ips` (CIDR
    networks) must be set, or the endpoint refuses every message."""

    system: str = "salesforce"
    org_ids: list[str] = Field(default_factory=list)
    endpoint_secrets: list[SecretStr] = Field(default_factory=list)
    allowed_ips: list[IPvAnyNetwork] = Field(default_factory=list)

    @field_validator("endpoint_secrets")
    @classmethod
    def _long_enough(cls, value: list[SecretStr]) -> list[SecretStr]:
        for secret in value:
            text = secret.get_secret_value()
            if len(text) < MIN_ENDPOINT_SECRET or not re.fullmatch(r"[A-Za-z0-9_\-]+", text):
                raise ValueError(
                    f"an endpoint secret needs at least {MIN_ENDPOINT_SECRET} URL-safe characters"
                    " (A-Z a-z 0-9 _ -); generate one with: python -c 'import secrets;"
                    " print(secrets.token_urlsafe(32))'"
                )
        return value


class WebhooksConfig(_Strict):
    """Webhook ingress: Standard Webhooks secrets per sending system, and Salesforce."""

    tolerance_seconds: float = Field(default=300.0, gt=0, le=3600)
    secrets: dict[str, list[SecretStr]] = Field(default_factory=dict)
    salesforce: SalesforceOutboundConfig = Field(default_factory=SalesforceOutboundConfig)


def default_system_of_record() -> dict[str, dict[str, str]]:
    """The default matrix: CRM owns commercial fields, PSA delivery, ERP legal and financial."""
    return {
        "Opportunity": {
            f: "crm"
            for f in (
                "stage",
                "probability",
                "amount",
                "close_date",
                "is_closed",
                "is_won",
                "service_category",
                "line_items",
                "requested_start",
                "account_id",
            )
        }
        | {"delivery_start": "psa"},
        "Account": {
            "name": "crm",
            "domain": "crm",
            "industry": "crm",
            "legal_name": "erp",
            "tax_id": "erp",
            "billing_address": "erp",
            "payment_terms": "erp",
        },
        "Project": {
            "planned_start": "psa",
            "planned_end": "psa",
            "baseline_hours": "psa",
            "status": "psa",
            "project_code": "erp",
        },
        "Assignment": {"*": "psa"},
        "ResourceRequest": {"*": "psa"},
        "TimeEntry": {"*": "psa"},
        "ContractLine": {"*": "erp"},
        "BillingMilestone": {"*": "erp"},
        "Invoice": {"*": "erp"},
        "Payment": {"*": "erp"},
        "CostActual": {"*": "erp"},
        "RevenueEvent": {"*": "erp"},
    }


def usable_cores() -> int:
    """The cores this process may run on: its CPU affinity (a container's or `taskset`'s
    cpuset), not every core of the host that `os.cpu_count` counts."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # no affinity on this platform (macOS)
        return os.cpu_count() or 1


class Settings(BaseSettings):
    """The whole configuration of one pssync installation."""

    model_config = SettingsConfigDict(
        env_prefix="PSSYNC__", env_nested_delimiter="__", extra="forbid", case_sensitive=False
    )

    database_url: str = "sqlite:///pssync.db"
    analytics_path: str = "pssync.duckdb"
    reporting_currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    connectors: dict[str, ConnectorConfig] = Field(default_factory=dict)
    # Crosswalk entries merged into every connector's mapping (a connector's own `crosswalks`
    # win over these, and these over the mapping file's; a crosswalk a mapping never uses is
    # ignored there).
    crosswalks: dict[str, dict[str, str]] = Field(default_factory=dict)
    system_of_record: dict[str, dict[str, str]] = Field(default_factory=default_system_of_record)
    # What a failed check does to its record: reject | hold | accept (with a flag), per
    # exception category; unnamed checks keep their default (docs/configuration.md).
    checks: dict[str, Literal["reject", "hold", "accept"]] = Field(default_factory=dict)
    flows: dict[str, FlowConfig] = Field(default_factory=dict)
    schedules: dict[str, ScheduleConfig] = Field(default_factory=dict)
    exceptions: RoutingConfig = Field(default_factory=RoutingConfig)
    notify: NotifyConfig = Field(default_factory=NotifyConfig)
    webhooks: WebhooksConfig = Field(default_factory=WebhooksConfig)
    # Processes a worker forks to apply pages in (0: in its own threads). A bulk sync is
    # CPU-bound in one interpreter; by default one per core it may run on, so it uses the
    # machine unasked.
    page_processes: int = Field(default_factory=lambda: min(32, usable_cores()), ge=0, le=32)

    @field_validator("system_of_record")
    @classmethod
    def _known_entities_and_owners(
        cls, value: dict[str, dict[str, str]]
    ) -> dict[str, dict[str, str]]:
        for entity, fields in value.items():
            model = ENTITY_TYPES.get(entity)
            if model is None:
                raise ValueError(f"unknown entity type {entity!r}")
            for name, owner in fields.items():
                if name != "*" and name not in model.model_fields:
                    raise ValueError(f"{entity} has no field {name!r}")
                if owner not in SYSTEM_ROLES:
                    raise ValueError(
                        f"{entity}.{name}: owner {owner!r} is not one of {SYSTEM_ROLES}"
                    )
        return value

    @field_validator("flows")
    @classmethod
    def _known_flows(cls, value: dict[str, FlowConfig]) -> dict[str, FlowConfig]:
        unknown = sorted(set(value) - set(FLOW_NAMES))
        if unknown:
            raise ValueError(f"unknown flow(s) {unknown}; known: {list(FLOW_NAMES)}")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Environment first so that secrets and overrides win over the file's values.
        return (env_settings, init_settings)


def env_source(
    loc: tuple[str | int, ...], data: Any = None, environ: dict[str, str] | None = None
) -> str | None:
    """The ``PSSYNC__`` variable that set the key at `loc` (or a mapping holding it), or the
    variables that made its parent when the file has no such parent; None: the file."""
    names = {k.upper(): k for k in (os.environ if environ is None else environ)}
    parts = [str(part).upper() for part in loc]
    for end in range(len(parts), 0, -1):
        wanted = ENV_PREFIX + "__".join(parts[:end])
        if wanted in names:
            return names[wanted]
    parent, node = parts[:-1], data
    for part in loc[:-1]:
        node = node.get(str(part)) if isinstance(node, dict) else None
    if parent and node is None:
        prefix = ENV_PREFIX + "__".join(parent) + "__"
        if any(name.startswith(prefix) for name in names):
            return prefix + "*"
    return None


def _read(source: Path) -> dict[str, Any]:
    """The file's mapping of keys, or ConfigError naming the line that is not UTF-8 / YAML."""
    try:
        raw = source.read_bytes()
    except FileNotFoundError:
        raise ConfigError(str(source), [("(file)", "does not exist")]) from None
    except OSError as exc:
        raise ConfigError(str(source), [("(file)", f"cannot be read: {exc.strerror}")]) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        byte = raw[exc.start]
        raise ConfigError(
            str(source), [(f"line {line}", f"not UTF-8 (byte 0x{byte:02x}); save it as UTF-8")]
        ) from None
    try:
        loaded = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "(file)"
        raise ConfigError(str(source), [(where, f"not valid YAML: {exc}")]) from None
    except RecursionError:
        raise ConfigError(str(source), [("(file)", "nested too deeply")]) from None
    if loaded is not None and not isinstance(loaded, dict):
        raise ConfigError(str(source), [("(top level)", "must be a mapping of keys")])
    return loaded or {}


def load_settings(path: Path | None = None) -> Settings:
    """Load `path` (else ``./pssync.yaml`` if present) plus the environment; raise ConfigError
    naming each bad key and whether the file or a ``PSSYNC__`` variable set it."""
    source = path or DEFAULT_CONFIG_FILE
    data: dict[str, Any] = {}
    if path is not None or source.exists():
        data = _read(source)
    try:
        return Settings(**data)
    except SettingsError as exc:  # a variable holding a mapping that is not JSON
        field = re.search(r'field "([^"]+)"', str(exc))
        key = field.group(1) if field else "(environment)"
        where = env_source((key,)) or "the environment"
        problem = f"{where} is not valid JSON for this key"
        raise ConfigError("the environment", [(key, problem)], [where]) from None
    except ValidationError as exc:
        problems, sources = [], []
        for err in exc.errors(include_input=False):
            loc = tuple(err["loc"])
            problems.append((".".join(str(p) for p in loc) or "(top level)", err["msg"]))
            sources.append(env_source(loc, data) or str(source))
        in_env = [s.startswith(ENV_PREFIX) for s in sources]
        where = " and ".join(
            name
            for name, used in ((str(source), not all(in_env)), ("the environment", any(in_env)))
            if used
        )
        raise ConfigError(where, problems, sources) from None
