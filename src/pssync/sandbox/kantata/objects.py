"""The Kantata OX (Mavenlink API v1) object types the emulator serves, and their rules.

Each type is addressed by its plural key (`/api/v1/workspaces.json`), created with its singular
key (`{"workspace": {...}}`), and lists under the plural key in responses. IDs and foreign keys
travel as strings, as in Kantata's documented response format. The per-type facts below drive
one generic implementation: which fields a create must carry, which are integers or dates, which
`*_id` must point at an existing parent, and which query filters the list endpoint accepts.

Each type also names its `subject_type` (the name custom field values and external references
use for it) and the associations `include=` can side-load (`includes`: association -> the field
holding the ID(s) and the type they point at), as Kantata's "Response Format" page describes.

Allocations belong to a workspace resource (`resource_id`, from which the server copies
`workspace_id` and `user_id`) and carry `hard` (true = hard booking, the default; false = soft),
which is how Kantata's resource planning tells committed from tentative capacity.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

Record = dict[str, Any]


@dataclass(frozen=True)
class ObjectSpec:
    key: str  # plural, e.g. "workspaces"
    singular: str  # e.g. "workspace"
    required: tuple[str, ...] = ()
    integers: tuple[str, ...] = ()
    dates: tuple[str, ...] = ()
    booleans: tuple[str, ...] = ()
    parents: dict[str, str] = field(default_factory=dict)  # field -> object key it refers to
    filters: dict[str, str] = field(default_factory=dict)  # query param -> field
    list_filters: dict[str, str] = field(default_factory=dict)  # param -> list-valued field
    inherits: dict[str, tuple[str, ...]] = field(default_factory=dict)  # parent -> copied fields
    defaults: dict[str, Any] = field(default_factory=dict)
    writable: bool = True
    subject_type: str = ""
    includes: dict[str, tuple[str, str]] = field(default_factory=dict)
    archivable: bool = False  # listed only with include_archived=true (workspaces)


# Kantata's custom fields exist only for these subjects (Custom Field Values reference,
# https://developer.kantata.com/tag/Custom-Field-Values: "Estimate, Story (Task), User,
# Workspace (Project), WorkspaceGroup (Group), Resource").
CUSTOM_FIELD_SUBJECTS = ("Estimate", "Story", "User", "Workspace", "WorkspaceGroup", "Resource")
REFERENCES = ("external_reference_ids", "external_references")


SPECS: dict[str, ObjectSpec] = {
    s.key: s
    for s in (
        ObjectSpec(
            "workspaces",
            "workspace",
            required=("title",),
            integers=("budget_in_cents", "price_in_cents"),
            dates=("start_date", "due_date"),
            booleans=("archived",),
            defaults={"archived": False, "status": {"color": "grey", "message": "Not Started"}},
            subject_type="Workspace",
            includes={
                "workspace_groups": ("workspace_group_ids", "workspace_groups"),
                "participants": ("participant_ids", "users"),
                "primary_counterpart": ("primary_counterpart_id", "users"),
                "primary_maven": ("primary_maven_id", "users"),
            },
            archivable=True,
        ),
        ObjectSpec(
            "stories",
            "story",
            required=("title", "workspace_id"),
            integers=("time_estimate_in_minutes", "budget_estimate_in_cents"),
            dates=("start_date", "due_date"),
            parents={"workspace_id": "workspaces", "parent_id": "stories"},
            filters={"workspace_id": "workspace_id", "parent_id": "parent_id"},
            defaults={"story_type": "task", "state": "not started"},
            subject_type="Story",
            includes={
                "workspace": ("workspace_id", "workspaces"),
                "parent": ("parent_id", "stories"),
            },
        ),
        ObjectSpec("users", "user", required=("full_name",), writable=False, subject_type="User"),
        ObjectSpec("roles", "role", required=("name",), subject_type="Role"),
        ObjectSpec(
            "workspace_groups",
            "workspace_group",
            required=("name",),
            booleans=("company",),
            defaults={"company": False},
            subject_type="WorkspaceGroup",
        ),
        ObjectSpec(
            "workspace_resources",
            "workspace_resource",
            required=("workspace_id",),
            integers=("total_allocated_minutes",),
            parents={"workspace_id": "workspaces", "user_id": "users", "role_id": "roles"},
            filters={"workspace_id": "workspace_id", "user_id": "user_id", "role_id": "role_id"},
            subject_type="WorkspaceResource",
            includes={
                "workspace": ("workspace_id", "workspaces"),
                "user": ("user_id", "users"),
                "role": ("role_id", "roles"),
            },
        ),
        ObjectSpec(
            "workspace_allocations",
            "workspace_allocation",
            required=("resource_id", "start_date", "end_date", "minutes"),
            integers=("minutes",),
            dates=("start_date", "end_date"),
            booleans=("hard",),
            parents={"resource_id": "workspace_resources"},
            inherits={"resource_id": ("workspace_id", "user_id")},
            filters={
                "workspace_id": "workspace_id",
                "user_id": "user_id",
                "resource_id": "resource_id",
                "hard": "hard",
            },
            defaults={"hard": True},
            subject_type="WorkspaceAllocation",
            includes={
                "workspace_resource": ("resource_id", "workspace_resources"),
                "workspace": ("workspace_id", "workspaces"),
                "user": ("user_id", "users"),
            },
        ),
        ObjectSpec(
            "time_entries",
            "time_entry",
            required=("workspace_id", "date_performed", "time_in_minutes"),
            integers=("time_in_minutes", "rate_in_cents", "cost_rate_in_cents"),
            dates=("date_performed",),
            booleans=("billable", "approved"),
            parents={
                "workspace_id": "workspaces",
                "user_id": "users",
                "story_id": "stories",
                "role_id": "roles",
            },
            filters={"workspace_id": "workspace_id", "user_id": "user_id", "story_id": "story_id"},
            defaults={"billable": True, "approved": False},
            subject_type="TimeEntry",
            # include=role: the project role the work was done in (Time Entries reference,
            # https://developer.kantata.com/kantata/specification/time-entries/create-time-entry)
            includes={
                "workspace": ("workspace_id", "workspaces"),
                "user": ("user_id", "users"),
                "story": ("story_id", "stories"),
                "role": ("role_id", "roles"),
            },
        ),
        ObjectSpec(
            "invoices",
            "invoice",
            required=("workspace_ids", "invoice_date"),
            dates=("invoice_date", "due_date"),
            list_filters={"workspace_id": "workspace_ids"},
            filters={"status": "status"},
            defaults={"status": "draft", "currency": "USD"},
            subject_type="Invoice",
            includes={"workspaces": ("workspace_ids", "workspaces")},
        ),
        # Resource Requests (https://developer.kantata.com/tag/Resource-Requests): a request to
        # staff a workspace resource (usually an unnamed one: a role, no user), side-loading
        # that resource with include=resource.
        ObjectSpec(
            "resource_requests",
            "resource_request",
            required=("resource_id",),
            parents={"resource_id": "workspace_resources"},
            defaults={"status": "pending", "approver_ids": []},
            includes={
                "resource": ("resource_id", "workspace_resources"),
                "creator": ("creator_id", "users"),
                "approvers": ("approver_ids", "users"),
            },
        ),
        # External References (https://developer.kantata.com/tag/External-References): which
        # third-party record an object is synced with. Written through
        # POST /external_references/create_or_update or nested in an object's create/update.
        ObjectSpec(
            "external_references",
            "external_reference",
            required=(
                "subject_type",
                "subject_id",
                "service_name",
                "service_model",
                "service_model_ref",
            ),
            booleans=("locked",),
            filters={
                "subject_type": "subject_type",
                "subject_id": "subject_id",
                "service_name": "service_name",
                "service_model": "service_model",
                "service_model_ref": "service_model_ref",
                "status": "status",
                "external_status": "external_status",
                "external_message": "external_message",
            },
            defaults={"status": "pending", "locked": False},
            writable=False,
        ),
        ObjectSpec(
            "custom_field_values",
            "custom_field_value",
            required=("custom_field_id", "subject_type", "subject_id", "value"),
            filters={
                "subject_type": "subject_type",
                "subject_id": "subject_id",
                "with_subject_id": "subject_id",
                "custom_field_id": "custom_field_id",
                "with_custom_field_id": "custom_field_id",
            },
        ),
    )
}


@dataclass(frozen=True)
class ValidationProblem:
    """A field-level problem; rendered as Kantata's `{"type": "validation", ...}` error."""

    field: str
    message: str


