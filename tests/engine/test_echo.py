"""Echo suppression: a bidirectional edit settles within a bounded number of writes."""

from __future__ import annotations

from pssync.engine.capture import Poller
from pssync.engine.outbound import ROUTES, EntityRoute
from pssync.engine.worker import wait_idle

from .conftest import BP, EngineEnv, bp_row, edit, writes_made

ROUTES["account_to_crm"] = EntityRoute(
    name="account_to_crm",
    entity_type="Account",
    source_role="erp",
    target_role="crm",
    target_object=BP,
    external_id_field="BusinessPartnerIDByExtSystem",
    key_field="BusinessPartner",
)


def _round(env: EngineEnv) -> dict[str, int]:
    """Poll both systems once and let deliveries finish; the statuses seen per system."""
    seen: dict[str, int] = {}
    for system in ("crm", "erp"):
        for status, n in Poller(env.runtime, system, BP).run().counts.items():
            seen[f"{system}:{status}"] = seen.get(f"{system}:{status}", 0) + n
        assert wait_idle(30)
    return seen


def test_a_bidirectional_edit_settles(engine_env: EngineEnv) -> None:
    engine_env.runtime.routes = ["account_to_erp", "account_to_crm"]
    row = bp_row("Echo Partners")
    engine_env.crm.seed({BP: [row]})
    crm_writes, erp_writes = writes_made(engine_env.crm), writes_made(engine_env.erp)

    first = _round(engine_env)
    assert first.get("crm:applied") == 1
    assert writes_made(engine_env.erp) == erp_writes + 1  # created in the ERP
    # The ERP now shows pssync's own write: read back, it is an echo, not a change.
    second = _round(engine_env)
    assert "erp:applied" not in second and "crm:applied" not in second
    assert writes_made(engine_env.crm) == crm_writes

    # Someone edits the partner in the ERP: the edit reaches the CRM once, and the CRM's
    # copy of it coming back is an echo.
    ext = next(
        k
        for k, p in engine_env.erp_partners().items()
        if p["OrganizationBPName1"] == "Echo Partners"
    )
    number = engine_env.erp_partners()[ext]["BusinessPartner"]
    edit(engine_env.erp, [{"BusinessPartner": number, "OrganizationBPName2": "Echo Partners plc"}])
    erp_writes = writes_made(engine_env.erp)
    rounds = [_round(engine_env) for _ in range(3)]
    assert rounds[0].get("erp:applied") == 1
    assert writes_made(engine_env.crm) == crm_writes + 1
    assert writes_made(engine_env.erp) == erp_writes  # nothing bounced back to the ERP
    assert all("applied" not in k for r in rounds[1:] for k in r), rounds
    account = engine_env.store.resolve_xref("crm", BP, row["BusinessPartner"])
    assert account is not None
    golden = engine_env.store.get("Account", account[1])
    assert golden is not None and golden.payload["legal_name"] == "Echo Partners plc"
