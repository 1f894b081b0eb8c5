"""Dataverse Web API emulator (Dynamics 365 Project Operations); see docs/sandbox-dynamics.md."""

from pssync.sandbox.dynamics.emulator import DynamicsEmulator

__all__ = ["DynamicsEmulator"]
