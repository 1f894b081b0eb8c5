"""dlt, the loader a data engineer would pick, pulling the same emulator APIs into SQLite.

Used by `bench_peers.py`. Each object pssync's shipped mappings read becomes one dlt resource
built on dlt's own `RESTClient` and paginators (dlt's documented way to load a REST API that its
declarative `rest_api` config cannot describe: Kantata answers a page as a map keyed by ID under
the object's name, so the rows need one `values()` that the declarative config has no step for).
It loads with write disposition `merge` on the records' `id`, as a sync would, into SQLite through
dlt's SQLAlchemy destination, in the loader file format given (`parquet` is the fastest the
destination documents; `typed-jsonl` is its default).

Runs in a process of its own, so its peak memory is its own.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

KANTATA_PAGE = 200  # the most Kantata serves per page
SALESFORCE_BATCH = 2000  # the most a SOQL query page holds


def _kantata_resource(base_url: str, token: str, key: str) -> Any:
    import dlt
    from dlt.sources.helpers.rest_client import RESTClient
    from dlt.sources.helpers.rest_client.auth import BearerTokenAuth
    from dlt.sources.helpers.rest_client.paginators import PageNumberPaginator

    client = RESTClient(
        base_url=f"{base_url}/api/v1",
        auth=BearerTokenAuth(token),
        paginator=PageNumberPaginator(base_page=1, page_param="page", total_path="meta.page_count"),
    )

    @dlt.resource(name=key, primary_key="id", write_disposition="merge")
    def rows() -> Iterator[list[dict[str, Any]]]:
        params = {"per_page": KANTATA_PAGE, "include_archived": "true"}
        for page in client.paginate(f"/{key}.json", params=params):
            body = page.response.json()
            yield list(body.get(key, {}).values())

    return rows


def _salesforce_resource(instance_url: str, token: str, ca_file: str, obj: str) -> Any:
    import dlt
    from dlt.sources.helpers.rest_client import RESTClient
    from dlt.sources.helpers.rest_client.auth import BearerTokenAuth
    from dlt.sources.helpers.rest_client.paginators import JSONLinkPaginator

    client = RESTClient(
        base_url=instance_url,
        auth=BearerTokenAuth(token),
        paginator=JSONLinkPaginator(next_url_path="nextRecordsUrl"),
        data_selector="records",
        headers={"Sforce-Query-Options": f"batchSize={SALESFORCE_BATCH}"},
    )

    @dlt.resource(name=obj, primary_key="Id", write_disposition="merge")
    def rows() -> Iterator[list[dict[str, Any]]]:
        fields = _salesforce_fields(client, obj)
        soql = f"SELECT {', '.join(fields)} FROM {obj}"
        for page in client.paginate("/services/data/v60.0/query", params={"q": soql}):
            yield [{k: v for k, v in r.items() if k != "attributes"} for r in page]

    return rows


def _salesforce_fields(client: Any, obj: str) -> list[str]:
    described = client.get(f"/services/data/v60.0/sobjects/{obj}/describe").json()
    return [f["name"] for f in described["fields"] if f.get("type") != "address"]


def _salesforce_token(instance_url: str, creds: dict[str, str], ca_file: str) -> str:
    import httpx

    response = httpx.post(
        f"{instance_url}/services/oauth2/token",
        data={
            "grant_type": "client_credentials",
            "client_id": creds["client_id"],
            "client_secret": creds["client_secret"],
        },
        verify=ca_file,
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


def run(
    described: dict[str, dict[str, Any]],
    objects: dict[str, list[str]],
    workdir: Path,
    file_format: str,
) -> dict[str, Any]:
    """Load `objects` ({system: [object, ...]}) from the emulators `described` into SQLite;
    (seconds, rows loaded) with dlt's extract, normalize and load all timed."""
    import dlt

    resources = []
    for key in objects.get("kantata", []):
        info = described["kantata"]
        resources.append(_kantata_resource(info["base_url"], info["credentials"]["token"], key))
    if objects.get("salesforce"):
        info = described["salesforce"]
        ca_file = info["ca_file"]
        os.environ["REQUESTS_CA_BUNDLE"] = ca_file  # dlt's requests sessions trust the sandbox CA
        url = info["credentials"]["instance_url"]
        token = _salesforce_token(url, info["credentials"], ca_file)
        for obj in objects["salesforce"]:
            resources.append(_salesforce_resource(url, token, ca_file, obj))
    pipeline = dlt.pipeline(
        pipeline_name="peer",
        pipelines_dir=str(workdir / "dlt"),
        # dlt's loader runs its jobs in parallel; SQLite lets one write at a time, and on a busy
        # machine a job waits longer than sqlite3's default 5 s for the lock ("database is
        # locked"). A longer wait lets every job through without serialising the loader.
        destination=dlt.destinations.sqlalchemy(
            f"sqlite:///{workdir / 'dlt.db'}", engine_args={"connect_args": {"timeout": 600}}
        ),
        dataset_name="peer",
    )
    began = time.perf_counter()
    info = pipeline.run(resources, loader_file_format=file_format)
    seconds = time.perf_counter() - began
    info.raise_on_failed_jobs()
    rows = pipeline.last_trace.last_normalize_info.row_counts
    # Top-level tables only: dlt also splits nested lists into child tables (`a__b`).
    loaded = sum(n for t, n in rows.items() if not t.startswith("_dlt") and "__" not in t)
    return {"seconds": seconds, "records": loaded}
