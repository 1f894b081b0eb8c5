"""Data-quality flags raised while a page is governed: accounts and deals.

Accounts without a legal entity, probable duplicate customer masters (with candidates and
scores) and open deals whose close date is long past are flagged. Flags do not block the
record — the golden store should still know the account — and resolve themselves when a later
version of the record no longer has the problem.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from pssync.engine.ports import ExceptionSink
from pssync.engine.stages import PageContext
from pssync.governance import check_policy
from pssync.governance.duplicates import CustomerProfile, DuplicateMatcher, Match, ProfileIndex
from pssync.governance.references import source_of
from pssync.model import CanonicalRecord
from pssync.store import GoldenStore
from pssync.store.history import utcnow
from pssync.store.problems import ACTIVE, NewException
from pssync.store.tables import exception_record, record_version
from pssync.store.versions import version_of_row

STALE_AFTER_DAYS = 60
_POOL_SECONDS = 5.0
_POOL_REBUILD_SECONDS = 60.0


def flag(
    exceptions: ExceptionSink,
    category: str,
    system: str | None,
    record: CanonicalRecord,
    field: str,
    message: str,
    details: dict[str, Any] | None = None,
    *,
    active: bool = True,
    modes: Mapping[str, str] | None = None,
    memo: dict[Any, Any] | None = None,
) -> None:
    """Raise (or, with `active=False`, auto-resolve) one problem of one record.

    With the checks' `modes` (pssync.yaml's `checks:`), a check that holds or rejects its record
    raises `RejectedError` instead, and the engine holds the record on its exception. With the
    page's `memo`, the fingerprints of the category's active exceptions are read once per page,
    so a record without the problem (most of them) costs no query."""
    if active and modes is not None:
        check_policy.enforce(modes, category, field, message)
    obj, source_id = source_of(system, record) if system else (None, None)
    payload = record.model_dump(mode="json")
    new = NewException(
        category=category,
        message=message,
        system=system,
        object=obj,
        source_id=source_id,
        entity_type=record.entity_type,
        record_id=record.id,
        region_id=payload.get("region_id"),
        service_line_id=payload.get("service_line_id"),
        details={"field": field, "stage": "govern", **(details or {})},
    )
    if memo is None:
        _apply_flags(exceptions, [new if active else new.fingerprint()])
        return
    active_now = _active_fingerprints(exceptions, category, memo)
    fingerprint = new.fingerprint()
    if active:
        active_now.add(fingerprint)
        memo.setdefault(_PENDING, []).append(new)
    elif fingerprint in active_now:  # a record without the problem (most) costs nothing
        active_now.discard(fingerprint)
        memo.setdefault(_PENDING, []).append(fingerprint)


# The page's flags not yet written, in order: a NewException to raise, or the fingerprint of
# one to resolve. `write_flags` writes them at the page's end.
_PENDING = "quality.pending"


def write_flags(ctx: PageContext) -> None:
    """The page's flags, written at its end in a few transactions instead of one per record
    (the page stage after the write; a crash before it re-applies the page, which flags its
    records again). A record's versions in one page flag in turn (raised by one, resolved by
    the next), so the n-th flag of every fingerprint is written in round n: each exception
    goes through the same states, in the same order, as when flagged one at a time."""
    pending: list[NewException | str] = ctx.memo.pop(_PENDING, [])
    rounds: list[list[NewException | str]] = []
    seen: dict[str, int] = {}
    for item in pending:
        fingerprint = item if isinstance(item, str) else item.fingerprint()
        n = seen[fingerprint] = seen.get(fingerprint, -1) + 1
        if n == len(rounds):
            rounds.append([])
        rounds[n].append(item)
    for items in rounds:
        _apply_flags(ctx.exceptions, items)


def _apply_flags(exceptions: ExceptionSink, items: list[NewException | str]) -> None:
    """Raise the NewExceptions of `items` in one batch and resolve the fingerprints in another
    (no fingerprint is in both)."""
    raised = [i for i in items if not isinstance(i, str)]
    if raised:
        exceptions.raise_many(raised, actor="governance")
    fixed = [i for i in items if isinstance(i, str)]
    if fixed:
        exceptions.resolve_fingerprints(fixed, "auto-resolved: fixed at the source", "governance")


def _active_fingerprints(
    exceptions: ExceptionSink, category: str, memo: dict[Any, Any]
) -> set[str]:
    """The fingerprints of `category`'s active exceptions, read once per page."""
    key = ("quality.active", category)
    if key not in memo:
        xr = exception_record.c
        query = select(xr.fingerprint).where(
            xr.category == category, xr.state.in_([s.value for s in ACTIVE])
        )
        with exceptions.engine.connect() as conn:
            memo[key] = {str(fp) for (fp,) in conn.execute(query)}
    found: set[str] = memo[key]
    return found


@dataclass
class _Pool:
    at: float  # when it was last brought up to date
    built: float  # when it was last read whole
    reading: float  # how long that took
    seen: int  # the highest account version_id read
    index: ProfileIndex


# Customer profiles per golden store (by URL), brought up to date at most every few seconds.
_pools: dict[str, _Pool] = {}


