"""The runtime builder: the composition root that wires engine, governance and flows.

The engine knows stages, not rules; governance knows rules, not processes. This package sits
above both (and the flows) and assembles one `engine.runtime.Runtime` from `pssync.yaml`:
connectors and mappings, the exception store, the system-of-record matrix, governance's
govern and store stages (always, with or without flows), the flows' routes when configured,
and what each worker cycle does after polling. `pssync sync`, `pssync worker`, `pssync serve`,
the demo and the benches all build their runtime here.
"""

from pssync.runtime.builder import build_runtime, govern

__all__ = ["build_runtime", "govern"]
