"""File-drop legacy ERP emulator: CSV batches in, ack/reject files and exports out."""

from pssync.sandbox.filedrop.emulator import FileDropEmulator

__all__ = ["FileDropEmulator"]
