"""Duplicate customer masters: normalise, compare, and explain why two accounts look alike.

Evidence, strongest first: the same tax ID (one legal entity; different tax IDs rule a match
out), the same web domain, a similar normalised name (rapidfuzz token-set ratio, legal suffixes
like "Inc." and "GmbH" removed), the same postcode and country. Pairs are found by blocking on
name similarity (rapidfuzz's C++ `cdist`) plus exact domain and tax-ID groups, so a few thousand
accounts compare in well under a second.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz, process
from rapidfuzz.distance import DamerauLevenshtein

_LEGAL_SUFFIXES = {
    "inc", "incorporated", "corp", "corporation", "co", "company", "ltd", "limited", "llc", "llp",
    "plc", "gmbh", "ag", "sa", "sas", "sarl", "bv", "nv", "pty", "kg", "oy", "ab", "spa", "srl",
    "the", "group", "holdings", "holding", "intl", "international", "se", "kgaa", "ug", "lp",
    "pte",
}  # fmt: skip
_NON_WORD = re.compile(r"[^a-z0-9]+")
# Similarity of two names that differ only in where the words break.
JOINED_WORDS = 0.93


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


# The most a name pair whose words carry different numbers scores ("Store 12", "Store 21").
NUMBERED_SIBLINGS = 0.6


def name_similarity(a: str, b: str) -> tuple[float, bool]:
    """(similarity in [0, 1], whether one name's words are a strict subset of the other's).

    Edit distance, not token overlap: a clerk's variant of a name is a typo, a case or suffix
    change (gone after normalisation) or a dropped word. A swapped pair of letters counts as one
    edit. A dropped word is reported as a subset, which alone is not enough ("Cobalt" is not
    necessarily "Cobalt Retail"): the caller decides with the rest of the evidence.
    """
    if not a or not b:
        return 0.0, False
    if a == b:
        return 1.0, False
    joined_a, joined_b = a.replace(" ", ""), b.replace(" ", "")
    if joined_a == joined_b:
        # The same letters split into words differently ("Beta Tech", "Betatech").
        return JOINED_WORDS, False
    similarity = fuzz.ratio(a, b) / 100
    if DamerauLevenshtein.distance(a, b) <= 1 and min(len(a), len(b)) >= 5:
        similarity = max(similarity, 0.92)
    words_a, words_b = set(a.split()), set(b.split())
    only_a, only_b = words_a - words_b, words_b - words_a
    if _numbers(only_a) != _numbers(only_b):
        # "Store 12" and "Store 21", "Account 1" and "Account 10": numbered siblings.
        return min(similarity, NUMBERED_SIBLINGS), False
    if only_a and only_b and not _typo_pairs(only_a, only_b):
        # A different word where the other name has its own ("Biotech" vs "Agritech",
        # "Datum" vs "Adatum") names a different company, however alike the letters.
        similarity = min(similarity, 0.7)
    return similarity, words_a != words_b and (words_a <= words_b or words_b <= words_a)


def _numbers(words: set[str]) -> set[str]:
    return {w for w in words if any(ch.isdigit() for ch in w)}


def _typo(x: str, y: str) -> bool:
    """One slip of the keyboard: a swap, a substitution, or a letter more or less in a long word."""
    if DamerauLevenshtein.distance(x, y) != 1:
        return False
    return len(x) == len(y) or min(len(x), len(y)) >= 7


def _typo_pairs(only_a: set[str], only_b: set[str]) -> bool:
    """Whether the words found in just one name each are typos of the other's."""
    return len(only_a) == len(only_b) and all(any(_typo(x, y) for y in only_b) for x in only_a)


