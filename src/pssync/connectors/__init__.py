"""Connectors: how pssync reaches real systems (see `base.Connector` for the contract)."""
