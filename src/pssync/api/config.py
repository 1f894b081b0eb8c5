"""API and dashboard settings: credentials, limits and where the data lives.

They sit apart from `pssync.Settings` (whose file schema is strict and owned by the core) and
come from ``PSSYNC_API_*`` environment variables, so secrets such as the JWT key or the session
key never have to be written into ``pssync.yaml``.
"""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class ApiSettings(BaseSettings):
    """Everything the HTTP layer needs beyond the core configuration."""

    model_config = SettingsConfigDict(env_prefix="PSSYNC_API_", extra="ignore")

    analytics_path: str | None = Field(
        default=None, description="DuckDB file for forecasts (default: Settings.analytics_path)."
    )
    jwt_secret: SecretStr | None = Field(
        default=None, description="HS256 key: enables /oauth/token and HS256 bearer tokens."
    )
    jwt_public_key: str | None = Field(
        default=None, description="PEM RSA public key of an external issuer (RS256 tokens)."
    )
    jwt_issuer: str = "pssync"
    jwt_audience: str = "pssync-api"
    token_ttl_seconds: int = Field(default=3600, ge=60, le=86400)
    session_secret: SecretStr | None = Field(
        default=None, description="Key signing dashboard cookies (default: random per process)."
    )
    session_ttl_seconds: int = Field(default=8 * 3600, ge=60)
    cookie_secure: bool = Field(default=False, description="Send cookies over HTTPS only.")
    rate_per_minute: float = Field(default=600.0, gt=0)
    rate_burst: int = Field(default=120, ge=1)
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    band_simulations: int = Field(default=1000, ge=100, le=20000)
