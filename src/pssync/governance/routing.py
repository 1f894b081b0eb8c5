"""Who owns an exception and how soon it is due: routing rules by category, region, service line.

Rules come from `pssync.yaml` (`exceptions.routing`), first match wins; a category's SLA decides
the due time. A problem nobody is routed to still gets the default owner, never nobody.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pssync.config.exceptions import RoutingConfig


@dataclass(frozen=True)
class Category:
    name: str
    description: str
    severity: str
    sla_hours: int


CATEGORIES: dict[str, Category] = {
    c.name: c
    for c in (
        Category("invalid_record", "A record failed canonical validation", "medium", 48),
        Category(
            "unmapped_value", "A value is missing from a reference-data crosswalk", "medium", 48
        ),
        Category("missing_legal_entity", "An account or deal has no legal entity", "high", 24),
        Category("invalid_tax_code", "A tax code is missing or unknown", "high", 24),
        Category(
            "missing_attribute", "A mandatory attribute is missing before handoff", "high", 24
        ),
        Category("duplicate_customer", "A probable duplicate customer master", "high", 24),
        Category("resource_conflict", "Over-allocation or a start before capacity", "medium", 72),
        Category("non_owner_write", "A system wrote a field it does not own", "low", 168),
        Category("delivery_failed", "A write to a target system failed permanently", "high", 8),
        Category("auth_failure", "A connector's credentials were refused", "critical", 2),
        Category("drift", "A system disagrees with the golden store", "medium", 48),
        Category("hard_delete", "A record was deleted in its source system", "medium", 48),
    )
}


class Router:
    def __init__(self, config: RoutingConfig | None = None) -> None:
        self.config = config or RoutingConfig()

    def owner(
        self,
        category: str,
        *,
        region_id: str | None = None,
        service_line_id: str | None = None,
        system: str | None = None,
    ) -> str:
        facts = {
            "category": category,
            "region_id": region_id,
            "service_line_id": service_line_id,
            "system": system,
        }
        for rule in self.config.routing:
            wanted = rule.model_dump(exclude={"owner"}, exclude_none=True)
            if all(facts.get(k) == v for k, v in wanted.items()):
                return rule.owner
        return self.config.default_owner

    def due(self, category: str, raised_at: dt.datetime) -> dt.datetime:
        known = CATEGORIES.get(category)
        hours = self.config.sla_hours.get(category, known.sla_hours if known else 48)
        return raised_at + dt.timedelta(hours=hours)

    @staticmethod
    def severity(category: str) -> str:
        known = CATEGORIES.get(category)
        return known.severity if known else "medium"
