"""`pssync demo`: the whole product on embedded defaults, one module per step.

`config` describes the running sandbox as a `pssync.yaml`; `run` starts the emulators, syncs
them through the engine, plays the activity clock and computes the forecast; `summary` turns
the result into what the terminal (or `--json`) shows; `report` writes the offline HTML page.
"""
