"""The fidelity check: how faithfully the golden store holds the firm (docs/fidelity.md).

The golden store is compared with a canonical truth record by record, every difference is
tied to the open exception that explains it or named as a defect, the exceptions are scored
against the planted misalignments, and the forecast and KPIs are recomputed on the truth.
"""

from pssync.fidelity.check import FidelityReport, check_fidelity
from pssync.fidelity.truth import Planted, TruthError, read_planted, read_truth

__all__ = [
    "FidelityReport",
    "Planted",
    "TruthError",
    "check_fidelity",
    "read_planted",
    "read_truth",
]
