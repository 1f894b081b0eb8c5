"""Typed settings of the NetSuite connector.

NetSuite offers integrations two ways in over REST: Token-Based Authentication (OAuth 1.0a,
HMAC-SHA256, four secrets) and OAuth 2.0 client credentials (a certificate's private key signs a
JWT that is exchanged for a bearer token). Which one an account uses is its administrator's
choice, so both are here; the flow is inferred from the secrets given. Secrets are SecretStr so
they never show in logs or reprs; put them in the environment, e.g.
``PSSYNC__CONNECTORS__ERP__TOKEN_SECRET``.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator, model_validator

from pssync.connectors.base import ConnectorSettings

AuthFlow = Literal["tba", "oauth2"]

REQUIRED: dict[str, tuple[str, ...]] = {
    "tba": ("consumer_key", "consumer_secret", "token_id", "token_secret"),
    "oauth2": ("client_id", "certificate_id", "private_key"),
}


class NetSuiteSettings(ConnectorSettings):
    """`base_url` is the account's REST host (``https://1234567-sb1.suitetalk.api.netsuite.com``);
    `account_id` (``1234567_SB1``) is the OAuth realm."""

    account_id: str
    auth: AuthFlow | None = Field(
        default=None, description="tba or oauth2; inferred from the secrets given when omitted"
    )
    consumer_key: str | None = Field(default=None, description="integration record (TBA)")
    consumer_secret: SecretStr | None = None
    token_id: str | None = Field(default=None, description="access token of the integration user")
    token_secret: SecretStr | None = None
    client_id: str | None = Field(default=None, description="integration record (OAuth 2.0)")
    certificate_id: str | None = Field(
        default=None, description="ID NetSuite gave the uploaded certificate (JWT kid)"
    )
    private_key: SecretStr | None = Field(
        default=None, description="PEM RSA key of that certificate (signs the JWT assertion)"
    )
    oauth2_algorithm: Literal["PS256", "RS256"] = "PS256"
    page_size: int = Field(
        default=1000, ge=1, le=1000, description="SuiteQL rows per call (NetSuite's maximum)"
    )
    write_batch_size: int = Field(
        default=200, ge=1, le=1000, description="records pre-read by one SuiteQL call on upsert"
    )
    max_concurrency: int = Field(
        default=5,
        ge=1,
        le=50,
        description="requests in flight at once; keep at or below the account's concurrency "
        "limit (5 for a standard account, +10 per SuiteCloud Plus licence)",
    )
    soap_batch_threshold: int | None = Field(
        default=100,
        ge=1,
        description="write a batch of at least this many records with one SOAP upsertList per "
        "soap_batch_size (TBA only); None: always one REST PUT per record",
    )
    soap_batch_size: int = Field(
        default=200, ge=1, le=1000, description="records per SOAP upsertList call"
    )
    detect_unchanged: bool = Field(
        default=True, description="read records before an upsert and skip the unchanged ones"
    )
    journal_kind_field: str = Field(
        default="custbody_pssync_kind",
        pattern=r"^[a-z][a-z0-9_]*$",
        description="journal body field telling cost postings ('cost') from revenue "
        "recognition ('revenue')",
    )
    accounting_book: int = Field(
        default=1,
        ge=1,
        description="internal ID of the primary accounting book, whose TransactionAccountingLine "
        "rows carry the journal amounts (1 unless Multi-Book Accounting renumbered it)",
    )
    currency_codes: dict[str, str] = Field(
        default_factory=lambda: {"1": "USD", "2": "GBP", "3": "CAD", "4": "EUR", "5": "AUD"},
        description="currency internal ID -> ISO code (Lists > Accounting > Currencies); "
        "SuiteQL returns the ID, records gain `currencyCode` from this table",
    )
    time_zone: str = Field(
        default="UTC",
        description="the integration user's Time Zone preference (IANA name): SuiteQL shows "
        "datetimes, and reads TO_DATE text, in it",
    )
    timeout: float = Field(default=60.0, gt=0, description="seconds per HTTP request")

    @model_validator(mode="after")
    def _flow_has_its_secrets(self) -> NetSuiteSettings:
        if self.auth is None:
            self.auth = "oauth2" if self.private_key is not None else "tba"
        missing = [name for name in REQUIRED[self.auth] if getattr(self, name) is None]
        if missing:
            raise ValueError(f"auth {self.auth!r} needs {', '.join(missing)}")
        return self

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r} (an IANA name, e.g. America/New_York)"
            ) from None
        return value

    @property
    def tz(self) -> dt.tzinfo:
        return dt.UTC if self.time_zone == "UTC" else ZoneInfo(self.time_zone)

    @property
    def flow(self) -> AuthFlow:
        assert self.auth is not None  # set by the validator
        return self.auth

    @property
    def token_url(self) -> str:
        return self.base_url.rstrip("/") + "/services/rest/auth/oauth2/v1/token"
