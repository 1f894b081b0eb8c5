"""The Salesforce connector with the Certinia PSA profile (``profile: certinia``).

The Salesforce emulator serves only standard objects, so this module teaches each emulator it
starts the Certinia managed-package objects (pse__Proj__c, pse__Resource_Request__c,
pse__Assignment__c, pse__Milestone__c, and the pse__Region__c / pse__Practice__c lookups) by
adding their definitions to the emulator's catalog; describe, SOQL, collections and getDeleted
then work on them as on standard objects. The conformance suite runs on projects; the tests below
translate every Certinia object through certinia.yaml into canonical entities.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pytest
from conformance import ConnectorConformance, View, drain

from pssync.connectors.base import Connector, Outcome
from pssync.connectors.errors import QuotaExhaustedError
from pssync.connectors.salesforce import SalesforceConnector, SalesforceSettings
from pssync.mapping import Translator, load_spec
from pssync.model import Assignment, BillingMilestone, Project, ResourceRequest
from pssync.sandbox.common.emulator import Emulator
from pssync.sandbox.firm import generate_firm
from pssync.sandbox.salesforce import SalesforceEmulator
from pssync.sandbox.salesforce.ids import IdFactory
from pssync.sandbox.salesforce.schema import FieldDef, ObjectDef

pytestmark = pytest.mark.integration

MAPPING = Path(__file__).parents[2] / "src/pssync/connectors/salesforce/certinia.yaml"
PREFIXES = {
    "pse__Region__c": "a0R",
    "pse__Practice__c": "a0Q",
    "pse__Proj__c": "a0P",
    "pse__Resource_Request__c": "a0S",
    "pse__Assignment__c": "a0A",
    "pse__Milestone__c": "a0M",
}
PSA_OBJECTS = (
    "pse__Proj__c",
    "pse__Resource_Request__c",
    "pse__Assignment__c",
    "pse__Milestone__c",
)
REGIONS = ("North America", "EMEA", "APAC")
PRACTICES = ("ERP Implementation", "Cloud & Infrastructure", "Data & Analytics")
ROLES = ("Solution Architect", "Project Manager", "Consultant")


# ---- the Certinia objects the emulator lacks --------------------------------------------


def _ro(name: str, kind: str, **kw: Any) -> FieldDef:
    return FieldDef(name, kind, createable=False, updateable=False, **kw)


def _ref(name: str, target: str, **kw: Any) -> FieldDef:
    rel = name.replace("__c", "__r")
    return FieldDef(name, "reference", length=18, reference_to=target, relationship_name=rel, **kw)


def _custom(name: str, label: str, fields: list[FieldDef]) -> ObjectDef:
    system = [
        _ro("Id", "id", length=18, nillable=False),
        _ro("IsDeleted", "boolean", nillable=False),
        _ro("CreatedDate", "datetime", nillable=False),
        _ro("CreatedById", "reference", reference_to="User", relationship_name="CreatedBy"),
        _ro("LastModifiedDate", "datetime", nillable=False),
        _ro("LastModifiedById", "reference", reference_to="User"),
        _ro("SystemModstamp", "datetime", nillable=False),
        _ref("OwnerId", "User"),
        FieldDef("Name", "string", length=80, required=True, nillable=False, name_field=True),
        FieldDef("CurrencyIsoCode", "picklist", length=3),
        FieldDef("External_Id__c", "string", length=255, external_id=True, unique=True),
    ]
    return ObjectDef(name, label, label + "s", system + fields)


def certinia_objects() -> list[ObjectDef]:
    """Certinia's objects with the fields certinia.yaml maps (API names of the package)."""
    dates = [FieldDef("pse__Start_Date__c", "date"), FieldDef("pse__End_Date__c", "date")]
    return [
        _custom("pse__Region__c", "Region", []),
        _custom("pse__Practice__c", "Practice", []),
        _custom(
            "pse__Proj__c",
            "Project",
            [
                _ref("pse__Account__c", "Account"),
                _ref("pse__Opportunity__c", "Opportunity"),
                FieldDef("pse__Stage__c", "picklist", length=255),
                _ro("pse__Project_ID__c", "string", length=30),
                _ref("pse__Region__c", "pse__Region__c"),
                _ref("pse__Practice__c", "pse__Practice__c"),
                *dates,
                FieldDef("pse__Planned_Hours__c", "double"),
                FieldDef("pse__Is_Active__c", "boolean", nillable=False),
            ],
        ),
        _custom(
            "pse__Resource_Request__c",
            "Resource Request",
            [
                _ref("pse__Project__c", "pse__Proj__c"),
                FieldDef("pse__Resource_Role__c", "picklist", length=255),
                _ref("pse__Region__c", "pse__Region__c"),
                FieldDef("pse__SOW_Hours__c", "double"),
                *dates,
                FieldDef("pse__Status__c", "picklist", length=255),
            ],
        ),
        _custom(
            "pse__Assignment__c",
            "Assignment",
            [
                _ref("pse__Project__c", "pse__Proj__c"),
                _ref("pse__Resource__c", "Contact"),
                FieldDef("pse__Role__c", "picklist", length=255),
                FieldDef("pse__Status__c", "picklist", length=255),
                *dates,
                FieldDef("pse__Planned_Hours__c", "double"),
                FieldDef("pse__Bill_Rate__c", "currency"),
            ],
        ),
        _custom(
            "pse__Milestone__c",
            "Milestone",
            [
                _ref("pse__Project__c", "pse__Proj__c"),
                FieldDef("pse__Target_Date__c", "date"),
                FieldDef("pse__Milestone_Amount__c", "currency"),
                FieldDef("pse__Status__c", "picklist", length=255),
                FieldDef("pse__Invoiced__c", "boolean", nillable=False),
            ],
        ),
    ]


