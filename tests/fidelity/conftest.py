"""The fidelity tests' helpers live next to them (`fidelity_helpers`).

The suite runs with ``--import-mode=importlib``, which does not put test folders on sys.path;
this folder is added so the tests can import their builders by name.
"""

from __future__ import annotations

import os
import sys

HERE = os.path.dirname(__file__)
if HERE not in sys.path:
    sys.path.insert(0, HERE)
