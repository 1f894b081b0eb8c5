"""The kit's object catalog: refusal of unknown objects, references, write order, bodies."""

from __future__ import annotations

import pytest

from pssync.connectors.errors import PermanentError
from pssync.connectors.kit.catalog import Catalog, ObjectSpec, Ref

CATALOG = Catalog(
    "test",
    (
        ObjectSpec(
            "tasks",
            "id",
            "stamp",
            refs=(Ref("project_id", "projects", "project"), Ref("parent_id", "tasks")),
        ),
        ObjectSpec("projects", "id", "stamp", refs=(Ref("account_id", "accounts"),)),
        ObjectSpec("accounts", "id", "stamp", server_fields=frozenset({"stamp"})),
    ),
)


def test_unknown_objects_are_refused_naming_the_known_ones() -> None:
    with pytest.raises(PermanentError, match="supported: tasks, projects, accounts"):
        CATALOG["invoices"]


def test_references_must_name_catalogued_objects() -> None:
    with pytest.raises(ValueError, match="not in the catalog"):
        Catalog("test", (ObjectSpec("a", "id", "s", refs=(Ref("b_id", "b"),)),))


def test_write_order_puts_what_is_referenced_first() -> None:
    assert CATALOG.write_order() == ["accounts", "projects", "tasks"]
    assert [s.name for s, _ in CATALOG.referencing("projects")] == ["tasks"]


def test_outbound_bodies_bind_references_and_drop_server_fields() -> None:
    body = CATALOG["tasks"].outbound(
        {"project_id": "P1", "parent_id": "T0", "name": "x"},
        lambda ref, value: (f"{ref.bind}@bind", f"/{ref.target}({value})"),
    )
    assert body == {"project@bind": "/projects(P1)", "parent_id": "T0", "name": "x"}
    assert CATALOG["accounts"].outbound({"stamp": "s", "name": "n"}, lambda r, v: ("", v)) == {
        "name": "n"
    }
