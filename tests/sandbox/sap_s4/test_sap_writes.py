"""Writes, the CSRF handshake, auth, SAP's error envelope and injected faults."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest
import requests
from pyodata.exceptions import HttpError

from pssync.sandbox.sap_s4 import SapS4Emulator

pytestmark = pytest.mark.integration


def _sap_error(response: requests.Response) -> dict[str, Any]:
    assert response.headers["content-type"].startswith("application/json")
    error: dict[str, Any] = response.json()["error"]
    assert set(error) == {"code", "message", "innererror"}
    assert error["message"]["lang"] == "en"
    return error


def test_create_with_csrf_token_through_pyodata(partners: Any) -> None:
    created = (
        partners.entity_sets.A_BusinessPartner.create_entity()
        .set(
            BusinessPartnerCategory="2",
            OrganizationBPName1="Stark",
            OrganizationBPName2="Ind.",
            BusinessPartnerIDByExtSystem="NEW-1",
        )
        .execute()
    )
    assert created.BusinessPartnerFullName == "Stark Ind."
    assert created.BusinessPartnerUUID is not None
    again = partners.entity_sets.A_BusinessPartner.get_entity(created.BusinessPartner).execute()
    assert again.BusinessPartnerIDByExtSystem == "NEW-1"
    assert again.LastChangeDate.date() == dt.datetime.now(dt.UTC).date()


def test_update_moves_last_change_stamp_for_incremental_reads(projects: Any) -> None:
    sets = projects.entity_sets
    project = (
        sets.A_EnterpriseProject.create_entity()
        .set(
            Project="PRJ-INC",
            ProjectDescription="Incremental",
            ProjectCurrency="EUR",
            ProjectStartDate=dt.datetime(2024, 9, 1, tzinfo=dt.UTC),
            ProjectEndDate=dt.datetime(2024, 12, 31, tzinfo=dt.UTC),
        )
        .execute()
    )
    created_at = project.LastChangeDateTime
    time.sleep(0.01)
    update = sets.A_EnterpriseProject.update_entity(ProjectUUID=project.ProjectUUID)
    update.add_headers({"If-Match": project.etag})  # the ETag of the create's response
    update.set(ProjectDescription="Incremental v2").execute()
    since = created_at.isoformat().replace("+00:00", "Z")
    changed = (
        sets.A_EnterpriseProject.get_entities()
        .filter(f"LastChangeDateTime gt datetimeoffset'{since}'")
        .execute()
    )
    assert [p.ProjectDescription for p in changed] == ["Incremental v2"]
    merge = projects.entity_sets.A_EnterpriseProject.update_entity(
        ProjectUUID=project.ProjectUUID, method="MERGE"
    )
    merge.add_headers({"If-Match": changed[0].etag})  # __metadata.etag of the read
    merge.set(PriorityCode="1").execute()
    final = sets.A_EnterpriseProject.get_entity(ProjectUUID=project.ProjectUUID).execute()
    assert (final.PriorityCode, final.ProjectDescription) == ("1", "Incremental v2")


def test_business_validation_comes_back_as_sap_error(projects: Any, partners: Any) -> None:
    element = projects.entity_sets.A_EnterpriseProjectElement.create_entity().set(
        ProjectUUID="00000000-0000-0000-0000-000000000001",
        ProjectElement="X.1",
        ProjectElementDescription="orphan",
    )
    with pytest.raises(HttpError) as orphan:
        element.execute()
    assert "does not exist" in _sap_error(orphan.value.response)["message"]["value"]
    person = partners.entity_sets.A_BusinessPartner.create_entity().set(
        BusinessPartnerCategory="1", FirstName="No", LastName="X" * 41
    )
    with pytest.raises(HttpError) as too_long:
        person.execute()
    error = _sap_error(too_long.value.response)
    assert error["innererror"]["errordetails"][0]["target"] == "LastName"


def test_write_without_csrf_token_is_refused(emulator: SapS4Emulator) -> None:
    url = emulator.service_url("API_BUSINESS_PARTNER") + "A_BusinessPartner"
    http = requests.Session()
    http.auth = (emulator.username, emulator.password)
    body = {"BusinessPartnerCategory": "2", "OrganizationBPName1": "Sneaky"}
    refused = http.post(url, json=body)
    assert refused.status_code == 403
    assert refused.headers["x-csrf-token"] == "Required"
    token = http.get(
        url + "?$top=0", headers={"x-csrf-token": "Fetch", "accept": "application/json"}
    )
    assert token.status_code == 200 and token.headers["x-csrf-token"]
    cookieless = requests.post(
        url, json=body, auth=http.auth, headers={"x-csrf-token": token.headers["x-csrf-token"]}
    )
    assert cookieless.status_code == 403  # the token is bound to the session cookie
    accepted = http.post(url, json=body, headers={"x-csrf-token": token.headers["x-csrf-token"]})
    assert accepted.status_code == 201


@pytest.mark.parametrize(
    ("expression", "fragment"),
    [
        ("Nope eq 'x'", "Property Nope not found"),
        ("BusinessPartner eq", "unexpected end"),
        ("BusinessPartner eq datetime'2024-01-01T00:00:00'", "Invalid parametertype"),
        ("BusinessPartner eq 'a' and (", "unexpected end"),
        ("__import__('os')", "unsupported function"),
    ],
)
def test_bad_filter_is_a_400_in_sap_format(
    emulator: SapS4Emulator, expression: str, fragment: str
) -> None:
    url = emulator.service_url("API_BUSINESS_PARTNER") + "A_BusinessPartner"
    response = requests.get(
        url,
        params={"$filter": expression, "$format": "json"},
        auth=(emulator.username, emulator.password),
    )
    assert response.status_code == 400
    error = _sap_error(response)
    assert fragment in error["message"]["value"]
    assert error["innererror"]["application"]["service_id"] == "API_BUSINESS_PARTNER"


def test_unauthenticated_requests_get_401(emulator: SapS4Emulator) -> None:
    url = emulator.service_url("API_BUSINESS_PARTNER")
    assert requests.get(url + "$metadata").status_code == 401
    wrong = requests.get(url + "$metadata", auth=(emulator.username, "wrong"))
    assert wrong.status_code == 401
    assert wrong.headers["www-authenticate"].startswith("Basic")


def test_billing_documents_are_read_only(
    emulator: SapS4Emulator, session: requests.Session
) -> None:
    url = emulator.service_url("API_BILLING_DOCUMENT_SRV") + "A_BillingDocument"
    response = session.post(url, json={"BillingDocument": "1"})
    assert response.status_code == 405
    _sap_error(response)


def test_injected_faults_use_sap_error_body(emulator: SapS4Emulator) -> None:
    admin = f"{emulator.base_url}/__admin/faults"
    requests.put(admin, json={"error_rate": 1.0, "error_statuses": [503]}).raise_for_status()
    try:
        url = emulator.service_url("API_BUSINESS_PARTNER") + "$metadata"
        response = requests.get(url, auth=(emulator.username, emulator.password))
    finally:
        requests.put(admin, json={"error_rate": 0.0}).raise_for_status()
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert _sap_error(response)["message"]["value"] == "injected fault"
