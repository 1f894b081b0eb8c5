"""A deterministic synthetic professional-services firm with known ground truth.

`generate_firm` builds the firm (history, per-system views with planted misalignments, answer
keys); `ActivityClock` moves it forward day by day for event-driven sync tests.
"""

from pssync.sandbox.firm.clock import ActivityClock, ClockChange
from pssync.sandbox.firm.generate import DEFAULT_TODAY, generate_firm
from pssync.sandbox.firm.sizes import SIZES, SizeParams
from pssync.sandbox.firm.state import DuplicatePair, Firm, Misalignment

__all__ = [
    "DEFAULT_TODAY",
    "SIZES",
    "ActivityClock",
    "ClockChange",
    "DuplicatePair",
    "Firm",
    "Misalignment",
    "SizeParams",
    "generate_firm",
]
