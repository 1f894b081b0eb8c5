"""Kantata OX (Mavenlink API v1) emulator: the PSA's workspaces, staffing, time and invoices."""

from pssync.sandbox.kantata.emulator import KantataEmulator

__all__ = ["KantataEmulator"]
