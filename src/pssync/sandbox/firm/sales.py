"""The sales pipeline: deals that move through stages, slip, and are won or lost.

Each deal's whole life is simulated up front, including the part after "today"; the history
(every stage change a dated fact) is what lies before today and the rest is the script the
activity clock plays. CRM probabilities are the stage defaults while real advance rates are
lower (sales optimism), close dates slip as deals drag, and a few deals go stale: still open
with a close date long past because nobody updates them.
"""

from __future__ import annotations

import bisect
import datetime as dt
import random

from pssync.sandbox.firm.reference import Reference
from pssync.sandbox.firm.units import add_months, at, month_start
from pssync.sandbox.firm.world import (
    ADVANCE,
    LOST,
    STAGES,
    WON,
    AccountRec,
    LineItem,
    OppRec,
    StageEvent,
)

CATEGORY_TEXT = {
    "ERP": ("ERP Implementation", "erp impl.", "S/4 migration", "ERP rollout"),
    "CLOUD": ("Cloud", "cloud migration", "Infra & Cloud", "AWS landing zone"),
    "DATA": ("Data & Analytics", "analytics", "BI / Reporting", "Data platform"),
    "TRANS": ("Transformation", "Business transformation", "Op model redesign", "Change mgmt"),
    "SEC": ("Security", "Cyber", "ISO27001 readiness", "Pen testing"),
    "AMS": ("Managed Services", "Run & maintain", "Support retainer", "App support"),
}
METHOD_WEIGHTS = {"time_and_materials": 40, "fixed_fee": 25, "milestone": 20, "retainer": 15}
#: Typical half-hours per working day one deal needs from a role (low, high).
DAILY_HALVES = {"SA": (3, 10), "EM": (2, 6), "PM": (3, 8), "CM": (4, 10)}
STALE_RATE = 0.04


def category_text(service_line: str, rng: random.Random) -> str:
    """What a rep types into the free-text Service Category field."""
    if rng.random() < 0.55:
        return service_line
    return rng.choice(CATEGORY_TEXT[service_line])


def _line_items(
    ref: Reference, service_line: str, currency: str, weeks: int, rng: random.Random
) -> list[LineItem]:
    roles = ref.template_roles(service_line)
    picked = [r for r in roles if r == "SA" and rng.random() < 0.7]
    others = [r for r in roles if r != "SA"]
    picked += rng.sample(others, k=min(len(others), rng.randint(*ref.params.roles_per_deal)))
    lines = []
    for role in sorted(picked, key=roles.index):
        low, high = DAILY_HALVES.get(role, (4, 16))
        halves = max(1, round(rng.randint(low, high) * ref.params.intensity))
        hours = max(8, halves * weeks * 5 // 2)
        lines.append(LineItem(role, hours, ref.bill_cents(role, currency)))
    return lines


def _timeline(
    opp: OppRec, created: dt.datetime, today: dt.date, rng: random.Random, force_stale: bool = False
) -> None:
    """Simulate stage changes from creation to close; may mark the deal stale."""
    close = created.date() + dt.timedelta(days=rng.randint(45, 150))
    events = [StageEvent(created, STAGES[0][0], STAGES[0][1], close)]
    opp.requested_start = add_months(month_start(close + dt.timedelta(days=14)), 1)
    stale = force_stale or (rng.random() < STALE_RATE and (today - created.date()).days > 200)
    freeze_after = rng.randint(1, 3) if stale else 99
    t, stage = created, 0
    while True:
        t = at(
            t.date() + dt.timedelta(days=rng.randint(7, 40)), rng.randint(8, 18), rng.randint(0, 59)
        )
        if len(events) > freeze_after:
            break
        if t.date() > close - dt.timedelta(days=5) or rng.random() < 0.2:
            close = max(close, t.date()) + dt.timedelta(days=rng.randint(14, 60))
        if stale or rng.random() < ADVANCE[stage]:
            stage += 1
            if stage == len(STAGES):
                events.append(StageEvent(t, WON[0], WON[1], t.date()))
                break
            events.append(StageEvent(t, STAGES[stage][0], STAGES[stage][1], close))
        else:
            events.append(StageEvent(t, LOST[0], LOST[1], t.date()))
            break
    if len(events) > freeze_after:
        last = events[-1]
        frozen_close = last.at.date() + dt.timedelta(days=rng.randint(10, 30))
        last.close_date = frozen_close
        if frozen_close < today - dt.timedelta(days=60):
            opp.stale = True
            lost_at = at(today + dt.timedelta(days=rng.randint(20, 200)), 10)
            events.append(StageEvent(lost_at, LOST[0], LOST[1], lost_at.date()))
        else:
            events.append(StageEvent(t, LOST[0], LOST[1], t.date()))
    opp.events = events


def build_opportunities(ref: Reference, accounts: list[AccountRec], seed: int) -> list[OppRec]:
    rng = random.Random(f"sales:{seed}")
    span = (ref.today - ref.history_start).days
    starts = sorted(
        at(
            ref.history_start + dt.timedelta(days=rng.randrange(span)),
            rng.randint(8, 18),
            rng.randint(0, 59),
        )
        for _ in range(ref.params.opportunities)
    )
    created_keys = [a.created for a in accounts]
    lines_codes = [code for code, _ in ref.service_lines]
    sl_names = dict(ref.service_lines)
    methods, method_w = list(METHOD_WEIGHTS), list(METHOD_WEIGHTS.values())
    opps = []
    for i, created in enumerate(starts):
        eligible = max(1, bisect.bisect_right(created_keys, created))
        acc = (
            accounts[rng.randrange(min(eligible, max(1, eligible // 5)))]
            if rng.random() < 0.4
            else accounts[rng.randrange(eligible)]
        )
        sl = rng.choice(lines_codes)
        method = (
            "retainer"
            if sl == "AMS" and rng.random() < 0.7
            else rng.choices(methods, weights=method_w)[0]
        )
        months = (
            rng.randint(6, 12)
            if method == "retainer"
            else max(1, min(12, round(rng.gauss(ref.params.mean_duration_months, 2))))
        )
        weeks = max(2, round(months * 4.33))
        opp = OppRec(
            idx=i,
            id=f"opp-{i + 1:05d}",
            account=acc.idx,
            name=f"{acc.name} {sl_names[sl]} {created.year}",
            service_line=sl,
            category_text=category_text(sl, rng),
            region=acc.region,
            legal_entity=acc.legal_entity,
            currency=acc.currency,
            revenue_method=method,
            duration_months=months,
            requested_start=dt.date.min,
            owner=acc.owner if rng.random() < 0.8 else rng.randrange(ref.params.sales_reps),
            lines=_line_items(ref, sl, acc.currency, weeks, rng),
        )
        _timeline(opp, created, ref.today, rng)
        opps.append(opp)
    _ensure_stale(opps, ref.today, seed)
    return opps


def _ensure_stale(opps: list[OppRec], today: dt.date, seed: int) -> None:
    """Every firm has at least one stale deal: re-play an old lost deal that nobody closed."""
    if any(o.stale for o in opps):
        return
    old_lost = [
        o
        for o in opps
        if not o.outcome().is_won and o.created.date() < today - dt.timedelta(days=300)
    ]
    if old_lost:
        opp = old_lost[0]
        _timeline(opp, opp.created, today, random.Random(f"stale:{seed}"), force_stale=True)
