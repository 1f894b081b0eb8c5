"""The incremental-read cursor: the last ``updated_at`` second delivered and a fingerprint of
every record delivered at that second.

Kantata shows ``updated_at`` to the second and ``updated_after`` is strict, so the next read asks
for ``updated_after = second - 1s`` (the whole second again) and drops what the cursor already
holds; a record saved twice in that second has a new fingerprint and comes again. `reads` asks
for ``order=updated_at:asc``, so each page's cursor covers exactly the records up to it. The
cursor is the connector kit's (`kit.cursor.StampCursor`), whose JSON is the one stored before.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pssync.connectors.kantata.transport import SYSTEM
from pssync.connectors.kit import cursor as kit


def stamp_of(data: dict[str, Any]) -> dt.datetime | None:
    value = data.get("updated_at")
    if not value:
        return None
    moment = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    moment = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).replace(microsecond=0)


class StampCursor(kit.StampCursor):
    """The kit's stamp cursor (whole seconds, no overlap) with this API's resume condition."""

    system = SYSTEM
    label = "Kantata change"

    def updated_after(self) -> str | None:
        """The `updated_after` of the next read (None: everything)."""
        return None if self.at is None else (self.at - dt.timedelta(seconds=1)).isoformat()
