"""One small firm per test module: generation takes well under a second."""

from __future__ import annotations

import pytest

from pssync.sandbox.firm import Firm, generate_firm


@pytest.fixture(scope="module")
def firm() -> Firm:
    return generate_firm("small", seed=7)
