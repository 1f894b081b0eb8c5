"""Opportunity history from Salesforce: OpportunityFieldHistory in the emulator, read as dated
changes by the connector, agrees with the firm's own stage history (the ground truth)."""

from __future__ import annotations

import datetime as dt
import functools
import itertools
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from pssync.connectors.salesforce import SalesforceConnector, SalesforceSettings
from pssync.sandbox.firm import generate_firm
from pssync.sandbox.salesforce import SalesforceEmulator

pytestmark = pytest.mark.integration


@functools.cache
def firm() -> Any:
    return generate_firm("small")


@pytest.fixture(scope="module")
def org() -> Iterator[SalesforceEmulator]:
    view = firm().views["salesforce"]
    with SalesforceEmulator(id_seed=4) as emu:
        assert isinstance(emu, SalesforceEmulator)
        emu.seed(view)
        yield emu


@pytest.fixture(scope="module")
def conn(org: SalesforceEmulator) -> Iterator[SalesforceConnector]:
    assert org.tls is not None
    creds = org.credentials()
    settings = SalesforceSettings.model_validate(
        {
            "base_url": creds["instance_url"],
            "client_id": creds["client_id"],
            "client_secret": creds["client_secret"],
            "ca_file": str(org.tls.ca_file),
        }
    )
    connector = SalesforceConnector(settings)
    yield connector
    connector.close()


def test_history_matches_the_firms_stage_events(conn: SalesforceConnector) -> None:
    f = firm()
    changes = conn.opportunity_history()
    assert [c.changed_at for c in changes] == sorted(c.changed_at for c in changes)
    by_deal: dict[str, list[Any]] = {}
    for change in changes:
        by_deal.setdefault(change.record_id, []).append(change)
    cutoff = dt.datetime.combine(f.today, dt.time(), tzinfo=dt.UTC)
    checked = 0
    for opp in f.opps:
        sid = f.xrefs.get(opp.id, "salesforce:Opportunity")
        events = [e for e in opp.events if e.at < cutoff]
        mine = by_deal.get(sid, [])
        assert mine and mine[0].field == "created", opp.id
        stages = [c for c in mine if c.field == "stage"]
        expected = [
            (b.stage, a.stage, b.at.replace(second=0, microsecond=0))
            for a, b in itertools.pairwise(events)
            if a.stage != b.stage
        ]
        got = [(c.new, c.old, c.changed_at.replace(second=0, microsecond=0)) for c in stages]
        assert got == expected, opp.id
        dates = [c for c in mine if c.field == "close_date"]
        assert all(isinstance(c.new, dt.date) for c in dates)
        checked += 1
    assert checked == len(f.opps)


def test_api_writes_record_field_history_and_since_filters(
    org: SalesforceEmulator, conn: SalesforceConnector
) -> None:
    sf = conn.client()
    before = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    made = sf.Opportunity.create(
        {"Name": "History", "StageName": "Prospecting", "CloseDate": "2027-01-31", "Amount": 100}
    )["id"]
    sf.Opportunity.update(made, {"StageName": "Qualification", "Amount": 250.5})
    sf.Opportunity.update(made, {"CloseDate": "2027-03-31"})
    recent = [c for c in conn.opportunity_history(since=before) if c.record_id == made]
    assert [(c.field, c.old, c.new) for c in recent] == [
        ("created", None, None),
        ("stage", "Prospecting", "Qualification"),
        ("amount", Decimal("100"), Decimal("250.5")),
        ("close_date", dt.date(2027, 1, 31), dt.date(2027, 3, 31)),
    ]
    assert all(c.changed_at >= before for c in recent)
    with pytest.raises(Exception, match="SystemModstamp"):
        sf.query("SELECT SystemModstamp FROM OpportunityFieldHistory LIMIT 1")


def test_stage_history_gives_the_same_changes_as_field_history(conn: SalesforceConnector) -> None:
    """An org without field history tracking still has OpportunityHistory's snapshots."""
    fields = conn.opportunity_history()
    snapshots = conn.opportunity_history(source="stage_history")

    def key(changes: list[Any]) -> list[tuple[Any, ...]]:
        return sorted(
            (c.record_id, c.field, str(c.old), str(c.new), c.changed_at)
            for c in changes
            if c.record_id.startswith("006") and c.changed_at.year < 2027
        )

    seeded = {o["Id"] for o in firm().views["salesforce"]["Opportunity"]}
    assert key([c for c in snapshots if c.record_id in seeded]) == key(
        [c for c in fields if c.record_id in seeded]
    )
    with pytest.raises(ValueError, match="source"):
        conn.opportunity_history(source="audit_trail")
