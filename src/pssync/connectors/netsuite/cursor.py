"""The incremental-read cursor: the last ``lastmodifieddate`` second read and a fingerprint of
every record read at that second.

NetSuite shows ``lastmodifieddate`` to the second, and many records share a second (a CSV import,
a mass update, one seeded firm). So a read resumes with ``>= second`` and drops the records whose
fingerprint the cursor already holds: ``>`` would miss a record saved later in that second, and a
bare ID list would miss a record saved twice in it (its fingerprint changes, so it comes again).

Within one `changes` call the pages follow a keyset on (second, internal ID) rather than
``offset``, so records written while the pages are read cannot shift a page boundary and make a
record vanish between two pages; anything saved meanwhile has a newer stamp and comes later.
"""

from __future__ import annotations

import datetime as dt

from pssync.connectors.netsuite.auth import SYSTEM
from pssync.connectors.netsuite.objects import id_sort_key
from pssync.connectors.stamp_cursor import SecondStampCursor

SECOND = "YYYY-MM-DD HH24:MI:SS"
STAMP_COLUMN = "lastmodifieddate"
ORDER = f"TO_CHAR({STAMP_COLUMN}, '{SECOND}'), id"


def second_text(moment: dt.datetime, tz: dt.tzinfo = dt.UTC) -> str:
    """The second as NetSuite reads and shows it: in the user's time zone (`tz`)."""
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")


def to_date(moment: dt.datetime, tz: dt.tzinfo = dt.UTC) -> str:
    return f"TO_DATE('{second_text(moment, tz)}', '{SECOND}')"


def after_key(moment: dt.datetime, record_id: str, tz: dt.tzinfo = dt.UTC) -> str:
    """Rows after (second, id) in `ORDER`: the keyset condition of the next page."""
    return (
        f"({STAMP_COLUMN} >= {to_date(moment + dt.timedelta(seconds=1), tz)} OR "
        f"(TO_CHAR({STAMP_COLUMN}, '{SECOND}') = '{second_text(moment, tz)}' "
        f"AND id > {id_sort_key(record_id)}))"
    )


class StampCursor(SecondStampCursor):
    """The shared second-stamp cursor with this API's resume condition."""

    system = SYSTEM
    label = "NetSuite change"

    def where(self, tz: dt.tzinfo = dt.UTC) -> str | None:
        """The SuiteQL condition a resumed read starts from (None: from the beginning)."""
        return None if self.at is None else f"{STAMP_COLUMN} >= {to_date(self.at, tz)}"
