"""A first sync backfills each deal's history in valid time, from Salesforce's own history.

Product path: the small firm's CRM in the Salesforce emulator (OpportunityHistory seeded from
the firm's deal events) -> `pssync sync` in a process of its own -> the golden store. Every
synced deal's chain of versions (stage, amount, close date, probability, closed/won), each
valid from when Salesforce recorded it, equals the firm's truth; all of it is recorded now.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from pssync.connectors.base import (
    Connector,
    ConnectorSettings,
    Deletion,
    ObjectDescription,
    Page,
    SourceRecord,
    UpsertResult,
)
from pssync.demo.config import _connector
from pssync.engine.backfill import with_history
from pssync.sandbox.up import Sandbox
from pssync.store import GoldenStore, open_engine

pytestmark = pytest.mark.integration

PSSYNC = str(Path(sys.executable).parent / "pssync")
FIELDS = ("stage", "amount", "close_date", "probability", "is_closed", "is_won")


@dataclass
class Synced:
    store: GoldenStore
    truth: list[str]
    started: dt.datetime


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synced]:
    base = tmp_path_factory.mktemp("backfill")
    sandbox = Sandbox.start_all("small", 0, state_dir=base / "state", systems=("salesforce",))
    try:
        info = sandbox.describe()["salesforce"]
        config = {
            "database_url": f"sqlite:///{base / 'pssync.db'}",
            "analytics_path": str(base / "pssync.duckdb"),
            "connectors": {"salesforce": _connector("salesforce", info)},
        }
        path = base / "pssync.yaml"
        path.write_text(yaml.safe_dump(config), encoding="utf-8")
        started = dt.datetime.now(dt.UTC)
        done = subprocess.run(
            [PSSYNC, "sync", "--system", "salesforce", "--json", "--config", str(path)],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
            cwd=base,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        engine = open_engine(config["database_url"])
        yield Synced(GoldenStore(engine), list(sandbox.firm.truth_lines()), started)
        engine.dispose()
    finally:
        sandbox.stop()


def _state(payload: dict[str, Any]) -> dict[str, Any]:
    state = {f: payload.get(f) for f in FIELDS}
    if state["amount"] is not None:  # Salesforce answers numbers: 1.0 and "1.00" are equal
        state["amount"] = (Decimal(state["amount"]["amount"]), state["amount"]["currency"])
    if state["probability"] is not None:
        state["probability"] = Decimal(state["probability"])
    return state


def _chain(versions: list[tuple[dt.datetime, dict[str, Any]]]) -> list[tuple[Any, ...]]:
    """(valid from, state) in valid-time order, consecutive equal states collapsed."""
    out: list[tuple[Any, ...]] = []
    for at, payload in sorted(versions, key=lambda v: v[0]):
        state = _state(payload)
        if not out or out[-1][1] != state:
            out.append((at, state))
    return out


def test_every_synced_deal_has_its_history_in_valid_time(synced: Synced) -> None:
    truth: dict[str, list[tuple[dt.datetime, dict[str, Any]]]] = defaultdict(list)
    for line in synced.truth:
        obj = json.loads(line)
        if obj["entity_type"] == "Opportunity":
            sf = obj["payload"]["xrefs"]["salesforce:Opportunity"]
            truth[sf].append((dt.datetime.fromisoformat(obj["valid_from"]), obj["payload"]))
    ours: dict[str, list[tuple[dt.datetime, dict[str, Any]]]] = defaultdict(list)
    for v in synced.store.iter_versions("Opportunity"):
        assert v.recorded_from >= synced.started  # recorded time: when pssync learned it
        ours[v.payload["xrefs"]["salesforce:Opportunity"]].append((v.valid_from, v.payload))
    assert len(ours) > 150
    with_changes = [sf for sf, chain in ours.items() if len(_chain(chain)) > 1]
    assert len(with_changes) > 100  # most deals moved through stages before today
    for sf, chain in ours.items():
        assert _chain(chain) == _chain(truth[sf]), sf


def test_a_deals_line_items_are_in_its_earlier_states(synced: Synced) -> None:
    """Line items come after their deal and are nested into it; stamped when the deal was
    created, they belong to every state the backfill wrote from then on, so a forecast as of
    a past day sees the deal's estimate (its demand by role), as the truth has it."""
    truth: dict[str, list[tuple[dt.datetime, int]]] = defaultdict(list)
    for line in synced.truth:
        obj = json.loads(line)
        if obj["entity_type"] == "Opportunity":
            sf = obj["payload"]["xrefs"]["salesforce:Opportunity"]
            at = dt.datetime.fromisoformat(obj["valid_from"])
            truth[sf].append((at, len(obj["payload"].get("line_items") or [])))
    checked = 0
    for v in synced.store.iter_versions("Opportunity"):
        sf = v.payload["xrefs"]["salesforce:Opportunity"]
        lines = len(v.payload.get("line_items") or [])
        wanted = [n for at, n in sorted(truth[sf]) if at <= v.valid_from][-1]
        if lines or v.valid_to is not None:  # a deal whose lines are held keeps none
            assert lines == wanted, (sf, v.valid_from, lines, wanted)
            checked += lines > 0 and v.valid_to is not None
    assert checked > 100  # earlier states, not only the current ones, carry their lines