def account_pool(store: GoldenStore) -> ProfileIndex:
    """Customer profiles of the golden accounts, indexed for the duplicate check, brought up
    to date at most every few seconds (a page of accounts should not re-read every account
    once per record) from the account versions recorded since (`version_id` grows with each
    write), so that keeping it current costs the changes, not every account each time (which
    grew with accounts times sync time). Read whole now and then too (on PostgreSQL a
    version_id can commit after a higher one was read): every `_POOL_REBUILD_SECONDS`, or 20
    times as long as the last whole read took, so that reading it whole stays a twentieth of
    the time however many accounts there are."""
    key, now = store.url_text, time.monotonic()
    pool = _pools.get(key)
    if pool is None or now - pool.built > max(_POOL_REBUILD_SECONDS, 20 * pool.reading):
        seen = _last_version(store)
        index = ProfileIndex(
            CustomerProfile.from_account(v.payload) for v in store.iter_records("Account")
        )
        pool = _pools[key] = _Pool(now, now, time.monotonic() - now, seen, index)
    elif now - pool.at > _POOL_SECONDS:
        pool.seen = _read_changes(store, pool.index, pool.seen)
        pool.at = now
    return pool.index


def _last_version(store: GoldenStore) -> int:
    rv = record_version.c
    query = select(func.max(rv.version_id)).where(rv.entity_type == "Account")
    with store.engine.connect() as conn:
        return int(conn.execute(query).scalar() or 0)


def _read_changes(store: GoldenStore, index: ProfileIndex, after: int) -> int:
    """Re-read the accounts with a version recorded after `after` into `index` (dropping
    those no longer live); the highest version_id seen."""
    rv = record_version.c
    changed = select(rv.record_id, rv.version_id).where(
        rv.entity_type == "Account", rv.version_id > after
    )
    with store.engine.connect() as conn:
        rows = conn.execute(changed).all()
        ids = sorted({str(r.record_id) for r in rows})
        live: set[str] = set()
        for start in range(0, len(ids), 500):
            current = select(record_version).where(
                rv.entity_type == "Account",
                rv.record_id.in_(ids[start : start + 500]),
                rv.recorded_to.is_(None),
                rv.valid_to.is_(None),
                rv.deleted == 0,
            )
            for row in conn.execute(current):
                index.add(CustomerProfile.from_account(version_of_row(row).payload))
                live.add(str(row.record_id))
    for record_id in set(ids) - live:
        index.discard(record_id)
    return max([after, *(int(r.version_id) for r in rows)])


def forget() -> None:
    """Drop the cached customer profiles (tests that rewrite a store under one URL)."""
    _pools.clear()


def duplicate_candidates(
    store: GoldenStore, account: dict[str, Any], matcher: DuplicateMatcher | None = None
) -> list[Match]:
    """Probable duplicates of `account` among the golden accounts, best first."""
    profile = CustomerProfile.from_account(account)
    pool = account_pool(store)
    pool.add(profile)
    return (matcher or DuplicateMatcher()).candidates(profile, pool)


def candidates_detail(matches: list[Match], store: GoldenStore) -> list[dict[str, Any]]:
    pool = account_pool(store).profiles
    return [
        {
            "record_id": m.b,
            "name": pool[m.b].display_name if m.b in pool else None,
            "score": m.score,
            "reasons": m.reasons,
        }
        for m in matches
    ]


def account_checks(
    ctx: PageContext, record: CanonicalRecord, modes: Mapping[str, str] | None = None
) -> None:
    """Flag accounts without a legal entity and probable duplicate customer masters. The legal
    entity is what an ERP handoff contracts under, so a firm with no ERP connected (CRM only)
    is not asked for one."""
    if record.entity_type != "Account":
        return
    account = record.model_dump(mode="json")
    name = account.get("name") or record.id
    has_erp = "erp" in ctx.roles.values()
    flag(
        ctx.exceptions,
        "missing_legal_entity",
        ctx.system,
        record,
        "legal_entity_id",
        f"{name} has no legal entity: set the contracting entity on the account in {ctx.system}",
        active=has_erp and not account.get("legal_entity_id"),
        modes=modes,
        memo=ctx.memo,
    )
    matches = duplicate_candidates(ctx.store, account)
    detail = candidates_detail(matches, ctx.store)
    listed = ", ".join(f"{c['name']} ({c['record_id']}, {c['score']:.2f})" for c in detail)
    flag(
        ctx.exceptions,
        "duplicate_customer",
        ctx.system,
        record,
        "name",
        f"{name} looks like a duplicate of: {listed}",
        {"candidates": detail},
        active=bool(matches),
        modes=modes,
        memo=ctx.memo,
    )


def opportunity_checks(
    ctx: PageContext, record: CanonicalRecord, modes: Mapping[str, str] | None = None
) -> None:
    """Flag open deals whose close date is long past (the stage is stale)."""
    if record.entity_type != "Opportunity":
        return
    deal = record.model_dump(mode="json")
    close = dt.date.fromisoformat(deal["close_date"])
    overdue = (utcnow().date() - close).days
    flag(
        ctx.exceptions,
        "stale_stage",
        ctx.system,
        record,
        "stage",
        f"{deal['name']}: still {deal['stage']} but its close date {close} is {overdue} days "
        "past; update the stage or the close date",
        {"close_date": str(close), "days_overdue": overdue},
        active=not deal.get("is_closed") and overdue > STALE_AFTER_DAYS,
        modes=modes,
        memo=ctx.memo,
    )
