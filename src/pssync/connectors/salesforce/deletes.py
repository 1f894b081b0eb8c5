"""Deletions through getDeleted, inside the window Salesforce serves.

REST API Developer Guide, "sObject Get Deleted", and SOAP API Developer Guide, getDeleted()
"Rules and Guidelines": the delete log goes back 15 days before the day of the call, the start
must precede the end by more than one minute, both are read to the minute, and the answer's
``latestDateCovered`` is where the next call must start. A start outside these rules is refused
with ``INVALID_REPLICATION_DATE``.

So the reader: starts where the last answer said (latestDateCovered); waits (asks nothing) while
less than a minute and a second has passed since; and never asks further back than 15 days less
a margin for clock skew. Deletions older than that (a cursor left unread for weeks, or a delete
log purged early, i.e. ``earliestDateAvailable`` after the start) cannot be read from Salesforce
any more: the reader records a `DeleteGap` and logs a warning, and the scheduled reconciliation
(a full read compared with the golden store) is what finds them.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pssync.connectors.base import Deletion
from pssync.connectors.errors import PermanentError
from pssync.connectors.salesforce.soql import ident
from pssync.connectors.salesforce.transport import SYSTEM
from pssync.mapping.convert import to_datetime

log = logging.getLogger(__name__)

LOG_DAYS = 15  # how far back the delete log is served
SKEW = dt.timedelta(hours=1)  # margin for our clock running ahead of Salesforce's
MIN_SPAN = dt.timedelta(minutes=1, seconds=1)  # "more than one minute", read to the minute
INVALID_DATE = "INVALID_REPLICATION_DATE"


@dataclass(frozen=True)
class DeleteGap:
    """Deletions of `object` in [since, until) that getDeleted can no longer report; a full
    reconciliation of the object finds them."""

    object: str
    since: dt.datetime
    until: dt.datetime
    reason: str


class DeleteReader:
    def __init__(
        self, call: Callable[[Callable[[Any], Any]], Any], clock: Callable[[], dt.datetime]
    ) -> None:
        self.call = call
        self.clock = clock
        self.gaps: list[DeleteGap] = []

    def horizon(self, now: dt.datetime) -> dt.datetime:
        """The oldest start Salesforce accepts today, less the skew margin."""
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
        return midnight - dt.timedelta(days=LOG_DAYS) + SKEW

    def read(self, obj: str, cursor: str | None) -> tuple[list[Deletion], str | None]:
        now = self.clock()
        since = _since(cursor)
        start = self.horizon(now) if since is None else since
        if since is not None and since < self.horizon(now):
            start = self.horizon(now)
            self._gap(obj, since, start, "older than the 15 days getDeleted serves")
        if now - start < MIN_SPAN:
            return [], cursor  # too soon: Salesforce refuses windows of a minute or less
        try:
            answer = self.call(lambda sf: getattr(sf, ident(obj)).deleted(start, now))
        except PermanentError as exc:
            if exc.vendor_code != INVALID_DATE:
                raise
            # The log was purged, or our clock and Salesforce's disagree: restart a day inside
            # the horizon and say what may be missing.
            retry = self.horizon(now) + dt.timedelta(days=1)
            self._gap(obj, start, retry, f"getDeleted refused the window: {exc.message}")
            answer = self.call(lambda sf: getattr(sf, ident(obj)).deleted(retry, now))
            start = retry
        earliest = answer.get("earliestDateAvailable")
        if earliest and since is not None and to_datetime(earliest) > start:
            self._gap(obj, start, to_datetime(earliest), "the delete log was purged")
        found = [
            Deletion(obj, str(d["id"]), to_datetime(d["deletedDate"]))
            for d in answer.get("deletedRecords", [])
        ]
        covered = answer.get("latestDateCovered")
        return found, (to_datetime(covered) if covered else now).isoformat()

    def _gap(self, obj: str, since: dt.datetime, until: dt.datetime, reason: str) -> None:
        gap = DeleteGap(obj, since, until, reason)
        self.gaps.append(gap)
        log.warning(
            "salesforce %s: deletions between %s and %s cannot be read (%s); a full "
            "reconciliation of %s finds them",
            obj,
            since.isoformat(),
            until.isoformat(),
            reason,
            obj,
        )


def _since(cursor: str | None) -> dt.datetime | None:
    if cursor is None:
        return None
    try:
        return to_datetime(cursor)
    except ValueError:
        raise PermanentError(
            f"not a Salesforce delete cursor: {cursor[:80]!r}", system=SYSTEM
        ) from None