def test_a_deal_as_of_a_past_date_is_what_salesforce_said_then(synced: Synced) -> None:
    deal = next(
        v
        for v in synced.store.iter_records("Opportunity")
        if v.payload["is_closed"] and v.payload["is_won"]
    )
    history = sorted(
        (v for v in synced.store.iter_versions("Opportunity") if v.record_id == deal.record_id),
        key=lambda v: v.valid_from,
    )
    first = history[0]
    before = first.valid_from - dt.timedelta(seconds=1)
    assert synced.store.get("Opportunity", deal.record_id, valid_at=before) is None
    then = synced.store.get("Opportunity", deal.record_id, valid_at=first.valid_from)
    assert then is not None and not then.payload["is_won"]


class _History(Connector):
    """A connector whose only answer is its history (the engine function needs no more)."""

    name = "history"

    def __init__(self, states: list[SourceRecord]) -> None:
        super().__init__(ConnectorSettings(base_url="https://example.invalid"))
        self.states = states

    def history(self, obj: str, records: Sequence[SourceRecord]) -> list[SourceRecord]:
        return self.states

    def snapshot(self, obj: str) -> Iterator[Page]:
        raise NotImplementedError

    def changes(self, obj: str, cursor: str | None) -> Iterator[Page]:
        raise NotImplementedError

    def deletes(self, obj: str, cursor: str | None) -> tuple[list[Deletion], str | None]:
        raise NotImplementedError

    def upsert(self, obj: str, external_id_field: str, records: Any) -> list[UpsertResult]:
        raise NotImplementedError

    def describe(self, obj: str) -> ObjectDescription:
        raise NotImplementedError


def _rec(rid: str, day: int, stage: str) -> SourceRecord:
    return SourceRecord(
        "Opportunity", rid, {"StageName": stage}, dt.datetime(2026, 1, day, tzinfo=dt.UTC)
    )


def test_states_precede_their_record_oldest_first_and_never_after_it() -> None:
    current = [_rec("a", 10, "Closed Won"), _rec("b", 5, "Prospecting")]
    states = [_rec("a", 3, "Proposal"), _rec("a", 1, "Prospecting"), _rec("a", 12, "Late"),
              _rec("b", 5, "Same instant"), _rec("c", 1, "Not in the page")]  # fmt: skip
    out = with_history(_History(states), "Opportunity", current)
    assert [(r.id, r.data["StageName"]) for r in out] == [
        ("a", "Prospecting"),
        ("a", "Proposal"),
        ("a", "Closed Won"),
        ("b", "Prospecting"),
    ]


def test_records_already_held_and_deleted_ones_keep_their_history() -> None:
    current = [_rec("a", 10, "Closed Won"), _rec("b", 10, "Closed Won")]
    current.append(SourceRecord("Opportunity", "c", {}, None, deleted=True))
    states = [_rec("a", 3, "Proposal"), _rec("b", 3, "Proposal"), _rec("c", 1, "Proposal")]
    out = with_history(_History(states), "Opportunity", current, held={"a"})
    assert [(r.id, r.data.get("StageName")) for r in out] == [
        ("a", "Closed Won"),
        ("b", "Proposal"),
        ("b", "Closed Won"),
        ("c", None),
    ]
