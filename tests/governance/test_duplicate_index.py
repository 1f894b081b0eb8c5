"""The blocked duplicate check (`DuplicateMatcher.candidates` over a `ProfileIndex`) gives the
same matches, scores, reasons and order as scoring every record of the pool, which is what it
did before blocking (kept here as the reference)."""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from pssync.governance.duplicates import CustomerProfile, DuplicateMatcher, Match, ProfileIndex


def _words(name: str) -> frozenset[str]:
    return frozenset(name.split())


def reference(
    matcher: DuplicateMatcher, profile: CustomerProfile, pool: Sequence[CustomerProfile]
) -> list[Match]:
    """Every record of the pool scored, each with its own scan for a unique extension."""
    others = [o for o in pool if o.record_id != profile.record_id]

    def unique_extension(other: CustomerProfile) -> bool:
        shorter, longer = sorted((profile, other), key=lambda p: len(p.name))
        extending = [p for p in others if _words(shorter.name) < _words(p.name)]
        return len(extending) == 1 and extending[0].record_id == longer.record_id

    found = [matcher.score(profile, other, unique_extension(other)) for other in others]
    return sorted((m for m in found if m.score >= matcher.threshold), key=lambda m: -m.score)


# Few words, so that names share, extend and nearly repeat one another.
WORDS = ["acme", "acne", "northwind", "nortwind", "traders", "north", "wind", "12", "21", "beta"]
WORDS += ["store", "store12", "12b"]  # numbers inside words, and a number joined to a word
names = st.lists(st.sampled_from(WORDS), max_size=4).map(" ".join)
optional = st.sampled_from(["", "a", "b"])


@st.composite
def profiles(draw: st.DrawFn, rid: str) -> CustomerProfile:
    return CustomerProfile(
        record_id=rid,
        name=draw(names),
        domain=draw(optional),
        tax_id=draw(optional),
        postal_code=draw(optional),
        country=draw(st.sampled_from(["", "GB"])),
    )


@st.composite
def worlds(draw: st.DrawFn) -> tuple[CustomerProfile, list[CustomerProfile]]:
    size = draw(st.integers(0, 25))
    pool = [draw(profiles(str(i))) for i in range(size)]
    # The profile checked: new, or a new version of a record already in the pool.
    rid = draw(st.sampled_from([str(i) for i in range(size)] + ["new"]))
    return draw(profiles(rid)), pool


@settings(max_examples=600, deadline=None)
@given(worlds(), st.sampled_from([0.85, 0.5, 0.95]))
def test_blocked_candidates_equal_scoring_the_whole_pool(
    world: tuple[CustomerProfile, list[CustomerProfile]], threshold: float
) -> None:
    profile, pool = world
    matcher = DuplicateMatcher(threshold=threshold)
    assert matcher.candidates(profile, pool) == reference(matcher, profile, pool)
    # An index kept across calls, the profile added as the governance's pool does.
    index = ProfileIndex(pool)
    index.add(profile)
    merged = {p.record_id: p for p in pool} | {profile.record_id: profile}
    assert matcher.candidates(profile, index) == reference(matcher, profile, list(merged.values()))


def test_an_index_replaces_a_record_in_place() -> None:
    index = ProfileIndex([CustomerProfile("1", "acme traders"), CustomerProfile("2", "beta")])
    index.add(CustomerProfile("1", "northwind"))
    assert index.block(CustomerProfile("x", "acme traders"), 0.85) == set()
    assert index.block(CustomerProfile("x", "northwind"), 0.85) == {"1"}
    assert list(index.order) == ["1", "2"]
