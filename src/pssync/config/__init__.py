"""Configuration: `pssync.yaml` plus ``PSSYNC__...`` environment variables."""

from pssync.config.settings import ConfigError, ConnectorConfig, Settings, load_settings

__all__ = ["ConfigError", "ConnectorConfig", "Settings", "load_settings"]
