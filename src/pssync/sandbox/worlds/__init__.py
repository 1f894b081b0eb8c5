"""A family of synthetic services firms, designed apart from `sandbox.firm`.

`generate_world(seed)` draws a firm's behaviours at random (`traits.draw_traits`) and writes
its history as canonical JSONL at valid time, the lines `pssync import` and
`forecast.bulkload.load_truth` read. It exists to test forecasts on firms they were not tuned
on: each seed is a different mix of growth, CRM optimism, slippage, capacity queues, burn,
stale ERP dates, booking lead times, seasonality, retainers and milestones.
"""

from pssync.sandbox.worlds.generate import DEFAULT_TODAY, World, generate_world
from pssync.sandbox.worlds.traits import LineTraits, WorldTraits, draw_traits

__all__ = ["DEFAULT_TODAY", "LineTraits", "World", "WorldTraits", "draw_traits", "generate_world"]