class DuplicateMatcher:
    """Scores account pairs in [0, 1]; `threshold` decides what counts as a probable duplicate."""

    def __init__(self, threshold: float = 0.85, block_cutoff: float = 70.0) -> None:
        self.threshold = threshold
        self.block_cutoff = block_cutoff

    def score(
        self, a: CustomerProfile, b: CustomerProfile, unique_extension: bool = False
    ) -> Match:
        """Score one pair. `unique_extension`: the shorter name extends to no other record in
        the pool, which makes a dropped-word variant probable even without other evidence."""
        name_sim, subset = name_similarity(a.name, b.name)
        score, reasons = name_sim, [f"name similarity {name_sim:.2f}"]
        if subset:
            score = max(score, 0.86 if unique_extension else 0.75)
            reasons.append(
                "one name extends the other" + (" (only match)" if unique_extension else "")
            )
        if a.tax_id and b.tax_id:
            if a.tax_id == b.tax_id:
                score, reasons = max(score, 0.97), [*reasons, "same tax ID"]
            else:
                score, reasons = min(score, 0.3), [*reasons, "different tax IDs"]
        if a.domain and b.domain:
            if a.domain == b.domain:
                score = max(score, 0.95 if (name_sim >= 0.5 or subset) else 0.8)
                reasons.append("same domain")
            else:
                score *= 0.7
                reasons.append("different domains")
        if a.postal_code and a.postal_code == b.postal_code and a.country == b.country:
            score = min(1.0, score + 0.05)
            reasons.append("same postcode")
        return Match(a.record_id, b.record_id, round(score, 4), reasons)

    def candidates(
        self, profile: CustomerProfile, pool: Sequence[CustomerProfile] | ProfileIndex
    ) -> list[Match]:
        """Probable duplicates of `profile` in `pool`, best first (ties in pool order).

        Only the pool's records that could reach the threshold are scored: those sharing the
        tax ID or the domain, whose names' words contain or are contained in the profile's, or
        whose name is alike enough by edit distance (see `ProfileIndex.block`). Every other
        record scores below the threshold whatever it is, so the answer is the same as scoring
        the whole pool, without a scan of the pool per pool member."""
        index = pool if isinstance(pool, ProfileIndex) else ProfileIndex(pool)
        extending = index.supersets(profile) if profile.name else set()
        extending.discard(profile.record_id)
        found = []
        for other_id in index.block(profile, self.threshold, extending):
            if other_id == profile.record_id:
                continue
            other = index.profiles[other_id]
            shorter = profile if len(profile.name) <= len(other.name) else other
            # The shorter name extends to just this other record among the others (never
            # true when the profile is the longer: it is not among the others).
            unique = shorter is profile and extending == {other_id}
            found.append(self.score(profile, other, unique))
        kept = [m for m in found if m.score >= self.threshold]
        kept.sort(key=lambda m: index.order[m.b])
        return sorted(kept, key=lambda m: -m.score)

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
        extensions = _extension_counts(profiles)
        matches = []
        for i, j in sorted(pairs):
            a, b = profiles[i], profiles[j]
            shorter = a if len(a.name) <= len(b.name) else b
            matches.append(self.score(a, b, extensions.get(shorter.name, 0) == 1))
        return [m for m in matches if m.score >= self.threshold]


def _words(name: str) -> frozenset[str]:
    return frozenset(name.split())


def _number_key(words: frozenset[str]) -> str:
    """The index key of a name's numbers ("#" alone for none: every key must be non-empty)."""
    return "#" + " ".join(sorted(_numbers(set(words))))


def _extension_counts(profiles: Sequence[CustomerProfile]) -> dict[str, int]:
    """For each name, how many records' names strictly extend it (contain all its words)."""
    by_word: dict[str, set[int]] = defaultdict(set)
    for index, profile in enumerate(profiles):
        for word in _words(profile.name):
            by_word[word].add(index)
    counts: dict[str, int] = {}
    for profile in profiles:
        words = _words(profile.name)
        if not words or profile.name in counts:
            continue
        holders = set.intersection(*(by_word[w] for w in words))
        counts[profile.name] = sum(1 for i in holders if _words(profiles[i].name) != words)
    return counts


