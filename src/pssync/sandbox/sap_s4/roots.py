"""The project definition as the root of the project's element hierarchy.

In API_ENTERPRISE_PROJECT_SRV every enterprise project's WBS has a root node, the project
definition, which ``A_EnterpriseProjectElement`` lists like any element: its
``ParentObjectUUID`` is the initial GUID, and it is read-only there. A PATCH/MERGE/PUT on it is
refused with message /S4PPM/CRUD/377 "Use the Project entity to update the project definition."
(SAP KBA 3743470); the project definition is changed through ``A_EnterpriseProject``. The
emulator derives the root from the stored project, so the two can never disagree.
"""

from __future__ import annotations

from typing import Any

from pssync.sandbox.sap_s4.errors import ODataError

INITIAL_GUID = "00000000-0000-0000-0000-000000000000"
ROOT_REFUSAL = "Use the Project entity to update the project definition."

# Element property <- project property, for the root node.
_FROM_PROJECT = {
    "ProjectElementUUID": "ProjectUUID",
    "ProjectUUID": "ProjectUUID",
    "ProjectElement": "Project",
    "ProjectElementDescription": "ProjectDescription",
    "PlannedStartDate": "ProjectStartDate",
    "PlannedEndDate": "ProjectEndDate",
    "ProcessingStatus": "ProcessingStatus",
    "ResponsibleCostCenter": "ResponsibleCostCenter",
    "ProfitCenter": "ProfitCenter",
    "WBSElementIsBillingElement": "IsBillingRelevant",
    "WBSElementInternalID": "ProjectInternalID",
    "LastChangeDateTime": "LastChangeDateTime",
    "LastChangedByUser": "LastChangedByUser",
}


def root_element(project: dict[str, Any]) -> dict[str, Any]:
    """The root node of `project` as an A_EnterpriseProjectElement record (wire shape)."""
    row = {element: project.get(source) for element, source in _FROM_PROJECT.items()}
    row["ParentObjectUUID"] = INITIAL_GUID
    row["CreationDateTime"] = project.get("CreationDateTime") or project.get("LastChangeDateTime")
    return row


def is_root(record: dict[str, Any]) -> bool:
    return record.get("ParentObjectUUID") == INITIAL_GUID


def refuse_root_change() -> ODataError:
    return ODataError(400, ROOT_REFUSAL, target="ProjectElementUUID", code="/S4PPM/CRUD/377")
