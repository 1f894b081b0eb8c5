""" "Did you mean": a crosswalk's known values most like one it does not hold.

A sales team types "GTXPro" where the crosswalk knows "GTX Pro"; the exception should say so,
with a score, so whoever fixes it adds the right entry in one step. Values are compared with
case, spacing and punctuation removed (rapidfuzz's `default_process` plus dropping spaces), by
normalised Indel similarity (`fuzz.ratio`), which scores such respellings near 1.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz, process

CUTOFF = 0.75  # below this a suggestion misleads more than it helps
LIMIT = 3
_NOT_WORD = re.compile(r"[\W_]+")


@dataclass(frozen=True)
class Suggestion:
    value: str  # a value the crosswalk knows
    maps_to: str  # what it maps to
    score: float  # similarity in [0, 1]

    def describe(self) -> str:
        return f"{self.value!r} (-> {self.maps_to}, score {self.score:.2f})"

    def as_dict(self) -> dict[str, object]:
        return {"value": self.value, "maps_to": self.maps_to, "score": self.score}


@lru_cache(maxsize=4096)
def squash(text: str) -> str:
    """Lower case, letters and digits only: "GTX Pro" and "gtx-pro" are both "gtxpro"."""
    return _NOT_WORD.sub("", text.casefold())


def suggest(value: str, table: Mapping[str, str], limit: int = LIMIT) -> tuple[Suggestion, ...]:
    """The known values of `table` most like `value` (score >= CUTOFF), best first."""
    if not value or not table:
        return ()
    keys = list(table)
    found = process.extract(
        squash(value),
        [squash(k) for k in keys],
        scorer=fuzz.ratio,
        limit=limit,
        score_cutoff=CUTOFF * 100,
    )
    return tuple(
        Suggestion(keys[index], str(table[keys[index]]), round(score / 100, 2))
        for _, score, index in found
    )
