"""The connectors that ship with pssync, declared by import path so none is imported until used.

One line per connector; keep the list flat and sorted. Third-party connectors do not belong here:
they register through the ``pssync.connectors`` entry point group (see docs/connectors.md).
"""

from __future__ import annotations

from pssync.connectors.registry import register_builtin

register_builtin("dynamics", "pssync.connectors.dynamics.connector:DynamicsConnector")
register_builtin("filedrop", "pssync.connectors.filedrop.connector:FileDropConnector")
register_builtin("kantata", "pssync.connectors.kantata.connector:KantataConnector")
register_builtin("netsuite", "pssync.connectors.netsuite.connector:NetSuiteConnector")
register_builtin("salesforce", "pssync.connectors.salesforce.connector:SalesforceConnector")
register_builtin("sap_s4", "pssync.connectors.sap_s4.connector:SapS4Connector")
