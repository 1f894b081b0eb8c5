"""SAP S/4HANA emulator: the OData v2 business partner, enterprise project and billing APIs."""

from pssync.sandbox.sap_s4.emulator import SapS4Emulator

__all__ = ["SapS4Emulator"]
