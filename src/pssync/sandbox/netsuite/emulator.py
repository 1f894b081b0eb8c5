"""NetSuiteEmulator: the ERP of the sandbox, speaking SuiteTalk REST on loopback.

It wires the pieces together (record service, SuiteQL engine, OAuth 1.0 TBA verifier, OAuth 2.0
issuer, governance settings) and implements the base Emulator contract: `seed` loads the
synthetic firm's NetSuite view, `credentials` hands a client everything it needs to sign
requests, and `error_body` makes injected faults look like NetSuite's own errors.

`concurrency_limit` and `processing_ms` are plain attributes, so a test can tighten governance
or slow the server down while it runs; so are `date_format` and `time_format`, the account's
display preferences that SuiteQL answers in (NetSuite's defaults, ``M/D/YYYY`` and ``h:mm a``),
and `time_zone`, the user's time zone that datetimes are shown (and TO_DATE read) in.
"""

from __future__ import annotations

import datetime as dt
import secrets
from pathlib import Path
from typing import Any, cast

from pssync.sandbox.common.emulator import Emulator
from pssync.sandbox.common.faults import ASGIApp, FaultConfig
from pssync.sandbox.common.memtable import MemTable
from pssync.sandbox.netsuite.api import NetSuiteApi
from pssync.sandbox.netsuite.errors import injected_error
from pssync.sandbox.netsuite.oauth1 import TbaCredentials, TbaVerifier
from pssync.sandbox.netsuite.oauth2 import OAuth2Issuer
from pssync.sandbox.netsuite.query import SuiteQLEngine
from pssync.sandbox.netsuite.service import RecordService


class NetSuiteEmulator(Emulator):
    """SuiteTalk REST (record API + SuiteQL) with TBA/OAuth 2.0 auth and concurrency limits."""

    name = "netsuite"

    def __init__(
        self,
        *,
        account: str = "1234567_SB1",
        concurrency_limit: int = 5,
        processing_ms: int = 0,
        timestamp_window_seconds: int = 300,
        state_dir: Path | None = None,
        faults: FaultConfig | None = None,
        port: int | None = None,
    ) -> None:
        self.account = account
        self.concurrency_limit = concurrency_limit
        self.date_format = "M/D/YYYY"
        self.time_format = "h:mm a"
        self.time_zone: dt.tzinfo = dt.UTC  # the user's Time Zone preference
        self.processing_ms = processing_ms
        self.tba = TbaCredentials(
            account=account,
            consumer_key=secrets.token_hex(32),
            consumer_secret=secrets.token_hex(32),
            token_id=secrets.token_hex(32),
            token_secret=secrets.token_hex(32),
        )
        self.verifier = TbaVerifier(self.tba, window_seconds=timestamp_window_seconds)
        self.oauth2 = OAuth2Issuer(
            client_id=secrets.token_hex(32), certificate_id=secrets.token_hex(16)
        )
        self.api = NetSuiteApi(self)
        super().__init__(state_dir=state_dir, faults=faults, port=port)
        self.table = MemTable(self.store)
        self.records = RecordService(self.table)
        self.engine = SuiteQLEngine(self.table)

    def build_app(self) -> ASGIApp:
        # Starlette types its ASGI callables with MutableMapping; the base uses dict.
        return cast(ASGIApp, self.api.app())

    def error_body(self, status: int, reason: str) -> tuple[str, bytes]:
        return injected_error(status, reason)

    def seed(self, view: dict[str, list[dict[str, Any]]]) -> None:
        for type_name, rows in view.items():
            self.records.seed(type_name, rows)

    def credentials(self) -> dict[str, str]:
        return {
            "account_id": self.account,
            "realm": self.account,
            "consumer_key": self.tba.consumer_key,
            "consumer_secret": self.tba.consumer_secret,
            "token_id": self.tba.token_id,
            "token_secret": self.tba.token_secret,
            "signature_method": "HMAC-SHA256",
            "oauth2_client_id": self.oauth2.client_id,
            "oauth2_certificate_id": self.oauth2.certificate_id,
            "oauth2_private_key_pem": self.oauth2.private_key_pem,
            "oauth2_token_url": f"{self.base_url}/services/rest/auth/oauth2/v1/token",
        }
