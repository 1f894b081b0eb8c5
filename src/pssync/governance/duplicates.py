"""Duplicate customer masters: normalise, compare, and explain why two accounts look alike.

Evidence, strongest first: the same tax ID (one legal entity; different tax IDs rule a match
out), the same web domain, a similar normalised name (rapidfuzz token-set ratio, legal suffixes
like "Inc." and "GmbH" removed), the same postcode and country. Pairs are found by blocking on
name similarity (rapidfuzz's C++ `cdist`) plus exact domain and tax-ID groups, so a few thousand
accounts compare in well under a second.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz, process

_LEGAL_SUFFIXES = {
    "inc", "incorporated", "corp", "corporation", "co", "company", "ltd", "limited", "llc", "llp",
    "plc", "gmbh", "ag", "sa", "sas", "sarl", "bv", "nv", "pty", "kg", "oy", "ab", "spa", "srl",
    "the", "group", "holdings", "holding", "intl", "international",
}  # fmt: skip
_NON_WORD = re.compile(r"[^a-z0-9]+")


def normalise_name(name: str | None) -> str:
    if not name:
        return ""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().casefold()
    ascii_name = ascii_name.replace("&", " and ")
    words = [w for w in _NON_WORD.split(ascii_name) if w and w not in _LEGAL_SUFFIXES]
    return " ".join(words)


def normalise_domain(domain: str | None) -> str:
    if not domain:
        return ""
    text = domain.strip().casefold()
    text = re.sub(r"^[a-z]+://", "", text).split("/")[0]
    return text.removeprefix("www.")


def normalise_tax_id(tax_id: str | None) -> str:
    return re.sub(r"[^A-Z0-9]", "", (tax_id or "").upper())


@dataclass(frozen=True)
class CustomerProfile:
    record_id: str
    name: str
    domain: str = ""
    tax_id: str = ""
    postal_code: str = ""
    country: str = ""
    display_name: str = ""

    @classmethod
    def from_account(cls, payload: dict[str, Any]) -> CustomerProfile:
        address = payload.get("billing_address") or {}
        return cls(
            record_id=str(payload["id"]),
            name=normalise_name(payload.get("name")),
            domain=normalise_domain(payload.get("domain")),
            tax_id=normalise_tax_id(payload.get("tax_id")),
            postal_code=str(address.get("postal_code") or "").replace(" ", "").upper(),
            country=str(address.get("country") or ""),
            display_name=str(payload.get("name") or ""),
        )


@dataclass
class Match:
    a: str
    b: str
    score: float
    reasons: list[str] = field(default_factory=list)


class DuplicateMatcher:
    """Scores account pairs in [0, 1]; `threshold` decides what counts as a probable duplicate."""

    def __init__(self, threshold: float = 0.85, block_cutoff: float = 70.0) -> None:
        self.threshold = threshold
        self.block_cutoff = block_cutoff

    def score(self, a: CustomerProfile, b: CustomerProfile) -> Match:
        name_sim = fuzz.token_set_ratio(a.name, b.name) / 100 if a.name and b.name else 0.0
        score, reasons = name_sim, [f"name similarity {name_sim:.2f}"]
        if a.tax_id and b.tax_id:
            if a.tax_id == b.tax_id:
                score, reasons = max(score, 0.97), [*reasons, "same tax ID"]
            else:
                score, reasons = min(score, 0.3), [*reasons, "different tax IDs"]
        if a.domain and b.domain:
            if a.domain == b.domain:
                score = max(score, 0.92 if name_sim >= 0.5 else 0.8)
                reasons.append("same domain")
            else:
                score *= 0.85
                reasons.append("different domains")
        if a.postal_code and a.postal_code == b.postal_code and a.country == b.country:
            score = min(1.0, score + 0.05)
            reasons.append("same postcode")
        return Match(a.record_id, b.record_id, round(score, 4), reasons)

    def candidates(self, profile: CustomerProfile, pool: Iterable[CustomerProfile]) -> list[Match]:
        """Probable duplicates of `profile` in `pool`, best first."""
        found = [
            self.score(profile, other) for other in pool if other.record_id != profile.record_id
        ]
        return sorted((m for m in found if m.score >= self.threshold), key=lambda m: -m.score)

    def find_pairs(self, profiles: Sequence[CustomerProfile]) -> list[Match]:
        """Every probable duplicate pair among `profiles` (each pair once, a before b)."""
        pairs: set[tuple[int, int]] = set()
        names = [p.name for p in profiles]
        if names:
            matrix = process.cdist(
                names, names, scorer=fuzz.token_set_ratio, score_cutoff=self.block_cutoff, workers=1
            )
            rows, cols = matrix.nonzero()
            pairs.update((int(i), int(j)) for i, j in zip(rows, cols, strict=True) if i < j)
        for key in ("domain", "tax_id"):
            groups: dict[str, list[int]] = defaultdict(list)
            for index, profile in enumerate(profiles):
                value = getattr(profile, key)
                if value:
                    groups[value].append(index)
            for members in groups.values():
                pairs.update((i, j) for i in members for j in members if i < j)
        matches = [self.score(profiles[i], profiles[j]) for i, j in sorted(pairs)]
        return [m for m in matches if m.score >= self.threshold]
