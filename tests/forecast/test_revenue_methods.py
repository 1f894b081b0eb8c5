"""Revenue methods: hand-computed examples and the invariants every schedule must keep."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from pssync.forecast import revenue_methods as rm
from pssync.forecast.money import allocate

D = Decimal
JUL, AUG, SEP, OCT = (dt.date(2026, m, 1) for m in (7, 8, 9, 10))


def test_allocate_is_exact_and_deterministic() -> None:
    assert allocate(D("100.00"), [1, 1, 1]) == [D("33.34"), D("33.33"), D("33.33")]
    assert allocate(D("0.05"), [1, 0, 1]) == [D("0.03"), D("0.00"), D("0.02")]
    assert allocate(D("-10.00"), [1, 2]) == [D("-3.33"), D("-6.67")]
    assert allocate(D("7.00"), [0, 0]) == [D("0.00"), D("7.00")]


@given(
    st.decimals(min_value=-(10**12), max_value=10**12, places=2, allow_nan=False),
    st.integers(min_value=1, max_value=150),
)
def test_even_split_matches_the_largest_remainder_rule(total: Decimal, n: int) -> None:
    # weights of 1 take the shortcut (divmod); equal weights of 2 go through the general rule
    even = allocate(total, [1] * n)
    assert [str(x) for x in even] == [str(x) for x in allocate(total, [D(2)] * n)]
    assert sum(even, D(0)) == total


def test_time_and_materials_hours_times_rate_with_cap() -> None:
    hours = {JUL: D("100"), AUG: D("80.5"), SEP: D("100")}
    assert rm.time_and_materials(hours, D("150.00")) == {
        JUL: D("15000.00"),
        AUG: D("12075.00"),
        SEP: D("15000.00"),
    }
    capped = rm.time_and_materials(hours, D("150.00"), cap=D("20000"))
    assert capped == {JUL: D("15000.00"), AUG: D("5000.00")}


def test_percent_complete_cost_to_cost_example() -> None:
    # 100k fee, 40k cost to date with 30k recognised (behind), 60k cost left: 20k/20k/20k
    out = rm.percent_complete(
        D("100000"), D("30000"), D("40000"), {JUL: D(20000), AUG: D(20000), SEP: D(20000)}
    )
    assert out == {JUL: D("30000.00"), AUG: D("20000.00"), SEP: D("20000.00")}
    assert sum(out.values()) == D("70000.00")


def test_percent_complete_never_claws_back_revenue_ahead_of_progress() -> None:
    out = rm.percent_complete(D("900"), D("800"), D("10"), {JUL: D(10), AUG: D(10)})
    assert out == {AUG: D("100.00")}


def test_milestone_dates_and_overdue_catch_up() -> None:
    ms = [(dt.date(2026, 6, 15), D("30000")), (dt.date(2026, 8, 20), D("50000"))]
    out = rm.milestone(D("100000"), D("0"), ms, dt.date(2026, 7, 10), dt.date(2026, 10, 31))
    # June milestone overdue -> July; August on its date; 20k not covered -> contract end
    assert out == {JUL: D("30000.00"), AUG: D("50000.00"), OCT: D("20000.00")}


def test_retainer_is_even_per_day_and_exact() -> None:
    by_day = rm.ratable_by_day(D("1000.00"), dt.date(2026, 7, 1), dt.date(2026, 9, 30))
    assert len(by_day) == 92 and sum(by_day.values()) == D("1000.00")
    assert set(by_day.values()) == {D("10.87"), D("10.86")}
    out = rm.ratable(D("1000.00"), dt.date(2026, 7, 1), dt.date(2026, 9, 30), dt.date(2026, 7, 31))
    assert set(out) == {AUG, SEP} and sum(out.values()) == D("1000.00") - sum(
        v for d, v in by_day.items() if d.month == 7
    )


def test_billing_forecasts() -> None:
    assert rm.bill_in_arrears({JUL: D("5.00")}) == {AUG: D("5.00")}
    bills = rm.bill_milestones(
        [
            (dt.date(2026, 6, 1), D("10"), False),
            (dt.date(2026, 6, 2), D("5"), True),
            (dt.date(2026, 9, 1), D("20"), False),
        ],
        dt.date(2026, 7, 3),
    )
    assert bills == {JUL: D("10.00"), SEP: D("20.00")}
    sched = rm.bill_on_schedule(
        D("1000"), dt.date(2026, 7, 1), dt.date(2026, 9, 30), dt.date(2026, 7, 1)
    )
    assert sched == {AUG: D("333.33"), SEP: D("333.33")}
    per = rm.bill_on_schedule(
        D("1000"), JUL, dt.date(2026, 9, 30), dt.date(2026, 6, 1), 1, D("400")
    )
    assert per == {JUL: D("400.00"), AUG: D("400.00"), SEP: D("200.00")}


money = st.decimals(min_value=0, max_value=10_000_000, places=2, allow_nan=False)
effort = st.decimals(min_value=0, max_value=10_000, places=2, allow_nan=False)


@settings(max_examples=150, deadline=None)
@given(
    value=money,
    done_share=st.floats(0, 1.2),
    to_date=effort,
    steps=st.lists(effort, min_size=1, max_size=18),
)
def test_percent_complete_invariants(
    value: Decimal, done_share: float, to_date: Decimal, steps: list[Decimal]
) -> None:
    recognized = (value * Decimal(str(done_share))).quantize(D("0.01"))
    months = [dt.date(2026 + i // 12, i % 12 + 1, 1) for i in range(len(steps))]
    out = rm.percent_complete(value, recognized, to_date, dict(zip(months, steps, strict=True)))
    assert all(v >= 0 for v in out.values())
    assert min(recognized, value) + sum(out.values(), D(0)) <= value or not out
    if to_date + sum(steps) > 0:
        assert max(min(recognized, value), D(0)) + sum(out.values(), D(0)) == max(
            value, min(recognized, value)
        )


@settings(max_examples=150, deadline=None)
@given(
    value=money,
    start_offset=st.integers(0, 400),
    length=st.integers(0, 800),
    as_of_offset=st.integers(-30, 1300),
)
def test_ratable_invariants(
    value: Decimal, start_offset: int, length: int, as_of_offset: int
) -> None:
    start = dt.date(2026, 1, 1) + dt.timedelta(days=start_offset)
    end = start + dt.timedelta(days=length)
    as_of = start + dt.timedelta(days=as_of_offset)
    full = rm.ratable(value, start, end, start - dt.timedelta(days=1))
    assert sum(full.values(), D(0)) == value
    part = rm.ratable(value, start, end, as_of)
    assert all(v >= 0 for v in part.values())
    assert all(m > as_of.replace(day=1) or m == as_of.replace(day=1) for m in part)
    assert sum(part.values(), D(0)) <= value


@settings(max_examples=150, deadline=None)
@given(
    value=money,
    recognized=money,
    ms=st.lists(st.tuples(st.integers(0, 700), money), max_size=6),
    as_of_offset=st.integers(0, 700),
)
def test_milestone_invariants(
    value: Decimal, recognized: Decimal, ms: list[tuple[int, Decimal]], as_of_offset: int
) -> None:
    base = dt.date(2026, 1, 1)
    miles = [(base + dt.timedelta(days=d), a) for d, a in ms]
    as_of = base + dt.timedelta(days=as_of_offset)
    out = rm.milestone(value, recognized, miles, as_of, base + dt.timedelta(days=365))
    assert all(v >= 0 for v in out.values())
    assert min(recognized, value) + sum(out.values(), D(0)) == value


@settings(max_examples=200, deadline=None)
@given(
    cents_value=st.integers(min_value=-(10**9), max_value=10**9),
    start_offset=st.integers(min_value=0, max_value=400),
    length=st.integers(min_value=1, max_value=500),
    as_of_offset=st.integers(min_value=-60, max_value=600),
)
def test_ratable_equals_the_day_by_day_allocation(
    cents_value: int, start_offset: int, length: int, as_of_offset: int
) -> None:
    """The integer fast path is the per-day largest-remainder split, summed per month."""
    value = D(cents_value) / 100
    start = dt.date(2025, 1, 1) + dt.timedelta(days=start_offset)
    end = start + dt.timedelta(days=length - 1)
    as_of = start + dt.timedelta(days=as_of_offset)
    expected: dict[dt.date, Decimal] = {}
    for day, amount in rm.ratable_by_day(value, start, end).items():
        if day > as_of:
            key = day.replace(day=1)
            expected[key] = expected.get(key, D(0)) + amount
    assert rm.ratable(value, start, end, as_of) == {m: v for m, v in expected.items() if v}
