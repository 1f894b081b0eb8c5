"""The Kantata objects the connector reads and writes.

Each is addressed by its plural key (``/api/v1/workspaces.json``) and written under its singular
key (``{"workspace": {...}}``); `subject_type` is the name Kantata's custom field values use for
it, which is where the connector keeps external IDs. Users are read-only over the API (they are
invited, not created); allocations hang off a workspace resource and carry ``hard`` (true: a
committed booking, false: a soft, tentative one).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class KObject:
    key: str
    singular: str
    subject_type: str
    writable: bool = True


OBJECTS: dict[str, KObject] = {
    o.key: o
    for o in (
        KObject("workspaces", "workspace", "Workspace"),
        KObject("stories", "story", "Story"),
        KObject("users", "user", "User", writable=False),
        KObject("roles", "role", "Role"),
        KObject("workspace_groups", "workspace_group", "WorkspaceGroup"),
        KObject("workspace_resources", "workspace_resource", "WorkspaceResource"),
        KObject("workspace_allocations", "workspace_allocation", "WorkspaceAllocation"),
        KObject("time_entries", "time_entry", "TimeEntry"),
        KObject("invoices", "invoice", "Invoice"),
    )
}
SERVER_FIELDS = frozenset({"id", "created_at", "updated_at"})
