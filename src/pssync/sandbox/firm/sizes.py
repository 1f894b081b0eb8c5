"""Size presets of the synthetic firm.

Sizes are plain parameters so tests can check what `medium` and `large` would produce without
paying for generating them; everything else in the generator scales from these numbers.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SizeParams:
    """How big the firm is; counts are targets the generator draws around, not exact totals."""

    name: str
    regions: int
    service_lines: int
    roles: int
    consultants: int
    accounts: int
    opportunities: int
    history_years: int = 3
    sales_reps: int = 6
    max_contacts_per_account: int = 3
    #: Mean project length in months; with the consultant count it sets utilisation.
    mean_duration_months: float = 5.0
    #: Weeks the planner may push a start before it books over capacity.
    max_start_delay_weeks: int = 16
    #: Multiplier on how many hours a day a deal needs from each role: bigger firms staff
    #: people across more projects at once (more, smaller time entries per person-day).
    intensity: float = 1.0
    #: How many roles besides the architect a deal staffs (low, high).
    roles_per_deal: tuple[int, int] = (2, 3)


SIZES: dict[str, SizeParams] = {
    "small": SizeParams(
        name="small",
        regions=3,
        service_lines=4,
        roles=8,
        consultants=30,
        accounts=80,
        opportunities=300,
        sales_reps=4,
        mean_duration_months=5.0,
    ),
    "medium": SizeParams(
        name="medium",
        regions=3,
        service_lines=6,
        roles=12,
        consultants=400,
        accounts=1_500,
        opportunities=8_000,
        sales_reps=25,
        mean_duration_months=7.0,
        intensity=0.45,
        roles_per_deal=(3, 5),
    ),
    "large": SizeParams(
        name="large",
        regions=3,
        service_lines=6,
        roles=12,
        consultants=1_000,
        accounts=15_000,
        opportunities=80_000,
        sales_reps=200,
        mean_duration_months=2.5,
        intensity=0.8,
    ),
}


def size_params(size: str) -> SizeParams:
    try:
        return SIZES[size]
    except KeyError:
        known = ", ".join(SIZES)
        raise ValueError(f"unknown firm size {size!r}; known sizes: {known}") from None
