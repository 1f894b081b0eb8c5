"""Fix-and-replay of the categories replayed by checking the record again, each raised through
the product path, fixed at its cause and replayed with `pssync exceptions replay`:

* `non_owner_write`: the CRM changes a legal name the ERP owns (the gate keeps the golden
  value); the firm gives the CRM the field in pssync.yaml; the replay writes the attempted value.
* `resource_conflict`: a deal asks for architects before any is free (the draft flow's check);
  a third architect is hired; the replay finds capacity.

Both run without the sync engine, so `exceptions replay` starts none.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from pssync.cli.main import app
from pssync.config.settings import default_system_of_record
from pssync.engine.pipeline import PagePipeline, source_record
from pssync.engine.runtime import Runtime
from pssync.governance import stages
from pssync.governance.conflicts import check_start
from pssync.governance.exceptions import ExceptionStore
from pssync.governance.ownership import OwnershipPolicy
from pssync.governance.routing import Router, RoutingConfig
from pssync.mapping.spec import MappingSpec
from pssync.mapping.translator import Translator
from pssync.model import parse_record
from pssync.runtime import govern
from pssync.store import Change, GoldenStore, open_engine

runner = CliRunner()
AT = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
USD = {"amount": "100.00", "currency": "USD"}
ACCOUNTS = MappingSpec.model_validate(
    {
        "system": "crm",
        "objects": {
            "Account": {
                "entity": "Account",
                "fields": {"name": "Name", "legal_name": "LegalName"},
            }
        },
    }
)


@pytest.fixture
def firm(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[GoldenStore]:
    """A golden store, and a pssync.yaml naming it in the working directory."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pssync.yaml").write_text(yaml.safe_dump({"database_url": db_url}))
    engine = open_engine(db_url)
    yield GoldenStore(engine)
    engine.dispose()
    stages.forget()


def replay(db_url: str, category: str) -> list[dict[str, Any]]:
    done = runner.invoke(app, ["exceptions", "replay", "--category", category, "--json"])
    out: list[dict[str, Any]] = json.loads(done.stdout)
    assert (done.exit_code == 0) == all(o["state"] == "resolved" for o in out), done.output
    return out


def ingest(rt: Runtime, legal_name: str) -> str:
    stamp = dt.datetime.now(dt.UTC).isoformat()
    page = [source_record("001A", {"Name": "Coho", "LegalName": legal_name}, stamp)]
    return PagePipeline(rt, "crm", "Account").run(page).decisions[-1].status.value


def test_non_owner_write_replays_once_the_matrix_gives_the_writer_the_field(
    firm: GoldenStore, db_url: str, tmp_path: Path
) -> None:
    rt = Runtime(
        store=firm,
        exceptions=ExceptionStore(firm.engine, Router(RoutingConfig())),
        translators={"crm": Translator(ACCOUNTS)},
        roles={"crm": "crm"},
        policy=OwnershipPolicy(default_system_of_record()),
        routes=[],
    )
    govern(rt)
    assert ingest(rt, "Coho Energy LLC") == "applied"  # nothing golden yet: the gap is filled
    assert ingest(rt, "Coho Holdings Ltd") == "applied"  # the rest lands, legal_name is kept
    (refused,) = rt.exceptions.find(category="non_owner_write")
    assert refused.details["attempted"] == "Coho Holdings Ltd"
    (account,) = firm.iter_records("Account")
    assert account.payload["legal_name"] == "Coho Energy LLC"

    (still,) = replay(db_url, "non_owner_write")  # nothing changed: the ERP still owns it
    assert still["state"] == "open" and "still owned by erp" in still["message"]

    matrix = default_system_of_record()
    matrix["Account"]["legal_name"] = "crm"
    (tmp_path / "pssync.yaml").write_text(
        yaml.safe_dump({"database_url": db_url, "system_of_record": matrix})
    )
    (done,) = replay(db_url, "non_owner_write")
    assert done["state"] == "resolved", done
    (account,) = firm.iter_records("Account")
    assert account.payload["legal_name"] == "Coho Holdings Ltd"
    assert account.payload["name"] == "Coho"


def _put(store: GoldenStore, entity_type: str, payload: dict[str, Any]) -> None:
    store.write([Change(parse_record(entity_type, payload), AT, "test")])


def _architect(store: GoldenStore, rid: str) -> None:
    _put(
        store,
        "Resource",
        {"id": rid, "name": rid, "role_id": "role-sa", "region_id": "reg-na", "cost_rate": USD},
    )


def test_resource_conflict_replays_once_capacity_is_there(firm: GoldenStore, db_url: str) -> None:
    _put(firm, "Region", {"id": "reg-na", "code": "NA", "name": "North America"})
    for rid in ("res-a1", "res-a2"):  # both architects booked through July elsewhere
        _architect(firm, rid)
        _put(
            firm,
            "Assignment",
            {
                "id": f"asg-{rid}",
                "project_id": "prj-other",
                "resource_id": rid,
                "role_id": "role-sa",
                "start_date": "2026-07-01",
                "end_date": "2026-07-31",
                "hours": "184",
            },
        )
    deal = {
        "id": "opp-x",
        "name": "Coho cloud move",
        "account_id": "acc-1",
        "stage": "Proposal",
        "probability": "60",
        "amount": {"amount": "45000", "currency": "USD"},
        "close_date": "2026-06-30",
        "region_id": "reg-na",
        "requested_start": "2026-07-01",
        "duration_months": 2,
        "line_items": [{"id": "li-1", "role_id": "role-sa", "hours": "300", "rate": USD}],
    }
    _put(firm, "Opportunity", deal)
    exceptions = ExceptionStore(firm.engine)
    assert check_start(firm, exceptions, deal) is not None  # what the draft flow runs
    (conflict,) = exceptions.find(category="resource_conflict")
    assert conflict.details["kind"] == "start_before_capacity"

    (still,) = replay(db_url, "resource_conflict")
    assert still["state"] == "open"

    _architect(firm, "res-a3")  # the fix: a third architect, free in July
    (done,) = replay(db_url, "resource_conflict")
    assert done["state"] == "resolved", done
    assert "capacity" in done["resolution"]
