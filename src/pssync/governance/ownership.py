"""The system-of-record matrix, enforced per field.

Each field of each entity has one owning role (crm, psa or erp; configurable
in `pssync.yaml`). A write from any other system does not change an owned field: the golden
value stays, and the refusal is audited with the reason. Fields nobody owns are open to all.
Where the golden record has no value yet, `fill_gaps` lets a non-owner's value in provisionally
(the owner's first write replaces it); strict installations turn that off.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Refusal:
    """One field a non-owner tried to set."""

    field: str
    owner: str
    writer_role: str
    attempted: Any
    current: Any

    @property
    def reason(self) -> str:
        return (
            f"{self.field} is owned by {self.owner}; a {self.writer_role} system may not change it"
        )


@dataclass
class Outcome:
    payload: dict[str, Any]
    refused: list[Refusal]


class OwnershipPolicy:
    def __init__(self, matrix: dict[str, dict[str, str]], *, fill_gaps: bool = True) -> None:
        self.matrix = matrix
        self.fill_gaps = fill_gaps

    def owner(self, entity_type: str, field: str) -> str | None:
        fields = self.matrix.get(entity_type, {})
        return fields.get(field, fields.get("*"))

    def apply(
        self,
        entity_type: str,
        writer_role: str | None,
        incoming: dict[str, Any],
        current: dict[str, Any] | None,
    ) -> Outcome:
        """The payload to store: the incoming one, with every non-owned change reverted.

        `writer_role` None means a trusted administrative load (import, replay by an operator),
        which the matrix does not restrict.
        """
        if writer_role is None:
            return Outcome(dict(incoming), [])
        golden = current or {}
        result = dict(incoming)
        refused: list[Refusal] = []
        for name in sorted(incoming.keys() | golden.keys()):
            if name in ("id", "schema_version", "xrefs"):
                continue
            owner = self.owner(entity_type, name)
            new, old = incoming.get(name), golden.get(name)
            if owner is None or owner == writer_role or new == old:
                continue
            if old is None and self.fill_gaps:
                continue
            refused.append(Refusal(name, owner, writer_role, new, old))
            if old is None:
                result.pop(name, None)
            else:
                result[name] = old
        return Outcome(result, refused)
