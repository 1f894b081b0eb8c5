"""When each business flow fires, from the `flows:` block of `pssync.yaml`.

```yaml
flows:
  opportunity_to_project: {stages: [Proposal, Negotiation], min_probability: 50}
  closed_won_handoff: {sla_days: 5}
  resource_feedback: {}
  financial_actuals: {}
```

A flow missing from the block is off; `enabled: false` turns a listed one off. An empty
`stages` list means any open stage; `min_probability` is compared with the CRM probability (0-100).
The triggers are process-wide, like the engine runtime, because DBOS replays workflows from
their inputs alone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pssync.config.settings import FlowConfig

DRAFT, HANDOFF, FEEDBACK, ACTUALS = (
    "opportunity_to_project",
    "closed_won_handoff",
    "resource_feedback",
    "financial_actuals",
)
DEFAULT_FLOWS: dict[str, FlowConfig] = {
    DRAFT: FlowConfig(stages=["Proposal", "Negotiation"], min_probability=50),
    HANDOFF: FlowConfig(sla_days=5),
    FEEDBACK: FlowConfig(),
    ACTUALS: FlowConfig(),
}


@dataclass(frozen=True)
class Triggers:
    flows: Mapping[str, FlowConfig] = field(default_factory=lambda: dict(DEFAULT_FLOWS))

    def enabled(self, name: str) -> bool:
        config = self.flows.get(name)
        return config is not None and config.enabled

    def wants_draft(self, opportunity: Mapping[str, Any]) -> bool:
        """An open deal at a configured stage and probability gets a draft project."""
        config = self.flows.get(DRAFT)
        if config is None or not config.enabled or opportunity.get("is_closed"):
            return False
        if config.stages and opportunity.get("stage") not in config.stages:
            return False
        probability = float(opportunity.get("probability") or 0)
        return config.min_probability is None or probability >= config.min_probability

    @staticmethod
    def lost(opportunity: Mapping[str, Any]) -> bool:
        return bool(opportunity.get("is_closed")) and not opportunity.get("is_won")

    def wants_handoff(self, opportunity: Mapping[str, Any], today: dt.date | None = None) -> bool:
        """Every won deal goes through the handoff: one the ERP already has a project for is
        linked to it, a recent one is handed off, and an old one with no ERP project raises
        an exception saying so (`may_create`), so no won deal is silently left out."""
        return self.enabled(HANDOFF) and bool(opportunity.get("is_won"))

    def may_create(self, opportunity: Mapping[str, Any], today: dt.date | None = None) -> bool:
        """A deal won within the look-back window may get new ERP records. Deals won before
        that predate the integration: an ERP record missing for them is an exception for
        finance to settle, not something for a handoff to create years later."""
        config = self.flows.get(HANDOFF)
        lookback = config.lookback_days if config is not None else None
        closed = opportunity.get("close_date")
        if lookback is None or not closed:
            return True
        reference = today or dt.datetime.now(dt.UTC).date()
        return dt.date.fromisoformat(str(closed)[:10]) >= reference - dt.timedelta(days=lookback)

    @property
    def sla_days(self) -> int:
        config = self.flows.get(HANDOFF)
        return config.sla_days if config and config.sla_days is not None else 5

    def routes(self) -> list[str]:
        """The engine routes of the enabled event-driven flows."""
        return [name for name in (FEEDBACK, ACTUALS) if self.enabled(name)]


_current = Triggers()


def current() -> Triggers:
    return _current


def set_triggers(triggers: Triggers) -> Triggers:
    global _current
    _current = triggers
    return triggers


def from_config(flows: Mapping[str, FlowConfig | Mapping[str, Any]] | None) -> Triggers:
    """Triggers from the `flows:` block (validated `FlowConfig`s or plain mappings)."""
    if flows is None:
        return Triggers()
    return Triggers(
        {
            name: value if isinstance(value, FlowConfig) else FlowConfig.model_validate(value)
            for name, value in flows.items()
        }
    )
