"""`pssync init`: ask (or read from flags) which systems the firm runs; write pssync.yaml."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import typer

from pssync.cli.output import console, fail
from pssync.config.init_file import (
    CHOICES,
    DEFAULTS,
    ROLES,
    InitAnswers,
    config_data,
    parse_set,
    render,
    secrets_needed,
)

NONE = "none"
_ROLE_NAMES = {"crm": "CRM", "psa": "PSA", "erp": "ERP"}


def _known_types() -> list[str]:
    from pssync.connectors.registry import available

    return available()


def _system(role: str, given: str | None, ask: bool, fallback: str) -> str | None:
    """The connector type for `role` (None: the firm has no such system)."""
    if given is None and ask:
        offered = "/".join([*CHOICES[role], NONE])
        given = typer.prompt(f"{_ROLE_NAMES[role]} system ({offered})", default=DEFAULTS[role])
    value = (given or fallback).strip()
    if value.lower() == NONE:
        return None
    if value not in _known_types():
        known = ", ".join(_known_types())
        raise fail(f"--{role} {value!r}: no such connector (known: {known}, or {NONE})")
    return value


def write_init(
    path: Path,
    *,
    force: bool,
    systems: dict[str, str | None],
    urls: dict[str, str | None],
    currency: str | None,
    sets: list[str],
    ask: bool,
) -> None:
    if path.exists() and not force:
        raise fail(f"{path} already exists (use --force to overwrite)")
    # Without prompts, a role no flag names is absent once any flag names a system (`--crm
    # salesforce` alone is a CRM-only firm); with no flag at all, the starter's three systems.
    named = any(systems.get(role) for role in ROLES)
    answers = InitAnswers(
        systems={
            role: _system(role, systems.get(role), ask, NONE if named else DEFAULTS[role])
            for role in ROLES
        }
    )
    if not any(answers.systems.values()):
        raise fail("choose at least one system (--crm, --psa or --erp)")
    for role, system in answers.systems.items():
        url = urls.get(role)
        if system and url is None and ask:
            url = typer.prompt(f"{system} base URL (Enter: fill it in later)", default="")
        if url:
            answers.urls[role] = url
    if currency is None and ask:
        currency = typer.prompt("Reporting currency (ISO 4217)", default="USD")
    answers.currency = (currency or "USD").strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", answers.currency):
        raise fail(f"--currency {answers.currency!r}: not an ISO 4217 code like USD")
    try:
        answers.sets = dict(parse_set(text) for text in sets)
    except ValueError as exc:
        raise fail(str(exc)) from None
    data = config_data(answers)
    _validate(data)
    path.write_text(render(data), encoding="utf-8")
    _next_steps(path, data)


def _validate(data: dict[str, Any]) -> None:
    """Refuse to write what would not load (a bad --set, say); secrets may still be missing."""
    from pydantic import ValidationError

    from pssync.config.settings import Settings

    try:
        Settings.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
            for e in exc.errors(include_input=False)
        )
        raise fail(f"not written: {problems}") from None


def _next_steps(path: Path, data: dict[str, Any]) -> None:
    console.print(f"wrote {path}", highlight=False)
    systems = ", ".join(f"{role}={entry['type']}" for role, entry in data["connectors"].items())
    console.print(f"  systems: {systems}; reporting currency {data['reporting_currency']}")
    secrets = secrets_needed(data)
    if secrets:
        console.print("  next, put the secrets in the environment:", highlight=False)
        for name in secrets:
            console.print(f"    export {name}=...", highlight=False, markup=False)
    console.print("  then: pssync config check && pssync sync", highlight=False)