def certinia_emulator() -> SalesforceEmulator:
    """A started emulator that also serves the Certinia objects (added to its catalog)."""
    emu = SalesforceEmulator()
    for obj in certinia_objects():
        emu.catalog.add(obj, PREFIXES[obj.name])
    emu.start()
    return emu


@functools.cache
def certinia_view() -> View:
    """The firm's CRM records plus Certinia records for its won deals: a project each, with a
    resource request, an assignment (every third one tentative) and two milestones."""
    crm = generate_firm("small").views["salesforce"]
    ids = IdFactory(7)
    regions = [{"Id": ids.new("a0R"), "Name": n} for n in REGIONS]
    practices = [{"Id": ids.new("a0Q"), "Name": n} for n in PRACTICES]
    contacts = crm["Contact"]
    view: View = {k: list(v) for k, v in crm.items()}
    view |= {"pse__Region__c": regions, "pse__Practice__c": practices}
    projects, requests, assignments, milestones = [], [], [], []
    for n, opp in enumerate(o for o in crm["Opportunity"] if o["IsWon"]):
        start, end = opp["Requested_Start__c"], opp["CloseDate"][:4] + "-12-31"
        end = max(end, start)
        project = {
            "Id": ids.new("a0P"),
            "Name": opp["Name"][:80],
            "pse__Account__c": opp["AccountId"],
            "pse__Opportunity__c": opp["Id"],
            "pse__Stage__c": ("Planned", "In Progress", "Completed")[n % 3],
            "pse__Project_ID__c": f"PRJ-{n:05d}",
            "pse__Region__c": regions[n % 3]["Id"],
            "pse__Practice__c": practices[n % 3]["Id"],
            "pse__Start_Date__c": start,
            "pse__End_Date__c": end,
            "pse__Planned_Hours__c": 400 + n,
            "CurrencyIsoCode": opp["CurrencyIsoCode"],
        }
        projects.append(project)
        common = {"pse__Project__c": project["Id"], "CurrencyIsoCode": opp["CurrencyIsoCode"]}
        dates = {"pse__Start_Date__c": start, "pse__End_Date__c": end}
        requests.append(
            {
                "Id": ids.new("a0S"),
                "Name": f"RR-{n:05d}",
                "pse__Resource_Role__c": ROLES[n % 3],
                "pse__Region__c": regions[n % 3]["Id"],
                "pse__SOW_Hours__c": 120.5,
                "pse__Status__c": ("Ready to Staff", "Assigned", "Hold")[n % 3],
                **common,
                **dates,
            }
        )
        assignments.append(
            {
                "Id": ids.new("a0A"),
                "Name": f"AS-{n:05d}",
                "pse__Resource__c": contacts[n % len(contacts)]["Id"],
                "pse__Role__c": ROLES[n % 3],
                "pse__Status__c": "Tentative" if n % 3 == 0 else "Scheduled",
                "pse__Planned_Hours__c": 80,
                "pse__Bill_Rate__c": 210.0,
                **common,
                **dates,
            }
        )
        for k, status in enumerate(("Approved", "Planned")):
            milestones.append(
                {
                    "Id": ids.new("a0M"),
                    "Name": f"Milestone {k + 1} of {project['Name'][:60]}",
                    "pse__Target_Date__c": end if k else start,
                    "pse__Milestone_Amount__c": 25000.0,
                    "pse__Status__c": status,
                    "pse__Invoiced__c": k == 0 and n % 2 == 0,
                    **common,
                }
            )
    return view | {
        "pse__Proj__c": projects,
        "pse__Resource_Request__c": requests,
        "pse__Assignment__c": assignments,
        "pse__Milestone__c": milestones,
    }


