"""The connectors that ship with pssync, declared by import path so none is imported until used.

One entry per connector; keep the table flat and sorted. This module imports nothing: the
registry reads the table. Third-party connectors do not belong here: they register through the
``pssync.connectors`` entry point group (see docs/connectors.md).
"""

from __future__ import annotations

BUILTIN: dict[str, str] = {
    "dynamics": "pssync.connectors.dynamics.connector:DynamicsConnector",
    "filedrop": "pssync.connectors.filedrop.connector:FileDropConnector",
    "kantata": "pssync.connectors.kantata.connector:KantataConnector",
    "netsuite": "pssync.connectors.netsuite.connector:NetSuiteConnector",
    "salesforce": "pssync.connectors.salesforce.connector:SalesforceConnector",
    "sap_s4": "pssync.connectors.sap_s4.connector:SapS4Connector",
}
