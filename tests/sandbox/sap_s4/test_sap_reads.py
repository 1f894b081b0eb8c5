"""Reads through pyodata: metadata, filters, counts, client- and server-driven paging."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import requests

from pssync.sandbox.sap_s4 import SapS4Emulator

pytestmark = pytest.mark.integration

SEEDED = "startswith(BusinessPartnerIDByExtSystem, 'SF-') eq true"


def test_metadata_builds_a_typed_pyodata_model(partners: Any, projects: Any, billing: Any) -> None:
    partner = partners.schema.entity_type("A_BusinessPartnerType")
    assert [p.name for p in partner.key_proprties] == ["BusinessPartner"]
    assert partner.proprty("BusinessPartner").max_length == 10
    assert partner.proprty("BusinessPartnerUUID").typ.name == "Edm.Guid"
    assert not partner.proprty("BusinessPartnerFullName").creatable
    project = projects.schema.entity_type("A_EnterpriseProjectType")
    assert project.proprty("LastChangeDateTime").typ.name == "Edm.DateTimeOffset"
    assert project.proprty("ProjectStartDate").typ.name == "Edm.DateTime"
    net = billing.schema.entity_type("A_BillingDocumentType").proprty("TotalNetAmount")
    assert (net.typ.name, net.precision, net.scale) == ("Edm.Decimal", 16, 3)
    assert not billing.schema.entity_set("A_BillingDocument").creatable


def test_filtered_read_with_top_skip_and_inline_count(partners: Any) -> None:
    query = partners.entity_sets.A_BusinessPartner.get_entities
    first = query().filter(SEEDED).order_by("BusinessPartner").top(2).count(inline=True).execute()
    second = query().filter(SEEDED).order_by("BusinessPartner").skip(2).top(2).execute()
    assert first.total_count == 6
    assert [p.BusinessPartner for p in first] == ["1700000", "1700001"]
    assert [p.BusinessPartner for p in second] == ["1700002", "1700003"]
    assert query().filter(SEEDED).count().execute() == 6


def test_server_paging_follows_next_links_to_every_row(partners: Any) -> None:
    query = partners.entity_sets.A_BusinessPartner.get_entities
    page = query().filter(SEEDED).execute()
    seen = [p.BusinessPartner for p in page]
    assert len(seen) == 4 and page.next_url is not None  # page size is 4
    while page.next_url is not None:
        page = query().next_url(page.next_url).execute()
        seen += [p.BusinessPartner for p in page]
    assert seen == [f"17{i:05d}" for i in range(6)]


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("OrganizationBPName1 eq 'Acme Consulting'", ["1700000"]),
        ("substringof('ni', BusinessPartnerFullName)", ["1700002"]),
        (
            "(SearchTerm1 eq 'HOOLI' or SearchTerm1 eq 'GLOBEX')"
            " and not (BusinessPartner eq '1700001')",
            ["1700004"],
        ),
        ("BusinessPartner ge '1700004' and BusinessPartner lt '1700005'", ["1700004"]),
        ("tolower(SearchTerm1) eq 'umbrella'", ["1700003"]),
    ],
)
def test_filter_operators(partners: Any, expression: str, expected: list[str]) -> None:
    found = partners.entity_sets.A_BusinessPartner.get_entities().filter(expression).execute()
    assert [p.BusinessPartner for p in found] == expected


def test_typed_literals_select_by_date_guid_and_decimal(projects: Any, billing: Any) -> None:
    docs = billing.entity_sets.A_BillingDocument.get_entities
    late = docs().filter("BillingDocumentDate ge datetime'2024-02-01T00:00:00'").execute()
    assert [d.BillingDocument for d in late] == ["90000001", "90000002"]
    changed = docs().filter("LastChangeDateTime gt datetimeoffset'2024-02-28T12:00:00Z'").execute()
    assert [d.BillingDocument for d in changed] == ["90000002"]
    big = docs().filter("TotalNetAmount gt 2000.5M").execute()
    assert [d.BillingDocument for d in big] == ["90000002"]
    assert big[0].TotalNetAmount == "3000.500"  # decimals travel as strings
    uuid = "6f1d1f9e-8a4c-4c5e-9a57-0d5b2f3c1a01"
    elements = projects.entity_sets.A_EnterpriseProjectElement.get_entities()
    found = elements.filter(f"ProjectUUID eq guid'{uuid}'").execute()
    # The project definition is listed as the root element (initial ParentObjectUUID).
    assert sorted(e.ProjectElement for e in found) == ["PRJ-0001", "PRJ-0001.1"]


def test_wire_shapes_of_sets_and_single_entities(emulator: SapS4Emulator) -> None:
    http = requests.Session()
    http.auth = (emulator.username, emulator.password)
    url = emulator.service_url("API_BILLING_DOCUMENT_SRV")
    body = http.get(f"{url}A_BillingDocument?$format=json&$top=1&$inlinecount=allpages").json()
    row = body["d"]["results"][0]
    assert body["d"]["__count"] == "3"
    assert row["__metadata"] == {
        "id": f"{url}A_BillingDocument('90000000')",
        "uri": f"{url}A_BillingDocument('90000000')",
        "type": "API_BILLING_DOCUMENT_SRV.A_BillingDocumentType",
    }
    assert row["BillingDocumentDate"] == "/Date(1706400000000)/"
    assert row["LastChangeDateTime"] == "/Date(1706443200000+0000)/"
    for path in ("A_BillingDocument('90000001')", "A_BillingDocument(BillingDocument='90000001')"):
        single = http.get(f"{url}{path}?$format=json&$select=BillingDocument,TotalNetAmount").json()
        assert single["d"]["TotalNetAmount"] == "2000.500"
        assert set(single["d"]) == {"__metadata", "BillingDocument", "TotalNetAmount"}
    assert http.get(f"{url}A_BillingDocument('NOPE')?$format=json").status_code == 404


def test_pyodata_reads_one_entity_by_guid_key(projects: Any) -> None:
    uuid = "6f1d1f9e-8a4c-4c5e-9a57-0d5b2f3c1a01"
    project = projects.entity_sets.A_EnterpriseProject.get_entity(ProjectUUID=uuid).execute()
    assert project.Project == "PRJ-0001"
    assert project.ProjectStartDate == dt.datetime(2024, 8, 1, tzinfo=dt.UTC)
    assert project.LastChangeDateTime == dt.datetime(2024, 6, 30, 10, tzinfo=dt.UTC)