def settings_for(emulator: Emulator, **overrides: Any) -> SalesforceSettings:
    assert isinstance(emulator, SalesforceEmulator) and emulator.tls is not None
    creds = emulator.credentials()
    values: dict[str, Any] = {
        "base_url": creds["instance_url"],
        "client_id": creds["client_id"],
        "client_secret": creds["client_secret"],
        "ca_file": str(emulator.tls.ca_file),
        "profile": "certinia",
    }
    return SalesforceSettings.model_validate(values | overrides)


class TestCertiniaConformance(ConnectorConformance):
    write_object = "pse__Proj__c"
    external_id_field = "External_Id__c"
    small_page = 200
    quota_error = QuotaExhaustedError

    def start_emulator(self) -> Emulator:
        return certinia_emulator()

    def seed_view(self) -> View:
        return certinia_view()

    def seeded_records(self, view: View) -> dict[str, dict[str, dict[str, Any]]]:
        return {obj: {str(r["Id"]): r for r in view[obj]} for obj in PSA_OBJECTS}

    def connector_for(self, emulator: Emulator, **settings: Any) -> Connector:
        return SalesforceConnector(settings_for(emulator, **settings))

    def bad_credentials(self, emulator: Emulator) -> Connector | None:
        return self.connector_for(emulator, client_secret="not-the-secret")

    def rows_for_paging(self, n: int) -> View:
        return {"pse__Proj__c": [{"Name": f"Paging {i}"} for i in range(n)]}

    def make_record(self, i: int, tag: str, version: int = 0) -> dict[str, Any]:
        return {
            "External_Id__c": f"P{tag}-{i}",
            "Name": f"Project {tag} {i}",
            "pse__Stage__c": "In Progress" if version else "Planned",
            "pse__Start_Date__c": "2026-08-03",
            "pse__Planned_Hours__c": 320 + version,
        }

    def rich_record(self, tag: str) -> dict[str, Any]:
        return {
            "External_Id__c": f"R{tag}",
            "Name": ("Zürich Ærø 東京 ✓ — 'Straße' " * 4)[:80],  # Name holds 80 characters
            "pse__Stage__c": "Draft",
            "pse__End_Date__c": None,
            "pse__Planned_Hours__c": None,
        }

    def bad_record(self, tag: str) -> tuple[dict[str, Any], str | None]:
        return {"External_Id__c": f"B{tag}", "pse__Stage__c": "Planned"}, "Name"


