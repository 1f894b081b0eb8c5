"""The business flows (docs/flows.md), each a small module over the engine and governance.

`runner.configure(runtime, settings.flows)` turns them on; `runner.dispatch(runtime)` starts the
workflow flows after a capture cycle; see docs/flows.md.
"""
