"""Salesforce REST API emulator (HTTPS), driven in tests by simple-salesforce."""

from pssync.sandbox.salesforce.emulator import SalesforceEmulator

__all__ = ["SalesforceEmulator"]
