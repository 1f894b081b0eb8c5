"""The project's own gates: ruff (lint + format) on src and tests, mypy --strict on src."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)


@pytest.mark.skipif(
    shutil.which("ruff", path=str(Path(sys.executable).parent)) is None,
    reason="ruff is not installed (pip install -e '.[test]')",
)
def test_ruff_lint_and_format() -> None:
    ruff = str(Path(sys.executable).parent / "ruff")
    lint = _run(ruff, "check", "src", "tests", "bench", "scripts")
    assert lint.returncode == 0, lint.stdout + lint.stderr
    fmt = _run(ruff, "format", "--check", "src", "tests", "bench", "scripts")
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr


def test_mypy_strict_on_src() -> None:
    result = _run(sys.executable, "-m", "mypy")
    assert result.returncode == 0, result.stdout + result.stderr
