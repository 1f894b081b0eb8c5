"""What an ERP connector's closed-won handoff asks the flow to write: one create-or-update."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class VendorWrite:
    """One create-or-update: the vendor's object, its external-ID field and value, the body."""

    object: str
    key_field: str
    external_id: str
    body: dict[str, Any]
