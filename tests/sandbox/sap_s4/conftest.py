"""One seeded SAP emulator per test module; writes go to fresh records so tests stay independent."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pyodata
import pytest
import requests

from pssync.sandbox.sap_s4 import SapS4Emulator

PROJECT_UUID = "6f1d1f9e-8a4c-4c5e-9a57-0d5b2f3c1a01"

VIEW: dict[str, list[dict[str, Any]]] = {
    "A_BusinessPartner": [
        {
            "BusinessPartner": f"17{i:05d}",
            "BusinessPartnerCategory": "2",
            "OrganizationBPName1": f"{name} Consulting",
            "BusinessPartnerIDByExtSystem": f"SF-{i}",
            "SearchTerm1": name.upper()[:20],
        }
        for i, name in enumerate(["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay"])
    ],
    "A_EnterpriseProject": [
        {
            "ProjectUUID": PROJECT_UUID,
            "Project": "PRJ-0001",
            "ProjectDescription": "Transformation programme",
            "ProjectStartDate": "2024-08-01",
            "ProjectEndDate": "2025-01-31",
            "LastChangeDateTime": "2024-06-30T10:00:00Z",
        }
    ],
    "A_EnterpriseProjectElement": [
        {
            "ProjectUUID": PROJECT_UUID,
            "ProjectElement": "PRJ-0001.1",
            "ProjectElementDescription": "Mobilisation",
        }
    ],
    "A_BillingDocument": [
        {
            "BillingDocument": f"9000000{i}",
            "BillingDocumentType": "F2",
            "BillingDocumentDate": f"2024-0{i + 1}-28",
            "SoldToParty": "1700000",
            "TotalNetAmount": f"{1000 * (i + 1)}.50",
            "TransactionCurrency": "EUR",
            "LastChangeDateTime": f"2024-0{i + 1}-28T12:00:00+00:00",
        }
        for i in range(3)
    ],
}


@pytest.fixture(scope="module")
def emulator() -> Iterator[SapS4Emulator]:
    with SapS4Emulator(page_size=4) as emu:
        emu.seed(VIEW)
        yield emu


@pytest.fixture
def session(emulator: SapS4Emulator) -> requests.Session:
    """Basic auth plus a CSRF token fetched as SAP clients do (HEAD with ``x-csrf-token: Fetch``;
    pyodata itself leaves the token to the session it is given)."""
    http = requests.Session()
    http.auth = (emulator.username, emulator.password)
    response = http.head(
        emulator.service_url("API_BUSINESS_PARTNER"), headers={"x-csrf-token": "Fetch"}
    )
    http.headers["x-csrf-token"] = response.headers["x-csrf-token"]
    return http


@pytest.fixture
def partners(emulator: SapS4Emulator, session: requests.Session) -> Any:
    return pyodata.Client(emulator.service_url("API_BUSINESS_PARTNER"), session)


@pytest.fixture
def projects(emulator: SapS4Emulator, session: requests.Session) -> Any:
    return pyodata.Client(emulator.service_url("API_ENTERPRISE_PROJECT_SRV"), session)


@pytest.fixture
def billing(emulator: SapS4Emulator, session: requests.Session) -> Any:
    return pyodata.Client(emulator.service_url("API_BILLING_DOCUMENT_SRV"), session)
