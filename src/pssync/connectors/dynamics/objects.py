"""The Dataverse tables the connector serves, as a kit catalog. Tasks and resource assignments
are read-only: Project Operations writes scheduling entities through its schedule APIs."""

from __future__ import annotations

from pssync.connectors.kit.catalog import Catalog, ObjectSpec, Ref

SYSTEM = "dynamics"
SERVER = frozenset({"createdon", "modifiedon", "versionnumber"})


def _table(name: str, entity: str, key: str, *refs: Ref, writable: bool = True) -> ObjectSpec:
    server = SERVER | {f"{entity}id"}
    return ObjectSpec(
        name, f"{entity}id", "modifiedon", entity, 1000, key, writable, refs, (), server
    )


def _lookup(nav: str, target: str) -> Ref:
    return Ref(f"_{nav}_value", target, nav)


KEY = "pssync_externalid"
CATALOG = Catalog(
    SYSTEM,
    (
        _table("accounts", "account", "accountnumber"),
        _table("opportunities", "opportunity", KEY, _lookup("parentaccountid", "accounts")),
        _table(
            "msdyn_projects",
            "msdyn_project",
            KEY,
            Ref("_msdyn_customer_value", "accounts", "msdyn_customer_account"),
            _lookup("msdyn_opportunity", "opportunities"),
        ),
        _table(
            "msdyn_projecttasks",
            "msdyn_projecttask",
            KEY,
            _lookup("msdyn_project", "msdyn_projects"),
            _lookup("msdyn_parenttask", "msdyn_projecttasks"),
            writable=False,
        ),
        _table(
            "msdyn_resourceassignments",
            "msdyn_resourceassignment",
            KEY,
            _lookup("msdyn_projectid", "msdyn_projects"),
            _lookup("msdyn_taskid", "msdyn_projecttasks"),
            writable=False,
        ),
    ),
)
