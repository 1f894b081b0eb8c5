"""ServiceNow emulator: the Table API (incident and friends) with basic authentication."""

from pssync.sandbox.servicenow.emulator import ServiceNowEmulator

__all__ = ["ServiceNowEmulator"]
