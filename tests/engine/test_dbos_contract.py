"""The private DBOS call pssync relies on keeps the shape `engine.workers_pg` uses.

`recover_executors` calls ``DBOS._recover_pending_workflows(executor_ids)`` (what DBOS's admin
endpoint ``/dbos-workflow-recovery`` calls) and reads ``get_workflow_id()`` of each handle it
returns. A private method can change in any release: pyproject.toml keeps DBOS below its next
major, and this test fails first if a release within the bound changes the call.
"""

from __future__ import annotations

import inspect
import re
import tomllib
from importlib.metadata import version
from pathlib import Path

from dbos import DBOS, WorkflowHandle

ROOT = Path(__file__).parents[2]


def test_recover_pending_workflows_keeps_its_signature() -> None:
    static = inspect.getattr_static(DBOS, "_recover_pending_workflows")
    assert isinstance(static, classmethod), "called on the class, not an instance"
    signature = inspect.signature(DBOS._recover_pending_workflows)
    assert list(signature.parameters) == ["executor_ids"]
    (param,) = signature.parameters.values()
    assert param.kind in (param.POSITIONAL_OR_KEYWORD, param.POSITIONAL_ONLY)
    assert re.fullmatch(r"(List|list)\[str\]", str(param.annotation).strip("'\""))
    assert "WorkflowHandle" in str(signature.return_annotation)
    assert callable(getattr(WorkflowHandle, "get_workflow_id", None))


def test_installed_dbos_is_within_the_declared_bound() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    (spec,) = [d for d in project["dependencies"] if re.match(r"dbos\b", d)]
    ceiling = re.search(r"<\s*(\d+)", spec)
    assert ceiling, f"{spec!r}: DBOS needs an upper bound (a private call is used)"
    assert int(version("dbos").split(".")[0]) < int(ceiling.group(1))
