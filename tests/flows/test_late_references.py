"""A deal whose account arrives late reaches its targets once the account is fixed (issue #6).

Goldcrest Airlines carries a tax code the CRM crosswalk does not know (a misalignment the firm
plants), so the account is rejected at capture while its deal goes through holding the CRM's
account ID: no canonical account, no region, and the draft is blocked for a missing region.
Extending the crosswalk and replaying the account's exception must re-point the deal to the
canonical account, give it the account's region, clear the deal's `missing_attribute` and let
the draft reach the PSA like any other deal's. The golden store starts without the account (and
its history), as for a customer new to the CRM.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pssync.engine.ids import external_id
from pssync.flows.opportunity_to_project import draft_project_id
from pssync.governance.replay import ReplayContext, replay
from pssync.mapping.translator import Translator

from .conftest import OWNERS, FlowEnv, _truth, firm, make_env, sf_id, spec

pytestmark = pytest.mark.integration
ACCOUNT = "acc-00047"  # Goldcrest Airlines, tax code 'US-EXEMPT' in the CRM
DEAL = "opp-00063"
UPSTREAM_ACCOUNT = "acc-00012"  # Harbor Manufacturing, tax code 'DE19%' in the CRM
UPSTREAM_DEAL = "opp-00180"


def _proposal_deal() -> str:
    """Another deal, already at "Proposal": the CRM's picklist then has that stage (the
    emulator's org knows the stages of the deals it is seeded with)."""
    opps = firm().views["salesforce"]["Opportunity"]
    return str(min(o["Id"] for o in opps if o["StageName"] == "Proposal"))


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FlowEnv]:
    yield from make_env(
        tmp_path_factory.mktemp("late-references"),
        deals={sf_id("Opportunity", d) for d in (DEAL, UPSTREAM_DEAL)} | {_proposal_deal()},
        without=frozenset({ACCOUNT, UPSTREAM_ACCOUNT}),
    )


def test_the_fixture_is_the_planted_case() -> None:
    planted = {m.record_id for m in firm().misalignments if m.kind == "invalid_tax_code"}
    for account, deal in ((ACCOUNT, DEAL), (UPSTREAM_ACCOUNT, UPSTREAM_DEAL)):
        assert sf_id("Account", account) in planted
        assert _truth()[("Opportunity", deal)]["account_id"] == account


def test_a_deal_of_a_blocked_account_reaches_the_psa_once_the_account_is_fixed(
    env: FlowEnv,
) -> None:
    account_sf, deal_sf = sf_id("Account", ACCOUNT), sf_id("Opportunity", DEAL)
    # Sales reopens the deal: it is at a draft stage now.
    env.edit(
        "salesforce",
        "Opportunity",
        "Id",
        [{"Id": deal_sf, "StageName": "Proposal", "Probability": 60, "CloseDate": "2027-03-31"}],
    )
    env.poll("salesforce", "Account", "Contact", "Opportunity", "OpportunityLineItem")
    assert env.store.resolve_xref("salesforce", "Account", account_sf) is None
    (tax,) = [e for e in env.active("invalid_tax_code") if e.source_id == account_sf]
    assert tax.owner == OWNERS["invalid_tax_code"]
    found = env.store.resolve_xref("salesforce", "Opportunity", deal_sf)
    assert found is not None
    deal_id = found[1]
    deal = env.store.get("Opportunity", deal_id)
    assert deal is not None and deal.payload["account_id"] == account_sf
    assert not deal.payload.get("region_id")

    results = env.dispatch()
    (blocked,) = [r for w, r in results.items() if w.startswith(f"draft:{deal_id}:")]
    assert blocked["status"] == "blocked"
    (region,) = [
        e
        for e in env.active("missing_attribute")
        if e.record_id == deal_id and e.details["field"] == "region_id"
    ]
    assert region.owner == OWNERS["missing_attribute"]

    # The tax team extends the crosswalk and replays the account's exception.
    fixes = {"tax_code": {"US-EXEMPT": "tax-us-ex"}}
    env.runtime.translators["salesforce"] = Translator(spec("salesforce", fixes))
    done = replay(ReplayContext(env.store, env.exceptions), tax, actor="tax-team")
    assert done.state == "resolved", done.message
    account = env.store.resolve_xref("salesforce", "Account", account_sf)
    assert account is not None
    golden_account = env.store.get("Account", account[1])
    assert golden_account is not None and golden_account.payload["region_id"] == "reg-na"

    # The deal points at the canonical account now, with its region; a CRM write like any other.
    deal = env.store.get("Opportunity", deal_id)
    assert deal is not None
    assert deal.payload["account_id"] == account[1]
    assert deal.payload["region_id"] == "reg-na"
    source = env.store.provenance("Opportunity", deal_id, "account_id")
    assert source is not None and source["system"] == "salesforce"

    # ...and reaches the PSA as other deals do; its missing region clears itself.
    results = env.dispatch()
    (drafted,) = [r for w, r in results.items() if w.startswith(f"draft:{deal_id}:")]
    assert drafted["status"] == "drafted", drafted
    again = env.exceptions.get(region.id)
    assert again is not None and again.state == "resolved"
    assert not [e for e in env.active("missing_attribute") if e.record_id == deal_id]
    ext = external_id("Project", draft_project_id(deal_id), 40)
    workspaces = [w for w in env.read("kantata", "workspaces").values()]
    assert any(w.get("external_id") == ext for w in workspaces)
    project = env.store.get("Project", draft_project_id(deal_id))
    assert project is not None and project.payload["account_id"] == account[1]


def test_a_deal_is_repointed_when_its_account_is_fixed_upstream(env: FlowEnv) -> None:
    """No replay: the account is corrected in the CRM, the next capture applies it, and the
    dispatch after that capture re-points its deal."""
    account_sf, deal_sf = sf_id("Account", UPSTREAM_ACCOUNT), sf_id("Opportunity", UPSTREAM_DEAL)
    found = env.store.resolve_xref("salesforce", "Opportunity", deal_sf)
    assert found is not None
    deal = env.store.get("Opportunity", found[1])
    assert deal is not None and deal.payload["account_id"] == account_sf  # still dangling

    env.edit("salesforce", "Account", "Id", [{"Id": account_sf, "Tax_Code__c": "DE-VAT19"}])
    env.poll("salesforce", "Account")
    account = env.store.resolve_xref("salesforce", "Account", account_sf)
    assert account is not None
    env.dispatch()
    deal = env.store.get("Opportunity", found[1])
    assert deal is not None
    assert deal.payload["account_id"] == account[1]
    assert deal.payload["region_id"] == "reg-emea"
