"""ETags and If-Match, the read-only project-definition root element, deep insert of business
partners with grouping and roles, and ``$batch`` changesets, as SAP documents them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import requests
from pyodata.exceptions import HttpError
from pyodata.v2.service import ODataHttpResponse

from pssync.sandbox.sap_s4 import SapS4Emulator

from .conftest import PROJECT_UUID

pytestmark = pytest.mark.integration
ZERO = "00000000-0000-0000-0000-000000000000"


def _new_project(projects: Any, code: str) -> Any:
    return (
        projects.entity_sets.A_EnterpriseProject.create_entity()
        .set(
            Project=code,
            ProjectDescription=f"Project {code}",
            ProjectStartDate=dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
            ProjectEndDate=dt.datetime(2025, 6, 30, tzinfo=dt.UTC),
        )
        .execute()
    )


def test_reads_carry_the_etag_in_metadata_and_header(
    emulator: SapS4Emulator, session: requests.Session
) -> None:
    url = emulator.service_url("API_ENTERPRISE_PROJECT_SRV")
    one = session.get(f"{url}A_EnterpriseProject(guid'{PROJECT_UUID}')?$format=json")
    etag = one.json()["d"]["__metadata"]["etag"]
    assert one.headers["etag"] == etag
    assert etag == "W/\"datetimeoffset'2024-06-30T10%3A00%3A00.0000000Z'\""
    listed = session.get(f"{url}A_EnterpriseProjectElement?$format=json").json()["d"]["results"]
    assert all(r["__metadata"]["etag"].startswith('W/"datetimeoffset') for r in listed)
    metadata = session.get(f"{url}$metadata").text
    assert 'Name="LastChangeDateTime" Type="Edm.DateTimeOffset" ConcurrencyMode="Fixed"' in metadata


def test_update_without_if_match_is_428_and_with_a_stale_etag_412(projects: Any) -> None:
    """SAP KBA 3514624 / 2962502: PATCH needs the ETag of a prior GET as If-Match."""
    sets = projects.entity_sets
    project = _new_project(projects, "PRJ-ETAG")
    bare = sets.A_EnterpriseProject.update_entity(ProjectUUID=project.ProjectUUID, method="MERGE")
    with pytest.raises(HttpError) as missing:
        bare.set(PriorityCode="2").execute()
    assert missing.value.response.status_code == 428
    fresh = sets.A_EnterpriseProject.update_entity(ProjectUUID=project.ProjectUUID, method="MERGE")
    fresh.add_headers({"If-Match": project.etag})
    fresh.set(PriorityCode="2").execute()
    stale = sets.A_EnterpriseProject.update_entity(ProjectUUID=project.ProjectUUID, method="PATCH")
    stale.add_headers({"If-Match": project.etag})  # the ETag before the MERGE above
    with pytest.raises(HttpError) as changed:
        stale.set(PriorityCode="3").execute()
    assert changed.value.response.status_code == 412
    now = sets.A_EnterpriseProject.get_entity(ProjectUUID=project.ProjectUUID).execute()
    assert now.PriorityCode == "2" and now.etag != project.etag


def test_project_definition_is_a_read_only_root_element(projects: Any) -> None:
    """SAP KBA 3743470: the root node is listed among the elements, with the initial
    ParentObjectUUID, and a PATCH on it fails with /S4PPM/CRUD/377."""
    elements = projects.entity_sets.A_EnterpriseProjectElement
    roots = elements.get_entities().filter(f"ParentObjectUUID eq guid'{ZERO}'").execute()
    root = next(r for r in roots if str(r.ProjectUUID) == PROJECT_UUID)
    assert (root.ProjectElement, str(root.ProjectElementUUID)) == ("PRJ-0001", PROJECT_UUID)
    update = elements.update_entity(ProjectElementUUID=root.ProjectElementUUID, method="MERGE")
    update.add_headers({"If-Match": root.etag})
    with pytest.raises(HttpError) as refused:
        update.set(ProjectElementDescription="Renamed").execute()
    error = refused.value.response.json()["error"]
    assert refused.value.response.status_code == 400
    assert error["code"] == "/S4PPM/CRUD/377"
    assert error["message"]["value"] == "Use the Project entity to update the project definition."
    others = elements.get_entities().filter(f"ParentObjectUUID ne guid'{ZERO}'").execute()
    assert "PRJ-0001" not in {e.ProjectElement for e in others}


def test_partner_deep_insert_with_grouping_roles_and_customer(partners: Any) -> None:
    created = (
        partners.entity_sets.A_BusinessPartner.create_entity()
        .set(
            BusinessPartnerCategory="2",
            BusinessPartnerGrouping="BP02",
            OrganizationBPName1="Wayne Enterprises",
            to_BusinessPartnerRole=[
                {"BusinessPartnerRole": "FLCU00"},
                {"BusinessPartnerRole": "FLCU01"},
            ],
            to_Customer={"to_CustomerCompany": [{"CompanyCode": "DE01", "PaymentTerms": "0030"}]},
        )
        .execute()
    )
    number = created.BusinessPartner
    assert created.Customer == number and created.BusinessPartnerGrouping == "BP02"
    sets = partners.entity_sets
    roles = sets.A_BusinessPartnerRole.get_entities().filter(f"BusinessPartner eq '{number}'")
    assert sorted(r.BusinessPartnerRole for r in roles.execute()) == ["FLCU00", "FLCU01"]
    company = sets.A_CustomerCompany.get_entity(Customer=number, CompanyCode="DE01").execute()
    assert company.PaymentTerms == "0030"
    assert sets.A_Customer.get_entity(number).execute().CustomerName == "Wayne Enterprises"


@pytest.mark.parametrize(
    ("body", "target"),
    [
        ({"BusinessPartnerGrouping": "ZZ99"}, "BusinessPartnerGrouping"),
        ({"BusinessPartner": "1799999"}, "BusinessPartner"),  # BP01 numbers internally
        ({"to_BusinessPartnerRole": [{"BusinessPartnerRole": "NOPE"}]}, "BusinessPartnerRole"),
        ({"to_Customer": {"CustomerName": "No role"}}, "to_Customer"),
    ],
)
def test_partner_creation_is_all_or_nothing(
    emulator: SapS4Emulator, session: requests.Session, body: dict[str, Any], target: str
) -> None:
    url = emulator.service_url("API_BUSINESS_PARTNER")
    base = {"BusinessPartnerCategory": "2", "OrganizationBPName1": f"Refused {target}"}
    before = session.get(f"{url}A_BusinessPartner/$count").text
    refused = session.post(f"{url}A_BusinessPartner", json=base | body)
    assert refused.status_code == 400
    assert refused.json()["error"]["innererror"]["errordetails"][0]["target"] == target
    assert session.get(f"{url}A_BusinessPartner/$count").text == before


def test_batch_changesets_are_atomic_and_independent(
    emulator: SapS4Emulator, projects: Any
) -> None:
    """Two changesets in one $batch through pyodata: the good one is kept, the failing one
    (its second request refers to a project that does not exist) leaves nothing behind."""
    project = _new_project(projects, "PRJ-BATCH")
    elements = projects.entity_sets.A_EnterpriseProjectElement

    def element(code: str, project_uuid: Any) -> Any:
        return elements.create_entity().set(
            ProjectUUID=project_uuid, ProjectElement=code, ProjectElementDescription=code
        )

    batch = projects.create_batch()
    good = projects.create_changeset()
    good.add_request(element("PRJ-BATCH.1", project.ProjectUUID))
    update = projects.entity_sets.A_EnterpriseProject.update_entity(
        ProjectUUID=project.ProjectUUID, method="MERGE"
    )
    update.add_headers({"If-Match": project.etag})
    good.add_request(update.set(PriorityCode="1"))
    bad = projects.create_changeset()
    bad.add_request(element("PRJ-BATCH.2", project.ProjectUUID))
    bad.add_request(element("PRJ-BATCH.3", "6f1d1f9e-0000-4000-8000-000000000000"))
    batch.add_request(good)
    batch.add_request(bad)
    with pytest.raises(HttpError) as failed:  # pyodata raises for a changeset answered by one error
        batch.execute()
    response = failed.value.response
    assert isinstance(response, ODataHttpResponse) and response.status_code == 400
    mine = elements.get_entities().filter(f"ProjectUUID eq guid'{project.ProjectUUID}'")
    codes = {e.ProjectElement for e in mine.execute()}  # pages hold 4 rows here
    assert "PRJ-BATCH.1" in codes and not {"PRJ-BATCH.2", "PRJ-BATCH.3"} & codes
    kept = projects.entity_sets.A_EnterpriseProject.get_entity(ProjectUUID=project.ProjectUUID)
    assert kept.execute().PriorityCode == "1"


def test_batch_reads_and_writes_answer_in_order(emulator: SapS4Emulator, partners: Any) -> None:
    batch = partners.create_batch()
    batch.add_request(partners.entity_sets.A_BusinessPartner.get_entities().top(2))
    changeset = partners.create_changeset()
    changeset.add_request(
        partners.entity_sets.A_BusinessPartner.create_entity().set(
            BusinessPartnerCategory="2", OrganizationBPName1="Batched GmbH"
        )
    )
    batch.add_request(changeset)
    listed, (created,) = batch.execute()
    assert len(listed) == 2 and created.BusinessPartnerFullName == "Batched GmbH"
