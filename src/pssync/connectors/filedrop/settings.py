"""Typed settings of the file-drop connector: the folders the ERP and pssync share.

There is no secret: access is whatever the file share grants the worker's OS user. `base_url` is
optional and only informative (a status page of the ERP's import job, if it has one).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from pssync.connectors.base import ConnectorSettings


class FileDropSettings(ConnectorSettings):
    """Folder paths, and how long to wait for the ERP's import job to answer a batch."""

    base_url: str = ""
    inbound_dir: Path = Field(description="where pssync drops batches (<kind>_<batch>.csv)")
    ack_dir: Path = Field(description="where the ERP writes <batch>.ack.csv")
    reject_dir: Path = Field(description="where the ERP writes <batch>.reject.csv")
    outbound_dir: Path = Field(description="where the ERP writes its <kind>_YYYYMMDD.csv exports")
    ack_timeout: float = Field(default=600.0, gt=0, description="seconds to wait for an ack")
    poll_interval: float = Field(default=1.0, gt=0, description="seconds between ack checks")
    page_size: int = Field(default=1000, ge=1, description="records per page on reads")
    revenue_accounts: list[str] = Field(
        default=["4000"],
        description="journal accounts whose lines are recognised revenue (RevenueEvent)",
    )
    cost_accounts: list[str] = Field(
        default=["5000"], description="journal accounts whose lines are project costs (CostActual)"
    )
    skip_unchanged: bool = Field(
        default=True, description="do not resend records the latest export already shows"
    )
