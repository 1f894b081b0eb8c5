"""Mapping profiles: which mapping file a Salesforce connector reads and writes with.

The same org can hold the CRM (standard objects) and Certinia PSA (pse__ objects); each role
gets its own connector entry with its own profile, so the system-of-record rules stay per role.
"""

from __future__ import annotations

from pathlib import Path

from pssync.mapping import MappingSpec, load_spec
from pssync.mapping.spec import FieldRule, ObjectMap

PROFILES = {"default": "mapping.yaml", "certinia": "certinia.yaml"}
HERE = Path(__file__).parent


def load_profile(profile: str, override: str | None = None) -> MappingSpec:
    """The profile's mapping file, or `override` (a path) when given."""
    if override:
        return load_spec(Path(override))
    try:
        return load_spec(HERE / PROFILES[profile])
    except KeyError:
        known = ", ".join(sorted(PROFILES))
        raise ValueError(f"no Salesforce mapping profile {profile!r}; known: {known}") from None


def fields_of(omap: ObjectMap) -> list[str]:
    """Every vendor field the object's rules read, in rule order."""
    found: list[str] = []
    for rule in omap.fields.values():
        found += _rule_fields(rule)
    return list(dict.fromkeys(found))


def _rule_fields(rule: FieldRule) -> list[str]:
    names = [rule.from_] if rule.from_ else []
    if rule.money is not None:
        names += [rule.money.amount] + ([rule.money.currency] if rule.money.currency else [])
    if rule.concat:
        names += [part[1:] for part in rule.concat if part.startswith("$")]
    if rule.when is not None:
        names.append(rule.when.field)
    for branch in (rule.then, rule.else_):
        if branch is not None:
            names += _rule_fields(branch)
    return names
