"""Pieces every emulator shares: the server runner, fault injection and the object store."""
