"""`SalesforceEmulator`: the Salesforce REST API over HTTPS, seeded with the synthetic firm.

Wires the pieces together (catalog, record store, SOQL engine, sessions, API allowance) and
implements the shared `Emulator` contract: `build_app`, `error_body`, `seed`, `credentials`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from pssync.sandbox.common import business_clock
from pssync.sandbox.common.emulator import Emulator
from pssync.sandbox.common.faults import ASGIApp, FaultConfig
from pssync.sandbox.salesforce import field_history, opportunity
from pssync.sandbox.salesforce.api import SalesforceApi
from pssync.sandbox.salesforce.app import build_app
from pssync.sandbox.salesforce.auth import AuthConfig, Sessions
from pssync.sandbox.salesforce.catalog import Catalog
from pssync.sandbox.salesforce.data import Base, Record, Txn
from pssync.sandbox.salesforce.errors import status_error
from pssync.sandbox.salesforce.ids import ORG_PREFIX, IdFactory, is_valid_id, to18
from pssync.sandbox.salesforce.limits import ApiUsage
from pssync.sandbox.salesforce.query import QueryEngine
from pssync.sandbox.salesforce.records import Records
from pssync.sandbox.salesforce.schema import infer_field
from pssync.sandbox.salesforce.timefmt import format_datetime, normalize_date, normalize_datetime

DEFAULT_DAILY_LIMIT = 100_000
INTEGRATION_USERNAME = "integration@pssync.example"


def _utcnow() -> dt.datetime:
    return business_clock.now()


class SalesforceEmulator(Emulator):
    """A Salesforce org on loopback: REST API vXX.X, OAuth token endpoint, HTTPS only.

    Test hooks: `expire_sessions()` invalidates every session (401 INVALID_SESSION_ID),
    `usage.set(daily_limit=..., used=...)` drives the daily allowance, and the same are
    reachable over HTTP at ``/_emulator/sessions/expire`` and ``/_emulator/limits``.
    """

    name = "salesforce"
    use_tls = True
    quota_status = 403

    def __init__(
        self,
        *,
        state_dir: Path | None = None,
        faults: FaultConfig | None = None,
        port: int | None = None,
        daily_api_limit: int = DEFAULT_DAILY_LIMIT,
        jwt_public_key: bytes | None = None,
        clock: Callable[[], dt.datetime] = _utcnow,
        id_seed: int | None = None,
    ) -> None:
        # Everything build_app needs must exist before the base constructor calls it.
        self.clock = clock
        self.catalog = Catalog()
        self.ids = IdFactory(id_seed)
        self.usage = ApiUsage(daily_api_limit)
        self._jwt_public_key = jwt_public_key
        super().__init__(state_dir=state_dir, faults=faults, port=port)

    def build_app(self) -> ASGIApp:
        self.base = Base(self.store, self.catalog.indexed_fields)
        self.records = Records(self.catalog, self.ids, self.clock)
        user_id = self._integration_user()
        self.records.user_id = user_id
        org_id = to18(ORG_PREFIX + "5g0000000PSSY")
        config = AuthConfig(org_id=org_id, user_id=user_id, username=INTEGRATION_USERNAME)
        config.jwt_public_key = self._jwt_public_key
        self.sessions = Sessions(config, self.clock)
        self.queries = QueryEngine(self.catalog, self.ids, self.clock)
        self.api = SalesforceApi(
            self.catalog, self.base, self.records, self.queries, self.usage, self.clock
        )
        return build_app(self)

    def _integration_user(self) -> str:
        """The user every API write is attributed to (CreatedById, OwnerId); kept across
        restarts over the same state directory."""
        user = self.catalog.objects["User"]
        txn = Txn(self.base)
        existing = txn.find("User", "Username", INTEGRATION_USERNAME)
        if existing:
            return sorted(existing)[0]
        body = {
            "Username": INTEGRATION_USERNAME,
            "LastName": "Integration",
            "FirstName": "pssync",
            "Email": INTEGRATION_USERNAME,
            "Alias": "integ",
        }
        user_id = self.records.create(txn, user, body)
        txn.commit()
        return user_id

    def error_body(self, status: int, reason: str) -> tuple[str, bytes]:
        return "application/json;charset=UTF-8", json.dumps(status_error(status, reason)).encode()

    def credentials(self) -> dict[str, str]:
        config = self.sessions.config
        return {
            "instance_url": self.base_url,
            "session_id": self.sessions.default,
            "username": config.username,
            "password": config.password,
            "security_token": config.security_token,
            "client_id": config.client_id,
            "client_secret": config.client_secret,
        }

    def expire_sessions(self) -> None:
        self.sessions.expire_all()

    def add_stage(self, row: dict[str, Any]) -> None:
        """Configure an OpportunityStage (a custom sales process) from a row's StageName,
        Probability, IsClosed, IsWon and ForecastCategoryName; describe lists it."""
        self.records.stages.learn(row)
        opp = self.catalog.objects["Opportunity"]
        stage_field = opp.field("StageName")
        assert stage_field is not None
        opp.add_field(replace(stage_field, picklist=self.records.stages.names()))

    # -- seeding ----------------------------------------------------------------------------

    def seed(self, view: dict[str, list[dict[str, Any]]]) -> None:
        """Load records in wire field names; missing Ids and system fields are filled in,
        fields the schema lacks are added to it (typed from their values), and Opportunity
        stage-derived fields are computed where absent. The view's own OpportunityHistory rows
        are loaded as given, and OpportunityFieldHistory is derived from them
        (`field_history`)."""
        now = format_datetime(self.clock())
        with self.base.lock:
            for name, rows in view.items():
                obj = self.catalog.get(name)
                if obj is None:
                    raise ValueError(f"the Salesforce emulator has no object {name!r}")
                records = [self._seed_record(obj.name, dict(row), now) for row in rows]
                deleted = [r for r in records if r.get("IsDeleted")]
                self.base.load(obj.name, [{**r, "IsDeleted": False} for r in records])
                if deleted:
                    txn = Txn(self.base)
                    for record in deleted:
                        txn.put(obj.name, record)
                    txn.commit()
                if obj.name == field_history.HISTORY:
                    live = [r for r in records if not r.get("IsDeleted")]
                    rows = field_history.derive(self.base, live, self._field_history_id)
                    self.base.load(field_history.FIELD_HISTORY, rows)

    def _field_history_id(self) -> str:
        return self.ids.new(self.catalog.objects[field_history.FIELD_HISTORY].key_prefix)

    def _seed_record(self, name: str, row: Record, now: str) -> Record:
        obj = self.catalog.objects[name]
        row.pop("attributes", None)
        for key, value in list(row.items()):
            f = obj.field(key)
            if f is None:
                f = infer_field(key, value)
                obj.add_field(f)
            if f.name != key:
                row[f.name] = row.pop(key)
            if isinstance(value, str) and f.type == "datetime":
                row[f.name] = normalize_datetime(value)
            elif isinstance(value, str) and f.type == "date":
                row[f.name] = normalize_date(value)
            elif isinstance(value, str) and f.type in ("id", "reference") and len(value) == 15:
                row[f.name] = to18(value)
        row["Id"] = row.get("Id") or self.ids.new(obj.key_prefix)
        if not is_valid_id(row["Id"]) or not row["Id"].startswith(obj.key_prefix):
            raise ValueError(f"{name} record has an Id that is not a {name} Id: {row['Id']!r}")
        created = row.get("CreatedDate") or row.get("LastModifiedDate") or now
        row.setdefault("CreatedDate", created)
        row.setdefault("SystemModstamp", row.get("LastModifiedDate") or created)
        if obj.field("LastModifiedDate") is not None:
            row.setdefault("LastModifiedDate", row["SystemModstamp"])
            row.setdefault("LastModifiedById", self.records.user_id)
        row.setdefault("CreatedById", self.records.user_id)
        if obj.field("OwnerId") is not None:
            row.setdefault("OwnerId", self.records.user_id)
        row.setdefault("IsDeleted", False)
        if name in ("Contact", "User") and "Name" not in row:
            row["Name"] = " ".join(str(row[k]) for k in ("FirstName", "LastName") if row.get(k))
        if name == "Opportunity" and row.get("StageName"):
            if not self.records.stages.known(str(row["StageName"])):
                self.add_stage(row)
            derived = dict(row)
            opportunity.derive(derived, None, row, self.records.stages)
            for key, value in derived.items():
                row.setdefault(key, value)
        return row
