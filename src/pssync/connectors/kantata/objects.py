"""The Kantata objects the connector reads and writes.

Each is addressed by its plural key (``/api/v1/workspaces.json``) and written under its singular
key (``{"workspace": {...}}``); `subject_type` is the name Kantata's external references use for
it, which is where the connector keeps pssync's external IDs (see `externals`). `params` are
sent with every list call: workspaces ask for archived ones too (Kantata hides them by default,
https://developer.kantata.com/kantata/specification/workspaces/get-workspaces). `includes` are
associations side-loaded with ``include=`` and handed out as dotted companions
(``resource.workspace_id``): a resource request carries its workspace, role and hours on the
workspace resource it asks to staff, an allocation its resource's role, and a time entry the
project role the work was logged in (``include=role``); workspaces and stories come with the
firm's custom field values (a task's WBS code, a project's department). Users are read-only
over the API (they are invited, not created); allocations hang off a workspace resource and carry
``hard`` (true: a committed booking, false: a soft, tentative one).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Include:
    """An association side-loaded with ``include=``: its name, the field holding its ID and
    the top-level key its objects come under."""

    name: str
    id_field: str
    key: str


@dataclass(frozen=True)
class KObject:
    key: str
    singular: str
    subject_type: str
    writable: bool = True
    params: dict[str, str] = field(default_factory=dict)
    includes: tuple[Include, ...] = ()
    #: The firm's custom fields are read with it (``include=custom_field_values``) and handed
    #: out by field name as ``custom_fields.<name>`` (Kantata's Custom Field Values reference,
    #: https://developer.kantata.com/tag/Custom-Field-Values).
    custom_fields: bool = False


OBJECTS: dict[str, KObject] = {
    o.key: o
    for o in (
        KObject(
            "workspaces",
            "workspace",
            "Workspace",
            params={"include_archived": "true"},
            custom_fields=True,
        ),
        KObject("stories", "story", "Story", custom_fields=True),
        KObject("users", "user", "User", writable=False),
        KObject("roles", "role", "Role"),
        KObject("workspace_groups", "workspace_group", "WorkspaceGroup"),
        KObject("workspace_resources", "workspace_resource", "WorkspaceResource"),
        KObject(
            "workspace_allocations",
            "workspace_allocation",
            "WorkspaceAllocation",
            includes=(Include("workspace_resource", "resource_id", "workspace_resources"),),
        ),
        KObject(
            "resource_requests",
            "resource_request",
            "",
            writable=False,
            includes=(Include("resource", "resource_id", "workspace_resources"),),
        ),
        KObject(
            "time_entries",
            "time_entry",
            "TimeEntry",
            includes=(Include("role", "role_id", "roles"),),
        ),
        KObject("invoices", "invoice", "Invoice"),
    )
}
SERVER_FIELDS = frozenset({"id", "created_at", "updated_at", "external_reference_ids"})
