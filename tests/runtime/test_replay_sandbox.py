"""Fix-and-replay of the categories a CRM sync raises, against a sandbox Salesforce org holding
only what a user put there, with the config `pssync init` writes. Each step runs `pssync` in a
process of its own, as a user does: raise, fix the cause, replay, check that the exception
closes and the record lands.

* `unmapped_value` + `orphan_line_item`: a deal whose service category the crosswalk lacks is
  held, and so are its line items; once pssync.yaml's crosswalk has the value, replaying the
  deal lands it and nests its lines (the lines' exception closes with it).
* `sync --full` re-reads a held deal (not `duplicate`) after its crosswalk fix and closes it.
* `drift`: a change the sync has not read yet is found by `reconcile`; the replay applies it.
* `hard_delete`: a deal deleted in the CRM and found by `reconcile`; the replay deletes it from
  the golden store (its history stays).

The tests share one org and one golden store and run in file order.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from simple_salesforce import Salesforce

from pssync.sandbox.up import Sandbox
from pssync.store import GoldenStore, open_engine
from pssync.store.problems import ACTIVE

pytestmark = pytest.mark.integration
PSSYNC = str(Path(sys.executable).parent / "pssync")


@dataclass
class Org:
    sf: Salesforce
    work: Path
    env: dict[str, str]
    store: GoldenStore
    ids: dict[str, str]

    def cli(self, *args: str) -> tuple[int, Any, str]:
        done = subprocess.run(
            [PSSYNC, *args],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
            cwd=self.work,
            env=self.env,
        )
        output = done.stdout + done.stderr
        try:
            parsed = json.loads(done.stdout)
        except ValueError:
            parsed = None
        return done.returncode, parsed, output

    def active(self, category: str) -> list[Any]:
        from pssync.governance.exceptions import ExceptionStore

        states = [s.value for s in ACTIVE]
        return list(ExceptionStore(self.store.engine).find(states=states, category=category))

    def deal(self, name: str) -> dict[str, Any] | None:
        found = [
            v.payload for v in self.store.iter_records("Opportunity") if v.payload["name"] == name
        ]
        return found[0] if found else None

    def crosswalk(self, entries: dict[str, str]) -> None:
        path = self.work / "pssync.yaml"
        config = yaml.safe_load(path.read_text())
        config.setdefault("crosswalks", {}).setdefault("service_line", {}).update(entries)
        path.write_text(yaml.safe_dump(config))


def _client(info: dict[str, Any]) -> Salesforce:
    session = requests.Session()
    session.trust_env = False
    session.headers["Connection"] = "close"
    session.verify = info["ca_file"]
    creds = info["credentials"]
    return Salesforce(
        instance_url=creds["instance_url"],
        session_id=creds["session_id"],
        session=session,
        version="59.0",
    )


@pytest.fixture(scope="module")
def org(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Org]:
    base = tmp_path_factory.mktemp("replay")
    with Sandbox.start_all(systems=["salesforce"], empty=True, state_dir=base / "sf") as box:
        info = box.describe()["salesforce"]
        creds = info["credentials"]
        work = base / "firm"
        work.mkdir()
        env = {**os.environ, "PSSYNC__CONNECTORS__CRM__CLIENT_SECRET": creds["client_secret"]}
        done = subprocess.run(
            [
                PSSYNC,
                *("init", "--crm", "salesforce", "--currency", "USD", "--non-interactive"),
                *("--crm-url", creds["instance_url"]),
                *("--set", f"connectors.crm.client_id={creds['client_id']}"),
                *("--set", f"connectors.crm.options.ca_file={info['ca_file']}"),
            ],
            capture_output=True,
            text=True,
            check=False,
            cwd=work,
            env=env,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        sf = _client(info)
        ids = _load(sf, box)
        engine = open_engine(f"sqlite:///{work / 'pssync.db'}")
        yield Org(sf, work, env, GoldenStore(engine), ids)
        engine.dispose()


def _load(sf: Salesforce, box: Sandbox) -> dict[str, str]:
    """One account, three deals (two with service categories the crosswalk lacks), and two
    line items of the first of those."""
    ids = {"Acme": sf.Account.create({"Name": "Acme Services"})["id"]}
    for name, category in (
        ("Acme cloud move", "Cloud Migration"),
        ("Acme ERP rollout", "ERP"),
        ("Acme data platform", "Data Platform"),
    ):
        ids[name] = sf.Opportunity.create(
            {
                "Name": name,
                "AccountId": ids["Acme"],
                "StageName": "Proposal/Price Quote",
                "CloseDate": "2027-03-31",
                "Amount": 50000.0,
                "Service_Category__c": category,
            }
        )["id"]
    box.emulators["salesforce"].seed(
        {
            "Product2": [
                {"Id": "01t000000000001AAA", "Name": "Cloud architect", "ProductCode": "CLOUD-SA"}
            ],
            "OpportunityLineItem": [
                {
                    "Id": f"00k00000000000{n}AAA",
                    "OpportunityId": ids["Acme cloud move"],
                    "Product2Id": "01t000000000001AAA",
                    "Quantity": 100,
                    "UnitPrice": 150,
                }
                for n in (1, 2)
            ],
        }
    )
    return ids


def test_a_held_deal_and_its_lines_land_after_the_crosswalk_fix_and_replay(org: Org) -> None:
    code, out, output = org.cli("sync", "--json")
    assert code == 0, output
    held = {e.source_id: e for e in org.active("unmapped_value")}
    assert set(held) == {org.ids["Acme cloud move"], org.ids["Acme data platform"]}, held
    (orphan,) = org.active("orphan_line_item")
    assert orphan.source_id == org.ids["Acme cloud move"] and orphan.details["lines"] == 2
    assert org.deal("Acme cloud move") is None
    # Held, not lost: the forecast names the value the exceptions hold back.
    code, out, output = org.cli("forecast", "--json", "--no-learn", "--no-save")
    assert code == 0, output
    (line,) = out["held_back"]
    assert (line["category"], line["deals"], line["currency"]) == ("unmapped_value", 2, "USD")
    assert Decimal(line["open_amount"]) == Decimal("100000")

    code, out, output = org.cli("exceptions", "replay", "--category", "orphan_line_item", "--json")
    assert code == 1, output  # the deal is still held: the lines cannot nest
    assert out[0]["state"] == "open" and "replay its own exception first" in out[0]["message"]

    org.crosswalk({"Cloud Migration": "sl-cloud"})
    cloud = held[org.ids["Acme cloud move"]]
    code, out, output = org.cli("exceptions", "replay", cloud.id, "--json")
    assert code == 0, output
    assert out[0]["state"] == "resolved"
    deal = org.deal("Acme cloud move")
    assert deal is not None and deal["service_line_id"] == "sl-cloud"
    assert len(deal.get("line_items") or []) == 2  # the held lines nested with it
    assert org.active("orphan_line_item") == []


def test_sync_full_rereads_a_held_deal_after_its_fix(org: Org) -> None:
    code, out, output = org.cli("sync", "--full", "--json")
    assert code == 0, output  # nothing fixed yet: still held, re-read rather than `duplicate`
    (still,) = org.active("unmapped_value")
    assert still.source_id == org.ids["Acme data platform"]

    org.crosswalk({"Data Platform": "sl-data"})
    code, out, output = org.cli("sync", "--full", "--json")
    assert code == 0, output
    (deals,) = [c for c in out["captures"] if c["object"] == "Opportunity"]
    assert deals.get("exceptions_closed") == 1 and deals.get("applied") == 1, deals
    assert org.active("unmapped_value") == []
    deal = org.deal("Acme data platform")
    assert deal is not None and deal["service_line_id"] == "sl-data"


def test_drift_found_by_reconcile_is_replayed(org: Org) -> None:
    deal_id = org.ids["Acme ERP rollout"]
    org.sf.Opportunity.update(deal_id, {"Amount": 64000.0})
    code, out, output = org.cli("reconcile", "--system", "crm", "--json")
    assert code == 0, output
    # reconcile also reports reference fields (account_id) and nested lines as drift; the
    # amount changed only on this deal.
    (drift,) = [d for d in org.active("drift") if "amount" in d.details.get("fields", [])]
    assert drift.source_id == deal_id

    code, out, output = org.cli("exceptions", "replay", drift.id, "--json")
    assert code == 0, output
    assert out[0]["state"] == "resolved"
    deal = org.deal("Acme ERP rollout")
    assert deal is not None and deal["amount"]["amount"] == "64000"
    code, out, output = org.cli("reconcile", "--system", "crm", "--json")
    assert code == 0, output
    assert not [d for d in org.active("drift") if "amount" in d.details.get("fields", [])]


def test_a_hard_delete_found_by_reconcile_is_replayed(org: Org) -> None:
    org.sf.Opportunity.delete(org.ids["Acme ERP rollout"])
    code, out, output = org.cli("reconcile", "--system", "crm", "--json")
    assert code == 0, output
    (gone,) = org.active("hard_delete")
    assert gone.source_id == org.ids["Acme ERP rollout"]
    assert org.deal("Acme ERP rollout") is not None

    code, out, output = org.cli("exceptions", "replay", "--category", "hard_delete", "--json")
    assert code == 0, output
    assert out[0]["state"] == "resolved"
    assert org.deal("Acme ERP rollout") is None
    assert org.active("hard_delete") == []
