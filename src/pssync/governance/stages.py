"""Governance as the page's govern and store stages, assembled for one runtime.

In page order:

* enrich: reference resolution (`references.resolve_references`: vendor IDs swapped for
  canonical ones), then fields a source leaves implicit (`enrich`: a deal's region from its
  account, an invoice's customer from its project);
* enrich also fills a reference a source names only by another system's ID (a workspace's CRM
  deal, `links.foreign_references`);
* identify: a record new to pssync that certainly is a golden record already (an ERP customer
  naming its CRM account, or the same tax ID and name, `identity`; the PSA and ERP projects of
  one deal, an ERP invoice naming its PSA invoice, `links`) joins it;
* check: the system-of-record matrix's refusals raised as `non_owner_write` (`gate`), data
  quality flags (`quality`), and the references still unresolved noted for re-pointing;
* store: the governed write (`gate.OwnershipStage`), then the noted references written once per
  page;
* crosswalk misses raised in the category of whoever fixes that crosswalk (an unknown tax code
  goes to the tax team, not the integrators).

The runtime builder (`pssync.runtime`) calls `governance_stages` for every runtime, whether the
business flows are on or not.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial

from pssync.engine.ports import FieldOwnership
from pssync.engine.stages import Stages
from pssync.governance import check_policy, enrich, identity, links, quality, references
from pssync.governance.gate import OwnershipStage

# Crosswalk -> the exception category its misses are raised as.
CROSSWALK_OWNERS = {"tax_code": "invalid_tax_code", "legal_entity": "missing_legal_entity"}


def governance_stages(policy: FieldOwnership, modes: Mapping[str, str] | None = None) -> Stages:
    """The govern and store stages for a runtime whose system-of-record matrix is `policy`;
    `modes`: what each check does to its record (`check_policy`, pssync.yaml's `checks:`)."""
    ownership = OwnershipStage(policy)
    chosen = {**check_policy.DEFAULTS, **(modes or {})}
    return Stages(
        enrich=[
            references.resolve_references,
            links.foreign_references,
            enrich.account_from_project,
            enrich.project_from_deal,
            enrich.from_project,
            enrich.rate_from_deal,
            enrich.contract_from_project,
            enrich.region_from_account,
        ],
        identify=[identity.resolve_identity, links.resolve_links],
        check=[
            ownership.check,
            partial(quality.account_checks, modes=chosen),
            partial(quality.opportunity_checks, modes=chosen),
            references.note_dangling,
        ],
        page_end=[references.write_dangling, quality.write_flags],
        write=ownership.write,
        crosswalk_categories=dict(CROSSWALK_OWNERS),
        modes=chosen,
    )


def forget() -> None:
    """Drop what governance caches per store across pages (resolved references, identity
    claims, customer profiles): for tests that rebuild a store under one URL."""
    references.forget()
    identity.forget()
    quality.forget()
