"""One delivery at a time per target record: a claim in the golden store's database.

Routing sends unchanged records again on purpose (the target is the judge of a no-op), so two
workers can hold two deliveries of the same golden record at once. A create is a look-up by the
external ID followed by a POST, and SAP's API_BUSINESS_PARTNER has no upsert and no uniqueness
on ``BusinessPartnerIDByExtSystem`` (BUT000-BPEXT, "an external partner number, such as a number
from the legacy system", help.sap.com, BP data interface): two look-ups that both find nothing
make two partners. So a delivery first claims its (target, object, external ID) rows; a
delivery that finds a row claimed by someone else leaves that record for a later attempt.

A claim ends when its delivery ends. One whose holder died (kill -9) is taken over as soon as
its process is seen gone on this host, else when its lease runs out; the lease is longer than
any one upsert call takes, so a slow holder is never overtaken.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Iterable

from sqlalchemy import Engine, and_, delete, select, update

from pssync.engine.sql import insert_ignore
from pssync.engine.tables import engine_delivery_claim

CLAIM_SECONDS = 600.0
_CHUNK = 400
_HOST = socket.gethostname()


def _gone(holder: str) -> bool:
    """Whether the holder's process is known to have ended (only knowable on this host)."""
    host, _, rest = holder.partition(":")
    pid = rest.partition(":")[0]
    if host != _HOST or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class Claims:
    """The claims of one delivery attempt (its own holder name: host, process, attempt)."""

    def __init__(self, engine: Engine, seconds: float = CLAIM_SECONDS) -> None:
        self.engine = engine
        self.seconds = seconds
        self.holder = f"{_HOST}:{os.getpid()}:{uuid.uuid4().hex[:16]}"

    def take(self, system: str, obj: str, external_ids: Iterable[str]) -> set[str]:
        """Claim what is free (or held by a dead or expired holder); the IDs now ours."""
        wanted, mine = list(dict.fromkeys(external_ids)), set()
        c = engine_delivery_claim.c
        for start in range(0, len(wanted), _CHUNK):
            part = wanted[start : start + _CHUNK]
            now = time.time()
            rows = [
                {
                    "system": system,
                    "object": obj,
                    "external_id": e,
                    "holder": self.holder,
                    "until": now + self.seconds,
                }
                for e in part
            ]
            where = and_(c.system == system, c.object == obj, c.external_id.in_(part))
            with self.engine.begin() as conn:
                insert_ignore(conn, engine_delivery_claim, rows)
                held = conn.execute(select(c.external_id, c.holder, c.until).where(where))
                for ext, holder, until in list(held):
                    if holder == self.holder:
                        mine.add(ext)
                    elif until < now or _gone(holder):
                        taken = conn.execute(  # only if nobody took it over meanwhile
                            update(engine_delivery_claim)
                            .where(c.system == system, c.object == obj, c.external_id == ext)
                            .where(c.holder == holder)
                            .values(holder=self.holder, until=now + self.seconds)
                        ).rowcount
                        if taken == 1:
                            mine.add(ext)
        return mine

    def release(self, system: str, obj: str, external_ids: Iterable[str]) -> None:
        ids, c = list(external_ids), engine_delivery_claim.c
        with self.engine.begin() as conn:
            for start in range(0, len(ids), _CHUNK):
                conn.execute(
                    delete(engine_delivery_claim).where(
                        c.system == system,
                        c.object == obj,
                        c.external_id.in_(ids[start : start + _CHUNK]),
                        c.holder == self.holder,
                    )
                )
