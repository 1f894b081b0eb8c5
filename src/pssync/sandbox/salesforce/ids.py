"""Salesforce record IDs: a 3-character key prefix per object and an 18-character checksummed form.

Clients (and pssync's crosswalks) treat IDs as opaque, but they do rely on the prefix to tell
objects apart and on the 18-character form being stable and case-insensitively unique, so the
emulator mints IDs the way the platform does instead of using UUIDs.
"""

from __future__ import annotations

import random
import string
import threading

KEY_PREFIXES: dict[str, str] = {
    "Account": "001",
    "Contact": "003",
    "Opportunity": "006",
    "OpportunityHistory": "008",
    "OpportunityFieldHistory": "017",
    "OpportunityLineItem": "00k",
    "Product2": "01t",
    "Pricebook2": "01s",
    "PricebookEntry": "01u",
    "User": "005",
}
ORG_PREFIX = "00D"
QUERY_LOCATOR_PREFIX = "01g"

_BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
_CHECKSUM = string.ascii_uppercase + "012345"
_POD = "5g"  # the "instance" characters; any fixed pair keeps IDs recognisable in logs


def checksum(id15: str) -> str:
    """The three suffix characters that make a 15-character ID case-insensitively unique."""
    suffix = ""
    for chunk in range(3):
        bits = 0
        for i, char in enumerate(id15[chunk * 5 : chunk * 5 + 5]):
            if char.isupper():
                bits |= 1 << i
        suffix += _CHECKSUM[bits]
    return suffix


def to18(record_id: str) -> str:
    """Accept a 15- or 18-character ID and return the 18-character form."""
    if len(record_id) == 15:
        return record_id + checksum(record_id)
    return record_id


def is_valid_id(value: str) -> bool:
    if len(value) not in (15, 18) or not value.isalnum():
        return False
    return len(value) == 15 or checksum(value[:15]) == value[15:]


def prefix_object(record_id: str) -> str | None:
    """The object an ID belongs to, from its key prefix."""
    for name, prefix in KEY_PREFIXES.items():
        if record_id.startswith(prefix):
            return name
    return None


class IdFactory:
    """Mints fresh IDs; the counter starts at a random point so restarts over a kept state file
    do not reissue IDs (the caller still checks for collisions)."""

    def __init__(self, seed: int | None = None) -> None:
        rng = random.Random(seed) if seed is not None else random.SystemRandom()
        self._next = rng.randrange(62**8, 62**9)
        self._lock = threading.Lock()

    def new(self, prefix: str) -> str:
        with self._lock:
            self._next += 1
            value = self._next
        body = ""
        for _ in range(10):
            value, digit = divmod(value, 62)
            body = _BASE62[digit] + body
        id15 = prefix + _POD + body
        return id15 + checksum(id15)
