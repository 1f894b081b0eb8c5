"""DynamicsConnector: Dataverse Web API tables assembled from the connector kit.

Transport: authlib's OAuth2 client (client credentials, token cached and renewed) under the
kit's retrying transport, errors read from ``{"error": {"code", "message"}}``. Reads page with
``Prefer: odata.maxpagesize``/``@odata.nextLink``; changes use Dataverse change tracking through
the kit's delta-link cursor (`kit.delta`): ``Prefer: odata.track-changes`` once, then the
``@odata.deltaLink`` answers changed rows and deleted ones (``$deletedEntity``), which come as
deleted records. Writes are the kit's external-ID upsert
over Dataverse's upsert by alternate key, ``If-None-Match: *`` to create (a 412: an earlier
attempt landed, so update) and ``If-Match: *`` to update: a replay cannot duplicate.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import urllib.parse
from collections.abc import Iterator
from functools import partial
from typing import Any

import httpx
from authlib.integrations.base_client import OAuthError
from authlib.integrations.httpx_client import OAuth2Client

from pssync.connectors import base
from pssync.connectors.base import Page, SourceRecord
from pssync.connectors.dynamics.objects import CATALOG, SYSTEM
from pssync.connectors.dynamics.settings import DynamicsSettings
from pssync.connectors.errors import AuthError, PermanentError
from pssync.connectors.kit import delta
from pssync.connectors.kit import upsert as kit
from pssync.connectors.kit.catalog import ObjectSpec, Ref
from pssync.connectors.kit.transport import Transport
from pssync.mapping.convert import to_datetime

FIELD = re.compile(r"The length of the '(\w+)' attribute|The property '(\w+)' does not exist")
JSON = "application/json; IEEE754Compatible=true"  # decimals travel as exact strings
LOOKUP_CHUNK = 25
ENTRA = "https://login.microsoftonline.com/{}/oauth2/v2.0/token"


class DataverseTransport(Transport):
    system = SYSTEM

    def __init__(self, settings: DynamicsSettings) -> None:
        root = settings.base_url.rstrip("/")
        self.oauth = OAuth2Client(
            client_id=settings.client_id,
            client_secret=settings.client_secret.get_secret_value(),
            token_endpoint_auth_method="client_secret_post",
            scope=f"{root}/.default",
            token_endpoint=settings.token_url or ENTRA.format(settings.tenant_id),
            grant_type="client_credentials",
            base_url=root + settings.api_path,
            timeout=settings.timeout,
            headers={"OData-MaxVersion": "4.0", "OData-Version": "4.0", "Accept": JSON},
        )
        super().__init__(self.oauth, attempts=settings.attempts, max_wait=settings.max_retry_wait)

    def prepare(self) -> None:  # a first or expiring token is fetched here, errors classified
        if not self.oauth.token or self.oauth.token.is_expired(leeway=60):
            try:
                self.oauth.fetch_token()
            except OAuthError as exc:
                message = f"token refused: {exc.error}: {exc.description}"
                raise AuthError(message, system=SYSTEM, vendor_code=exc.error) from exc

    def details(self, response: httpx.Response) -> tuple[str, str | None, str | None]:
        try:
            error = response.json()["error"]
            message, code = str(error["message"]), str(error.get("code") or "") or None
        except (ValueError, KeyError, TypeError):
            return super().details(response)
        named = FIELD.search(message)
        return message, code, (named.group(1) or named.group(2)) if named else None


def literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def record(spec: ObjectSpec, row: dict[str, Any]) -> SourceRecord:
    stamp = row.get(spec.modified_field)  # a row read without it (``$select``) has none
    return SourceRecord(spec.name, str(row[spec.id_field]), row, stamp and to_datetime(stamp))


def field_info(a: dict[str, Any], key: str | None) -> base.FieldInfo:
    name, editable, length = a["LogicalName"], bool(a.get("IsValidForUpdate")), a.get("MaxLength")
    return base.FieldInfo(
        name, a["AttributeType"], not a.get("IsPrimaryId"), editable, name == key, length
    )


def bind(ref: Ref, value: Any) -> tuple[str, Any]:
    return f"{ref.bind}@odata.bind", None if value is None else f"/{ref.target}({value})"


class DynamicsConnector(base.Connector):
    name = "dynamics"
    settings_model = DynamicsSettings
    objects = CATALOG.names()
    write_batch_size = 200

    def __init__(self, settings: base.ConnectorSettings) -> None:
        super().__init__(settings)
        assert isinstance(settings, DynamicsSettings)  # checked by Connector.__init__
        self.config = settings
        self.transport = DataverseTransport(settings)

    def pages(
        self, spec: ObjectSpec, params: dict[str, str] | None
    ) -> Iterator[tuple[list[SourceRecord], bool]]:
        """(records, last?) of each page of one query, following ``@odata.nextLink``."""
        url, prefer = f"/{spec.name}", {"Prefer": f"odata.maxpagesize={self.config.page_size}"}
        while True:
            body = self.transport.json("GET", url, params=params, headers=prefer)
            link = body.get("@odata.nextLink")
            rows = [{k: v for k, v in r.items() if "@" not in k} for r in body.get("value") or []]
            yield [record(spec, row) for row in rows], link is None
            if link is None:
                return
            url, params = str(link), None

    def snapshot(self, obj: str) -> Iterator[Page]:
        for records, last in self.pages(CATALOG[obj], None):
            yield Page(records, None, last)

    def changes(self, obj: str, cursor: str | None) -> Iterator[Page]:
        """Rows changed (and deleted) since the cursor's delta link; all rows when none."""
        spec, get = CATALOG[obj], self.transport.json
        for page in delta.read(
            lambda url, params, headers: get("GET", url, params=params, headers=headers),
            f"/{spec.name}",
            cursor,
            key=spec.id_field,
            page_size=self.config.page_size,
            system=SYSTEM,
        ):
            seen = dt.datetime.now(dt.UTC)  # Dataverse dates no deletion: the read that saw it
            gone = [SourceRecord(obj, rid, {}, seen, True) for rid in page.removed]
            yield Page([record(spec, r) for r in page.rows] + gone, page.cursor, page.done)

    def deletes(self, obj: str, cursor: str | None) -> tuple[list[base.Deletion], str | None]:
        """None apart: deletions come with the changes, as deleted records."""
        CATALOG[obj]
        return [], cursor

    def upsert(
        self, obj: str, external_id_field: str, records: list[dict[str, Any]]
    ) -> list[base.UpsertResult]:
        spec, field = CATALOG[obj], external_id_field
        return kit.ExternalIdUpsert(
            SYSTEM,
            field,
            lookup=partial(self.lookup, spec, field),
            create=partial(self.write, spec, field, "If-None-Match"),
            update=lambda key, _id, body: self.write(spec, field, "If-Match", key, body),
            read_only=None if spec.writable else f"{obj}: written by Project schedule APIs only",
            batch_size=self.write_batch_size,
            normalise=str.casefold,  # alternate keys are unique without regard to case
        ).run(records)

    def lookup(self, spec: ObjectSpec, field: str, keys: list[str]) -> dict[str, kit.Found]:
        found: dict[str, kit.Found] = {}
        for start in range(0, len(keys), LOOKUP_CHUNK):
            chunk = keys[start : start + LOOKUP_CHUNK]
            where = " or ".join(f"{field} eq {literal(k)}" for k in chunk)
            for records, _ in self.pages(spec, {"$filter": where}):
                found.update({str(r.data[field]): kit.Found(r.id, r.data) for r in records})
        return found

    def write(self, spec: ObjectSpec, field: str, condition: str, key: str, body: Any) -> str:
        """PATCH by alternate key, create-only or update-only; the row's ID."""
        payload = spec.outbound(body, bind)
        address = urllib.parse.quote(f"{field}={literal(key)}", safe="='")
        try:
            response = self.transport.send(
                "PATCH",
                f"/{spec.name}({address})",
                content=json.dumps(payload, default=str).encode(),
                headers={condition: "*", "Content-Type": JSON},
                record_id=key,
            )
        except PermanentError as exc:
            if exc.status == 412 and condition == "If-None-Match":
                raise kit.KeyTakenError from exc
            if exc.status == 404 and condition == "If-Match" and f"= {key} " in exc.message:
                raise kit.KeyGoneError from exc
            raise
        entity = str(response.headers.get("OData-EntityId", ""))
        return entity.rsplit("(", 1)[-1].rstrip(")")

    def describe(self, obj: str) -> base.ObjectDescription:
        spec = CATALOG[obj]
        path = f"/EntityDefinitions(LogicalName='{spec.entity}')/Attributes"
        rows = self.transport.json("GET", path).get("value") or []
        return base.ObjectDescription(obj, [field_info(a, spec.key_field) for a in rows])

    def close(self) -> None:
        self.transport.close()