class ProfileIndex:
    """Customer profiles by record ID, indexed for `DuplicateMatcher.candidates`: by tax ID,
    domain, the name's set of words and each word, and the name without spaces. Adding a
    profile whose record ID is already held replaces it in place (as a dict does)."""

    def __init__(self, profiles: Iterable[CustomerProfile] = ()) -> None:
        self.profiles: dict[str, CustomerProfile] = {}
        self.order: dict[str, int] = {}
        self._names: dict[str, str] = {}
        self._keys: dict[str, dict[str, set[str]]] = {
            k: defaultdict(set) for k in ("tax_id", "domain", "joined", "words", "word", "numbers")
        }
        for profile in profiles:
            self.add(profile)

    def __len__(self) -> int:
        return len(self.profiles)

    def _index_keys(self, profile: CustomerProfile) -> Iterable[tuple[str, str]]:
        words = _words(profile.name)
        yield "tax_id", profile.tax_id
        yield "domain", profile.domain
        yield "joined", profile.name.replace(" ", "")
        yield "numbers", _number_key(words)
        yield "words", " ".join(sorted(words))
        yield from (("word", w) for w in words)

    def add(self, profile: CustomerProfile) -> None:
        key = profile.record_id
        old = self.profiles.get(key)
        if old is not None:
            for kind, value in self._index_keys(old):
                self._keys[kind][value].discard(key)
        self.order.setdefault(key, len(self.order))
        self.profiles[key] = profile
        self._names[key] = profile.name
        for kind, value in self._index_keys(profile):
            if value:
                self._keys[kind][value].add(key)

    def discard(self, record_id: str) -> None:
        """Drop a record's profile (a deleted account), if held."""
        old = self.profiles.pop(record_id, None)
        if old is None:
            return
        for kind, value in self._index_keys(old):
            self._keys[kind][value].discard(record_id)
        del self._names[record_id]

    def supersets(self, profile: CustomerProfile) -> set[str]:
        """Records whose names' words strictly contain the profile's."""
        words = _words(profile.name)
        if not words:
            return {k for k, p in self.profiles.items() if p.name}
        held = sorted((self._keys["word"].get(w, set()) for w in words), key=len)
        return {k for k in set.intersection(*held) if _words(self._names[k]) > words}

    def _subsets(self, words: frozenset[str]) -> set[str]:
        """Records whose names' words are strictly contained in `words` (and not empty)."""
        found: set[str] = set()
        if len(words) <= 12:
            ordered = sorted(words)
            for size in range(1, len(ordered)):
                for part in itertools.combinations(ordered, size):
                    found |= self._keys["words"].get(" ".join(part), set())
            return found
        for word in words:
            found |= {
                k for k in self._keys["word"].get(word, set()) if _words(self._names[k]) < words
            }
        return found

    def block(
        self, profile: CustomerProfile, threshold: float, supersets: set[str] | None = None
    ) -> set[str]:
        """Every record that could score `threshold` or more against `profile` (a superset).

        Without the same tax ID or domain a pair scores at most its name evidence plus 0.05
        (the postcode): the name similarity, or 0.86 where one name's words extend the
        other's. A similarity of s means an equal name, the same letters split differently,
        a fuzz.ratio of at least s, or one slip (Damerau-Levenshtein 1, both names of five
        letters or more), whose ratio is at least 0.8. So the block is the tax ID and domain
        groups, the word supersets and subsets, the same letters, and the names whose ratio
        reaches min(threshold - 0.05, 0.8) (less a margin for rounding)."""
        if supersets is None:
            supersets = self.supersets(profile) if profile.name else set()
        found: set[str] = set()
        for kind, value in (("tax_id", profile.tax_id), ("domain", profile.domain)):
            if value:
                found |= self._keys[kind].get(value, set())
        if not profile.name:
            return found | supersets
        found |= self._keys["joined"].get(profile.name.replace(" ", ""), set())
        words = _words(profile.name)
        named = supersets | self._subsets(words)
        same: set[str] | None = None
        choices: dict[str, str] = self._names
        if threshold - 0.05 > NUMBERED_SIBLINGS:
            # Names whose numbers differ score at most NUMBERED_SIBLINGS plus the postcode's
            # 0.05 (and "Store 12" / "Store12" is the joined key above): only the names with
            # the same numbers can reach the threshold by name. Without this, a pool of
            # "Customer 1", "Customer 2", ... is all alike by edit ratio, and each record was
            # scored against most of the pool.
            same = self._keys["numbers"].get(_number_key(words), set())
            if _numbers(set(words)):  # a numbered name's group is small: compare it alone
                choices = {k: self._names[k] for k in same}
        cutoff = max(0.0, min(threshold - 0.05, 0.8) * 100 - 0.01)
        alike = process.extract(
            profile.name, choices, scorer=fuzz.ratio, score_cutoff=cutoff, limit=None
        )
        named.update(str(key) for _, _, key in alike)
        if same is not None:
            named &= same
        return found | named
