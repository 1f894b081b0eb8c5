"""NetSuite emulator: SuiteTalk REST record API and SuiteQL with token-based authentication."""

from pssync.sandbox.netsuite.emulator import NetSuiteEmulator

__all__ = ["NetSuiteEmulator"]