def _label(name: str) -> str:
    return name.removesuffix("_id").replace("_", " ").capitalize()


def validate(spec: ObjectSpec, body: Record, *, creating: bool) -> list[ValidationProblem]:
    """All problems with a create/update body (Kantata reports every failing field)."""
    problems: list[ValidationProblem] = []
    if creating:
        for name in spec.required:
            if body.get(name) in (None, "", []):
                problems.append(ValidationProblem(name, f"{_label(name)} can't be blank"))
    for name in spec.integers:
        value = body.get(name)
        if value is not None and (isinstance(value, bool) or not _is_integer(value)):
            problems.append(ValidationProblem(name, f"{_label(name)} is not a number"))
    for name in spec.dates:
        value = body.get(name)
        if value is not None and not _is_date(value):
            problems.append(ValidationProblem(name, f"{_label(name)} is not a valid date"))
    for name in spec.booleans:
        value = body.get(name)
        if value is not None and not isinstance(value, bool):
            problems.append(ValidationProblem(name, f"{_label(name)} must be true or false"))
    return problems


def _is_integer(value: object) -> bool:
    return isinstance(value, int) or (isinstance(value, str) and value.lstrip("-").isdigit())


def _is_date(value: object) -> bool:
    try:
        dt.date.fromisoformat(str(value))
    except ValueError:
        return False
    return True
