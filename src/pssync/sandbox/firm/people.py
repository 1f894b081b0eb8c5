"""The firm's people: consultants who can be staffed, and the sales reps who own deals.

Every region gets at least one consultant per role before the rest are spread by demand
weights, so small firms still staff every template; architects and engagement managers are
deliberately scarce because scarce roles are where late starts come from.
"""

from __future__ import annotations

import datetime as dt
import random

from pssync.sandbox.firm.names import email_local, person
from pssync.sandbox.firm.reference import TEMPLATE_ROLES, Reference
from pssync.sandbox.firm.units import at
from pssync.sandbox.firm.world import Person, SalesRep

ROLE_WEIGHT = {
    "EM": 0.9,
    "SA": 1.1,
    "PM": 1.4,
    "SC": 3.0,
    "CON": 3.0,
    "AN": 2.0,
    "DE": 1.5,
    "DEV": 2.0,
    "CE": 1.4,
    "SEC": 1.0,
    "CM": 0.8,
    "QA": 1.0,
}
REGION_WEIGHT = {"NA": 0.45, "EMEA": 0.35, "APAC": 0.2}
FIRM_DOMAIN = "meridian-advisory.example"


def _home_service_line(ref: Reference, role: str) -> str:
    for code, _ in ref.service_lines:
        if role in TEMPLATE_ROLES[code]:
            return code
    return ref.service_lines[0][0]


def build_people(ref: Reference, seed: int) -> list[Person]:
    rng = random.Random(f"people:{seed}")
    roles = [r.code for r in ref.roles]
    regions = [r.code for r in ref.regions]
    base = [(region, role) for region in regions for role in roles]
    extra = max(0, ref.params.consultants - len(base))
    weights = [REGION_WEIGHT[g] * ROLE_WEIGHT[r] for g, r in base]
    # The first consultant of each region and role is a veteran, so no cell starts empty.
    cells = [(g, r, True) for g, r in base] + [
        (g, r, False) for g, r in rng.choices(base, weights=weights, k=extra)
    ]
    cells = cells[: ref.params.consultants]
    cells.sort(key=lambda c: (regions.index(c[0]), roles.index(c[1]), not c[2]))
    people: list[Person] = []
    span = (ref.today - ref.history_start).days
    used: set[str] = set()
    for i, (region, role, veteran) in enumerate(cells):
        first, last = person(rng)
        local = email_local(first, last)
        while local in used:
            local = f"{local}{len(used) % 97}"
        used.add(local)
        if veteran or rng.random() < 0.75:
            hired = ref.history_start - dt.timedelta(days=rng.randint(30, 2_500))
        else:
            hired = ref.history_start + dt.timedelta(days=rng.randint(0, span - 60))
        people.append(
            Person(
                idx=i,
                id=f"res-{i + 1:04d}",
                first=first,
                last=last,
                email=f"{local}@{FIRM_DOMAIN}",
                role=role,
                region=region,
                service_line=_home_service_line(ref, role),
                hired=hired,
            )
        )
    return people


def build_sales_reps(ref: Reference, seed: int) -> list[SalesRep]:
    rng = random.Random(f"reps:{seed}")
    reps = []
    for i in range(ref.params.sales_reps):
        first, last = person(rng)
        created = at(ref.history_start - dt.timedelta(days=rng.randint(10, 900)), 9)
        reps.append(
            SalesRep(
                i,
                f"usr-{i + 1:03d}",
                first,
                last,
                f"{email_local(first, last)}{i}@{FIRM_DOMAIN}",
                created,
            )
        )
    return reps
