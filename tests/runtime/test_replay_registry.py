"""Every exception category pssync raises has a way to be replayed after its fix: a handler
for its category (optionally per system), a check run again, or its stage's handler. The
tests that raise, fix and replay each category through the product path:

* unmapped_value, orphan_line_item, drift, hard_delete, `sync --full`: test_replay_sandbox.py
* non_owner_write, resource_conflict: test_replay_checks.py
* invalid_record, missing_attribute, unmapped_value (CSV rows), missing_legal_entity, stale_stage,
  duplicate_customer (govern-stage checks): tests/onboarding/
* invalid_tax_code, unmapped_value (flows): tests/flows/test_governance_e2e.py
* delivery_failed, auth_failure: tests/engine/test_delivery.py, tests/cli/test_engine_commands.py
* invalid_event: tests/engine/test_pushed.py
* won_without_erp_project: tests/flows/test_won_without_erp_replay.py
"""

from __future__ import annotations

import pytest

from pssync.engine.nesting import ORPHAN_CATEGORY
from pssync.engine.pushed import CATEGORY as INVALID_EVENT
from pssync.governance import replay
from pssync.governance.routing import CATEGORIES
from pssync.onboarding.checks import CATEGORIES as CHECKED
from pssync.runtime.replay import HANDOFF_CATEGORIES

RAISED = sorted({*CATEGORIES, ORPHAN_CATEGORY, INVALID_EVENT, *CHECKED, *HANDOFF_CATEGORIES})


@pytest.mark.parametrize("category", RAISED)
def test_every_category_has_a_replay(category: str) -> None:
    handler = replay._handler(category, None)  # loads every handler module
    by_check = replay.CHECK_HANDLERS.get(category)
    by_stage = category in CHECKED and "govern" in replay.STAGE_HANDLERS
    assert handler or by_check or by_stage, f"{category} cannot be replayed"
