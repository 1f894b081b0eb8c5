"""Sample data shipped in the package: a hand-sized services firm as canonical JSONL."""

from __future__ import annotations

from importlib import resources


def sample_lines() -> list[str]:
    """The lines of `sample_firm.jsonl` (regenerate with scripts/make_sample.py)."""
    text = resources.files(__name__).joinpath("sample_firm.jsonl").read_text("utf-8")
    return text.splitlines()
