"""`pssync config check`: what `pssync sync` / `serve` would refuse, found before they run.

The file's schema (`config.settings`) is only the first step. Sync then builds each connector
(its type must exist, its settings model must accept the credentials given), loads each mapping
file, and reads ``PSSYNC_API_*``, ``PSSYNC_AUDIT_KEY`` and the webhook variables; each of those
failing is a problem here, named by its key and by where it was set: the file, or the variable.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from pssync.cli.output import console, emit_json, fail
from pssync.config import ConfigError, ConnectorConfig, Settings, load_settings
from pssync.config.settings import ENV_PREFIX, env_source
from pssync.governance.check_policy import problems as check_problems


@dataclass(frozen=True)
class Problem:
    key: str
    problem: str
    source: str  # the file, or the environment variable that set the key
    fatal: bool = True  # False: a warning (sync would run, but not as the file suggests)


def _source(loc: tuple[str, ...], path: Path) -> str:
    return env_source(loc) or str(path)


def _connector(name: str, settings: Settings, path: Path) -> list[Problem]:
    from pssync.connectors.registry import UnknownConnectorError, connector_class
    from pssync.engine.setup import connector_settings

    config = settings.connectors[name]
    found: list[Problem] = []
    where = ("connectors", name)
    try:
        cls = connector_class(config.type)
    except (UnknownConnectorError, ImportError, TypeError) as exc:
        return [Problem(f"connectors.{name}.type", str(exc), _source((*where, "type"), path))]
    model = cls.settings_model
    try:
        model(**connector_settings(config, set(model.model_fields)))
    except ValidationError as exc:
        for err in exc.errors(include_input=False):
            field = str(err["loc"][0]) if err["loc"] else ""
            top = field in ConnectorConfig.model_fields or not field
            loc = tuple(p for p in (*where, "" if top else "options", field) if p)
            variable = ENV_PREFIX + "__".join(p.upper() for p in loc)
            message = f"{err['msg']} for the {config.type} connector"
            if err["type"] == "missing":
                message = f"required by the {config.type} connector: set it here or in {variable}"
            found.append(Problem(".".join(loc), message, _source(loc, path)))
    given = config.model_dump(exclude=PSSYNC_KEYS, exclude_none=True)
    for field in sorted(set(given) - set(model.model_fields)):
        message = f"not read by the {config.type} connector, ignored"
        loc = (*where, field)
        found.append(Problem(".".join(loc), message, _source(loc, path), fatal=False))
    for option in sorted(set(config.options) - set(model.model_fields)):
        known = ", ".join(sorted(model.model_fields))
        message = f"not a {config.type} setting, ignored (known: {known})"
        loc = (*where, "options", option)
        found.append(Problem(".".join(loc), message, _source(loc, path), fatal=False))
    return found + _mapping(name, settings, path)


# Connector keys pssync reads itself (the connector's settings model never sees them).
PSSYNC_KEYS = {"type", "role", "mapping", "options", "currency", "crosswalks"}


def _mapping(name: str, settings: Settings, path: Path) -> list[Problem]:
    """The mapping sync would translate with: it must load (with the file's crosswalk
    overrides); a connector without one cannot be read from; an override naming a crosswalk
    the mapping never uses is a warning (a typo would be ignored in silence)."""
    from pssync.runtime.mappings import mapping_spec, unused_crosswalks

    where = ("connectors", name)
    loc = (*where, "mapping")
    try:
        spec = mapping_spec(settings, name, path.parent)
    except (OSError, ValueError) as exc:  # MappingFileError, UnicodeDecodeError
        return [Problem(".".join(loc), str(exc), _source(loc, path))]
    if spec is None:
        message = "the connector ships no mapping: set `mapping` to read from this system"
        return [Problem(".".join(loc), message, _source(loc, path), fatal=False)]
    found = []
    for walk in unused_crosswalks(settings, name, spec):
        key = (*where, "crosswalks", walk)
        message = f"the mapping has no crosswalk {walk!r}, ignored (it has: "
        message += f"{', '.join(sorted(spec.used_crosswalks())) or 'none'})"
        found.append(Problem(".".join(key), message, _source(key, path), fatal=False))
    return found


def _has_mapping(settings: Settings, name: str, path: Path) -> bool:
    from pssync.connectors.registry import UnknownConnectorError
    from pssync.runtime.mappings import mapping_path

    try:
        return mapping_path(settings.connectors[name], path.parent) is not None
    except (UnknownConnectorError, ImportError, TypeError):
        return True  # an unknown type is reported as such, not as "nothing to read"


def _environment(settings: Settings) -> list[Problem]:
    """The settings that come only from the environment, read as `serve` and `sync` read them."""
    from pssync.api.config import ApiSettings
    from pssync.engine.webhooks import WebhookSettings
    from pssync.store.audit import KEY_ENV, audit_key

    found: list[Problem] = []
    try:
        ApiSettings()
    except ValidationError as exc:
        for err in exc.errors(include_input=False):
            name = "PSSYNC_API_" + "_".join(str(p) for p in err["loc"]).upper()
            found.append(Problem(name, err["msg"], name))
    try:
        audit_key()
    except ValueError as exc:
        found.append(Problem(KEY_ENV, str(exc), KEY_ENV))
    try:
        WebhookSettings.from_config(settings.webhooks)
    except ValueError as exc:
        names = [n for n in os.environ if n.startswith(("PSSYNC_WEBHOOK_", "PSSYNC_SALESFORCE_"))]
        found.append(Problem("webhooks", str(exc), " or ".join(sorted(names)) or "environment"))
    return found


def check(settings: Settings, path: Path) -> list[Problem]:
    """Every problem `pssync sync` or `pssync serve` would stop at (and warnings)."""
    found: list[Problem] = []
    for name in settings.connectors:
        found += _connector(name, settings, path)
    if settings.connectors and not any(
        _has_mapping(settings, n, path) for n in settings.connectors
    ):
        message = "no connector has a mapping: `pssync sync` would have nothing to read"
        found.append(Problem("connectors", message, str(path)))
    for name, schedule in settings.schedules.items():
        if schedule.connector and schedule.connector not in settings.connectors:
            loc = ("schedules", name, "connector")
            message = f"no connector named {schedule.connector!r} (connectors: "
            message += f"{', '.join(sorted(settings.connectors)) or 'none'})"
            found.append(Problem(".".join(loc), message, _source(loc, path)))
    for message in check_problems(settings.checks):
        key = message.split(":", 1)[0]
        found.append(Problem(key, message.split(": ", 1)[1], _source(tuple(key.split(".")), path)))
    return found + _environment(settings)


def check_command(
    path: Annotated[Path, typer.Argument(help="Configuration file.")] = Path("pssync.yaml"),
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Validate a configuration file and the environment as `pssync sync` and `serve` would:
    connector types, their credentials, mapping files, schedules, PSSYNC_API_*, PSSYNC_AUDIT_KEY,
    webhooks. Every problem names its key and where it was set."""
    try:
        settings = load_settings(path)
    except ConfigError as exc:
        problems = [
            Problem(key, message, source)
            for (key, message), source in zip(exc.problems, exc.sources, strict=True)
        ]
        _report(path, problems, as_json, None)
        raise typer.Exit(1) from None
    problems = check(settings, path)
    _report(path, problems, as_json, settings)
    if any(p.fatal for p in problems):
        raise typer.Exit(1)


def _report(path: Path, problems: list[Problem], as_json: bool, settings: Settings | None) -> None:
    errors = [p for p in problems if p.fatal]
    if as_json:
        summary: dict[str, Any] = {
            "ok": not errors,
            "problems": [asdict(p) for p in errors],
            "warnings": [asdict(p) for p in problems if not p.fatal],
        }
        if settings is not None:
            summary |= {"connectors": sorted(settings.connectors), "flows": sorted(settings.flows)}
        emit_json(summary)
        return
    for p in problems:
        label = "problem" if p.fatal else "warning"
        console.print(f"  {label} {p.key}: {p.problem} ({p.source})", highlight=False, markup=False)
    if errors:
        raise fail(f"{path}: {len(errors)} problem(s); nothing was run")
    connectors = sorted(settings.connectors) if settings else []
    console.print(f"[green]{path} is valid[/green]: connectors {connectors}")
