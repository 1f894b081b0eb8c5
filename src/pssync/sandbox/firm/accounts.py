"""Customers and their contacts, with the payment behaviour collections will later show.

Whether an account pays promptly or slowly is decided here, once, so that every invoice of a
slow payer is late in the same way: that persistence is what a collections forecast can learn.
"""

from __future__ import annotations

import datetime as dt
import random

from pssync.sandbox.firm.names import (
    INDUSTRIES,
    TITLES,
    company_names,
    email_local,
    legal_name,
    person,
)
from pssync.sandbox.firm.people import REGION_WEIGHT
from pssync.sandbox.firm.reference import Reference
from pssync.sandbox.firm.units import at
from pssync.sandbox.firm.world import AccountRec, ContactRec

CITIES = {
    "NA": ("New York", "Chicago", "Austin", "Seattle", "Boston", "Atlanta"),
    "EMEA": ("Berlin", "Munich", "Hamburg", "Frankfurt", "Cologne", "Stuttgart"),
    "APAC": ("Sydney", "Melbourne", "Brisbane", "Perth", "Adelaide"),
}
TLD = {"US": "com", "DE": "de", "AU": "com.au"}


def build_accounts(ref: Reference, seed: int) -> list[AccountRec]:
    rng = random.Random(f"accounts:{seed}")
    regions = [r.code for r in ref.regions]
    weights = [REGION_WEIGHT[r] for r in regions]
    span = (ref.today - ref.history_start).days
    drafts = []
    for base, sector in company_names(ref.params.accounts, rng):
        region = rng.choices(regions, weights=weights)[0]
        le = ref.entity_of_region(region)
        if rng.random() < 0.7:
            created = ref.history_start - dt.timedelta(days=rng.randint(1, 1_500))
        else:
            created = ref.history_start + dt.timedelta(days=rng.randint(0, int(span * 0.85)))
        drafts.append(
            (at(created, rng.randint(8, 17), rng.randint(0, 59)), base, sector, region, le)
        )
    drafts.sort(key=lambda d: (d[0], d[1]))
    accounts = []
    for i, (created, base, sector, region, le) in enumerate(drafts):
        payer = rng.choices(("prompt", "slow", "very_slow"), weights=(60, 30, 10))[0]
        slug = "".join(c for c in base.lower() if c.isalnum())
        accounts.append(
            AccountRec(
                idx=i,
                id=f"acc-{i + 1:05d}",
                name=base,
                legal_name=legal_name(base, le.country, rng),
                sector=INDUSTRIES.get(sector, "Other"),
                region=region,
                legal_entity=le.code,
                tax_code=rng.choice(le.tax_codes),
                payment_terms=rng.choice(le.payment_terms),
                currency=le.currency,
                created=created,
                domain=f"{slug}.{TLD[le.country]}",
                city=rng.choice(CITIES[region]),
                payer=payer,
                owner=rng.randrange(ref.params.sales_reps),
            )
        )
    return accounts


def build_contacts(ref: Reference, accounts: list[AccountRec], seed: int) -> list[ContactRec]:
    rng = random.Random(f"contacts:{seed}")
    contacts: list[ContactRec] = []
    for acc in accounts:
        for j in range(rng.randint(1, ref.params.max_contacts_per_account)):
            first, last = person(rng)
            created = acc.created + dt.timedelta(
                days=rng.randint(0, 60), minutes=rng.randint(1, 600)
            )
            contacts.append(
                ContactRec(
                    id=f"con-{len(contacts) + 1:06d}",
                    account=acc.idx,
                    first=first,
                    last=last,
                    email=f"{email_local(first, last)}@{acc.domain}",
                    phone=f"+1-555-{rng.randint(100, 999)}-{rng.randint(1000, 9999)}",
                    title=rng.choice(TITLES),
                    is_billing=j == 0,
                    created=created,
                )
            )
    return contacts
