"""The value held back by open exceptions: deals kept out of the golden data (and so out of the
forecast) by an exception, per category, as a line of its own beside the forecast.

A deal refused at ingest (an unmapped value, a missing account) or held by its CSV row keeps
its source record on the exception. That record is translated again here, leniently: every
field that translates counts (the amount, the probability, the close date), the failing one
does not matter for the value. Each held deal is counted once, under the category of its
oldest open exception (a deal with two problems is not held back twice). Line items waiting
for their deal (`orphan_line_item`) are part of that deal's value and are not counted again.

Money stays in its own currency (no conversion without a rate): one line per category and
currency, with the deals' amount, their open amount (not closed) and the open amount weighted
by each deal's probability (as the pipeline weights it).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from pssync.mapping.spec import MappingSpec
from pssync.mapping.translator import Translator
from pssync.store.problems import ACTIVE

DEAL = "Opportunity"
NOT_COUNTED = frozenset({"orphan_line_item"})  # part of a deal counted under its own category


@dataclass(frozen=True)
class HeldDeal:
    exception_id: str
    category: str
    record: str  # system:object:source id
    currency: str
    amount: Decimal
    probability: Decimal | None
    is_closed: bool
    is_won: bool


@dataclass
class HeldBackLine:
    category: str
    currency: str
    deals: int = 0
    amount: Decimal = Decimal(0)
    open_amount: Decimal = Decimal(0)
    weighted: Decimal = Decimal(0)
    won_amount: Decimal = Decimal(0)
    unvalued: int = 0  # held deals whose amount could not be read

    def as_dict(self) -> dict[str, Any]:
        return {
            "category": self.category,
            "currency": self.currency,
            "deals": self.deals,
            "amount": str(self.amount),
            "open_amount": str(self.open_amount),
            "weighted": str(self.weighted.quantize(Decimal("0.01"))),
            "won_amount": str(self.won_amount),
            "unvalued": self.unvalued,
        }


def _decimal(value: Any) -> Decimal | None:
    try:
        return None if value in (None, "") else Decimal(str(value))
    except InvalidOperation:
        return None


def _fields(
    payload: dict[str, Any], translators: Mapping[str, Translator], cache: dict[str, Translator]
) -> tuple[str, dict[str, Any]] | None:
    """(record label, translated fields) of a held record's payload, or None."""
    if {"values", "mapping", "entity"} <= payload.keys():  # a CSV row and its saved mapping
        key = json.dumps(payload["mapping"], sort_keys=True)
        if key not in cache:
            cache[key] = Translator(MappingSpec.model_validate(payload["mapping"]))
        translator, obj = cache[key], str(payload["entity"])
        data = dict(payload["values"])
        label = f"csv:{payload.get('file')}:{payload.get('row')}"
    elif {"system", "object", "record"} <= payload.keys():  # a source record refused at ingest
        found = translators.get(str(payload["system"]))
        if found is None:
            return None
        translator, obj = found, str(payload["object"])
        data = dict(payload["record"].get("data") or {})
        label = f"{payload['system']}:{obj}:{payload['record'].get('id')}"
    else:
        return None
    try:
        if translator.object_map(obj).entity != DEAL:
            return None
    except KeyError:
        return None
    fields, _ = translator.to_canonical_partial(obj, data)
    return label, fields


def held_deals(exceptions: Iterable[Any], translators: Mapping[str, Translator]) -> list[HeldDeal]:
    """The deals the open exceptions hold, each once (its oldest exception's category)."""
    active = {s.value for s in ACTIVE}
    cache: dict[str, Translator] = {}
    seen: dict[str, HeldDeal] = {}
    for exc in sorted(exceptions, key=lambda e: str(e.created_at)):
        if str(exc.state) not in active or exc.category in NOT_COUNTED or not exc.payload:
            continue
        try:
            payload = json.loads(exc.payload)
        except ValueError:
            continue
        if not isinstance(payload, dict):
            continue
        found = _fields(payload, translators, cache)
        if found is None or found[0] in seen:
            continue
        label, fields = found
        found_money = fields.get("amount")
        money: dict[str, Any] = found_money if isinstance(found_money, dict) else {}
        amount = _decimal(money.get("amount"))
        probability = _decimal(fields.get("probability"))
        seen[label] = HeldDeal(
            exc.id,
            exc.category,
            label,
            str(money.get("currency") or "?"),
            amount if amount is not None else Decimal(-1),
            probability,
            bool(fields.get("is_closed")),
            bool(fields.get("is_won")),
        )
    return list(seen.values())


def held_back(
    exceptions: Iterable[Any], translators: Mapping[str, Translator]
) -> list[HeldBackLine]:
    """One line per category and currency of the value the open exceptions hold back."""
    lines: dict[tuple[str, str], HeldBackLine] = {}
    for deal in held_deals(exceptions, translators):
        line = lines.setdefault(
            (deal.category, deal.currency), HeldBackLine(deal.category, deal.currency)
        )
        line.deals += 1
        if deal.amount < 0:
            line.unvalued += 1
            continue
        line.amount += deal.amount
        if deal.is_won:
            line.won_amount += deal.amount
        if not deal.is_closed:
            line.open_amount += deal.amount
            share = deal.probability if deal.probability is not None else Decimal(0)
            line.weighted += deal.amount * share / 100  # probabilities are percents
    return sorted(lines.values(), key=lambda x: (-x.open_amount, x.category, x.currency))