# ---- translation through certinia.yaml ---------------------------------------------------


@pytest.fixture(scope="module")
def org() -> Any:
    emu = certinia_emulator()
    emu.seed(certinia_view())
    yield emu
    emu.stop()


@pytest.fixture
def conn(org: SalesforceEmulator) -> SalesforceConnector:
    return SalesforceConnector(settings_for(org))


REFERENCES = {"account_id", "project_id", "resource_id", "contract_line_id"}


@pytest.mark.parametrize(
    ("obj", "model"),
    [
        ("pse__Proj__c", Project),
        ("pse__Resource_Request__c", ResourceRequest),
        ("pse__Assignment__c", Assignment),
        ("pse__Milestone__c", BillingMilestone),
    ],
)
def test_certinia_records_translate_to_canonical_entities(
    conn: SalesforceConnector, obj: str, model: Any
) -> None:
    translator = Translator(load_spec(MAPPING))
    records = drain(conn.snapshot(obj))[0]
    assert len(records) == len(certinia_view()[obj]) > 0
    for record in records:
        payload = translator.to_canonical(obj, record.data)
        for ref in REFERENCES & set(model.model_fields):
            assert str(payload[ref]).startswith(("001", "003", "a0P")), (ref, payload)
        model.model_validate({"id": f"x-{record.id}", **payload})


def test_lookups_are_read_by_name_and_status_rules_apply(conn: SalesforceConnector) -> None:
    translator = Translator(load_spec(MAPPING))
    projects = [
        translator.to_canonical("pse__Proj__c", r.data)
        for r in drain(conn.snapshot("pse__Proj__c"))[0]
    ]
    assert {p["region_id"] for p in projects} == {"reg-na", "reg-emea", "reg-apac"}
    assert {p["status"] for p in projects} == {"draft", "active", "completed"}
    assert all(p["project_code"].startswith("PRJ-") for p in projects)
    bookings = [
        translator.to_canonical("pse__Assignment__c", r.data)["booking_type"]
        for r in drain(conn.snapshot("pse__Assignment__c"))[0]
    ]
    assert {"soft", "hard"} == set(bookings)
    statuses = {
        translator.to_canonical("pse__Milestone__c", r.data)["status"]
        for r in drain(conn.snapshot("pse__Milestone__c"))[0]
    }
    assert statuses == {"invoiced", "approved", "planned"}


def test_request_upserts_with_its_project_given_by_external_id(conn: SalesforceConnector) -> None:
    (project,) = conn.upsert(
        "pse__Proj__c", "External_Id__c", [{"External_Id__c": "PX-1", "Name": "Parent"}]
    )
    request = {
        "External_Id__c": "RX-1",
        "Name": "Architect for PX-1",
        "pse__Project__r": {"External_Id__c": "PX-1"},
        "pse__SOW_Hours__c": 160,
        "pse__Resource_Role__c": "Solution Architect",
    }
    (created,) = conn.upsert("pse__Resource_Request__c", "External_Id__c", [request])
    assert created.outcome is Outcome.CREATED, created.error
    (again,) = conn.upsert("pse__Resource_Request__c", "External_Id__c", [request])
    assert (again.outcome, again.id) == (Outcome.UNCHANGED, created.id)
    stored = {r.id: r for r in drain(conn.snapshot("pse__Resource_Request__c"))[0]}[created.id]
    assert stored.data["pse__Project__c"] == project.id


def test_describe_lists_certinia_fields(conn: SalesforceConnector) -> None:
    fields = {f.name: f for f in conn.describe("pse__Assignment__c").fields}
    assert fields["pse__Resource__c"].type == "reference"
    assert fields["External_Id__c"].external_id
    assert {"pse__Bill_Rate__c", "pse__Planned_Hours__c", "pse__Status__c"} <= set(fields)
