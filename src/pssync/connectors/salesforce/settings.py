"""Typed settings of the Salesforce connector.

One model covers the four ways an integration user logs in (OAuth 2.0 client credentials,
username-password, JWT bearer, or a session someone else obtained), because which one an org
allows is a decision of its Salesforce admin, not of pssync. Secrets are SecretStr so they never
show in logs, reprs or `pssync config`; put them in the environment, e.g.
``PSSYNC__CONNECTORS__CRM__CLIENT_SECRET``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, model_validator

from pssync.connectors.base import ConnectorSettings

AuthFlow = Literal["client_credentials", "password", "jwt", "session"]

# Which settings each flow cannot do without.
REQUIRED: dict[str, tuple[str, ...]] = {
    "client_credentials": ("client_id", "client_secret"),
    "password": ("client_id", "username", "password"),
    "jwt": ("client_id", "username", "private_key"),
    "session": ("session_id",),
}


class SalesforceSettings(ConnectorSettings):
    """`base_url` is the login or My Domain URL for the OAuth flows (the token endpoint is
    ``{base_url}/services/oauth2/token``; the answer names the instance), and the instance URL
    itself for `auth: session`."""

    auth: AuthFlow | None = Field(
        default=None, description="login flow; inferred from the secrets given when omitted"
    )
    client_id: str | None = Field(default=None, description="connected app consumer key")
    client_secret: SecretStr | None = None
    username: str | None = None
    password: SecretStr | None = None
    security_token: SecretStr | None = Field(
        default=None, description="appended to the password unless the org trusts our IP range"
    )
    private_key: SecretStr | None = Field(
        default=None, description="PEM RSA key whose certificate the connected app holds (JWT)"
    )
    jwt_audience: str = Field(
        default="https://login.salesforce.com",
        description="`aud` of the JWT: login/test.salesforce.com or the My Domain URL",
    )
    session_id: SecretStr | None = Field(default=None, description="an existing access token")
    api_version: str = Field(default="59.0", pattern=r"^\d{2}\.0$")
    profile: Literal["default", "certinia"] = Field(
        default="default",
        description="mapping profile: standard CRM objects, or Certinia PSA (pse__) objects",
    )
    mapping: str | None = Field(
        default=None, description="path of a mapping file replacing the profile's own"
    )
    api_reserve: int = Field(
        default=1000,
        ge=0,
        description="API calls left in the org's daily allowance below which writes stop",
    )
    page_size: int = Field(
        default=2000,
        ge=1,
        le=2000,
        description="records per query page; Salesforce honours 200-2000, smaller means 200",
    )
    write_batch_size: int = Field(
        default=200, ge=1, le=200, description="records per sObject Collections call"
    )
    detect_unchanged: bool = Field(
        default=True,
        description="read records before an upsert and skip the ones that would not change",
    )
    read_overlap_seconds: int = Field(
        default=300,
        ge=0,
        le=3600,
        description="incremental reads start this far before the last SystemModstamp read, so "
        "that records of transactions committing late are not missed",
    )
    lock_retries: int = Field(
        default=3,
        ge=0,
        le=10,
        description="times a record refused with UNABLE_TO_LOCK_ROW is sent again",
    )
    lock_retry_wait: float = Field(
        default=1.0, ge=0, description="seconds before the first lock retry (doubling)"
    )
    bulk_threshold: int | None = Field(
        default=10_000,
        ge=0,
        description="initial loads of objects holding at least this many records read through "
        "Bulk API 2.0 query jobs (0: every object, without a Record Count call); null keeps "
        "every read on the REST API",
    )
    bulk_page_records: int = Field(
        default=50_000, ge=1, description="records per Bulk API 2.0 results call (maxRecords)"
    )
    bulk_poll_seconds: float = Field(
        default=1.0, ge=0, description="seconds between polls of a Bulk API 2.0 job"
    )
    timeout: float = Field(default=60.0, gt=0, description="seconds per HTTP request")
    ca_file: str | None = Field(
        default=None, description="CA bundle to trust instead of the system's (sandboxes)"
    )

    @model_validator(mode="after")
    def _flow_has_its_secrets(self) -> SalesforceSettings:
        if self.auth is None:
            self.auth = infer_flow(self)
        missing = [name for name in REQUIRED[self.auth] if getattr(self, name) is None]
        if missing:
            raise ValueError(f"auth {self.auth!r} needs {', '.join(missing)}")
        return self

    @property
    def flow(self) -> AuthFlow:
        assert self.auth is not None  # set by the validator
        return self.auth

    @property
    def token_url(self) -> str:
        return self.base_url.rstrip("/") + "/services/oauth2/token"


def infer_flow(settings: SalesforceSettings) -> AuthFlow:
    """The flow the given secrets point to: a key means JWT, a password the password flow, a
    client secret client credentials, a bare session id an existing session."""
    if settings.private_key is not None:
        return "jwt"
    if settings.password is not None:
        return "password"
    if settings.client_secret is not None:
        return "client_credentials"
    if settings.session_id is not None:
        return "session"
    raise ValueError(
        "give credentials: client_id + client_secret, username + password, "
        "username + private_key, or session_id"
    )
