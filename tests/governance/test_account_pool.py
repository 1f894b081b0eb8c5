"""The duplicate check's account pool, brought up to date from the versions written since its
last read, holds what a pool read whole from the store would: new, renamed and deleted
accounts included."""

from __future__ import annotations

import datetime as dt

import pytest

from pssync.governance import quality
from pssync.model import parse_record
from pssync.store import Change, GoldenStore

T = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def account(record_id: str, name: str, tax_id: str | None = None) -> Change:
    payload = {"id": record_id, "name": name, "tax_id": tax_id}
    return Change(parse_record("Account", payload), T, "test")


def names(pool: quality.ProfileIndex) -> dict[str, str]:
    return {k: p.name for k, p in pool.profiles.items()}


def test_the_pool_follows_the_writes_since_its_last_read(
    store: GoldenStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    quality.forget()
    clock = [1000.0]
    monkeypatch.setattr(quality.time, "monotonic", lambda: clock[0])
    store.write([account("acc-1", "Alpha Consulting"), account("acc-2", "Beta Partners")])
    pool = quality.account_pool(store)
    assert names(pool) == {"acc-1": "alpha consulting", "acc-2": "beta partners"}

    # Another process writes: a new account, a renamed one, a deleted one.
    store.write([account("acc-3", "Gamma Group", "TX-3"), account("acc-1", "Alpha Advisory")])
    store.delete("Account", "acc-2", T + dt.timedelta(days=1), system="test")
    assert quality.account_pool(store) is pool  # within a few seconds: as it was
    assert "acc-3" not in pool.profiles

    clock[0] += quality._POOL_SECONDS + 1
    pool = quality.account_pool(store)
    assert names(pool) == {"acc-1": "alpha advisory", "acc-3": "gamma"}  # "group": a suffix
    assert pool._keys["tax_id"][pool.profiles["acc-3"].tax_id] == {"acc-3"}
    assert not pool._keys["word"].get("beta") and not pool._keys["word"].get("consulting")

    quality.forget()  # read whole: the same pool
    whole = quality.account_pool(store)
    assert names(whole) == names(pool)
    assert keys(whole) == keys(pool)


def keys(pool: quality.ProfileIndex) -> dict[str, dict[str, set[str]]]:
    """The index's keys that name a record."""
    found = {k: {key: ids for key, ids in v.items() if ids} for k, v in pool._keys.items()}
    return {k: v for k, v in found.items() if v}
