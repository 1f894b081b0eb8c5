"""`generate_world(seed)`: one firm of the family, as canonical truth at valid time.

The order is fixed: draw the traits, walk the deals, plan the won work, hire to lagged demand,
place and deliver the work, recognise revenue, then write every fact stamped at noon UTC of
the day it became true, dropping those after `today`. Each stage draws from its own named
random stream, so one seed always gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass

from pssync.sandbox.worlds import emit, records
from pssync.sandbox.worlds.delivery import Job, deliver, demand, plan_jobs
from pssync.sandbox.worlds.finance import Books, recognise
from pssync.sandbox.worlds.market import Deal, build_deals
from pssync.sandbox.worlds.staffing import Capacity, Person, Weeks, hire
from pssync.sandbox.worlds.traits import WorldTraits, draw_traits

DEFAULT_TODAY = dt.date(2026, 6, 1)
HISTORY_YEARS = 4
SYSTEMS = {
    "Opportunity": "salesforce",
    "Account": "salesforce",
    "Project": "kantata",
    "Resource": "kantata",
    "Assignment": "kantata",
    "TimeEntry": "kantata",
}


@dataclass
class World:
    traits: WorldTraits
    start: dt.date
    today: dt.date
    accounts: int
    deals: list[Deal]
    jobs: list[Job]
    people: list[Person]
    books: dict[int, Books]

    def facts(self) -> list[emit.Fact]:
        out = emit.reference(self.traits, self.start, self.today)
        out += emit.accounts(self.accounts, self.start)
        out += emit.people(self.traits, self.people)
        for deal in self.deals:
            out += emit.opportunity(deal)
        for job in self.jobs:
            out += records.project(job)
            out += records.contract(job, self.books[job.idx])
            out += records.delivery(job, self.books[job.idx])
        return [f for f in out if f[0] < self.today]

    def truth_lines(self) -> Iterator[str]:
        """Canonical JSONL in valid-time order (ties in emission order)."""
        for day, entity_type, payload in sorted(self.facts(), key=lambda f: f[0]):
            at = dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)
            yield json.dumps(
                {
                    "entity_type": entity_type,
                    "valid_from": at.isoformat(),
                    "system": SYSTEMS.get(entity_type, "netsuite"),
                    "source_record": None,
                    "payload": payload,
                },
                sort_keys=True,
                separators=(",", ":"),
            )


def generate_world(seed: int, today: dt.date = DEFAULT_TODAY) -> World:
    traits = draw_traits(seed)
    start = dt.date(today.year - HISTORY_YEARS, today.month, 1)
    n_accounts = random.Random(f"worlds:{seed}:accounts").randint(30, 80)
    deals = build_deals(traits, start, today, n_accounts)
    wins = sorted((d for d in deals if d.won), key=lambda d: (d.events[-1].at, d.idx))
    jobs = plan_jobs(traits, wins)
    weeks = Weeks(traits, start, (HISTORY_YEARS + 3) * 53)
    months = []
    month = start
    while weeks.index(month) < weeks.n - 1:
        months.append(month)
        month = (month + dt.timedelta(days=32)).replace(day=1)
    people = hire(traits, weeks, demand(weeks, jobs), months)
    capacity = Capacity(weeks, people)
    deliver(traits, weeks, capacity, people, jobs)
    books = recognise(traits, jobs)
    return World(traits, start, today, n_accounts, deals, jobs, people, books)
