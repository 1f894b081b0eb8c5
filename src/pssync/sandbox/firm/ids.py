"""Each system's identifier scheme, reproduced so connectors meet realistic IDs.

Salesforce IDs follow the real 15-character layout (key prefix, instance, sequence) with the
3-character case-safe suffix computed the way Salesforce does, so 18-character IDs round-trip
through tools that validate them. The other systems use their own habits: digit strings for
Kantata and NetSuite internal IDs, numbered business keys for SAP and the file-drop ERP.
"""

from __future__ import annotations

import uuid

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_UUID_NAMESPACE = uuid.UUID("6f1c2b1e-3d5a-4c1b-9a57-2f5e0d7c9b11")

#: Salesforce key prefixes of the objects the sandbox firm holds.
SF_PREFIX = {
    "Account": "001",
    "Contact": "003",
    "Opportunity": "006",
    "OpportunityLineItem": "00k",
    "Product2": "01t",
    "PricebookEntry": "01u",
    "User": "005",
    "OpportunityHistory": "008",
}


def _base62(n: int, width: int) -> str:
    chars = []
    for _ in range(width):
        n, r = divmod(n, 62)
        chars.append(_BASE62[r])
    if n:
        raise ValueError("sequence does not fit the Salesforce ID width")
    return "".join(reversed(chars))


def sf_case_suffix(id15: str) -> str:
    """The 3 characters Salesforce appends so an ID survives case-insensitive handling."""
    out = []
    for chunk in range(3):
        bits = 0
        for i, ch in enumerate(id15[chunk * 5 : chunk * 5 + 5]):
            if "A" <= ch <= "Z":
                bits |= 1 << i
        out.append(_SUFFIX[bits])
    return "".join(out)


def sf_id(object_name: str, seq: int, instance: str = "Hs") -> str:
    """An 18-character Salesforce ID; `seq` is scrambled so neighbours do not look sequential."""
    scrambled = (seq * 2_654_435_761 + 97_531) % (62**9)
    id15 = SF_PREFIX[object_name] + instance + "0" + _base62(scrambled, 9)
    return id15 + sf_case_suffix(id15)


def digits_id(base: int, seq: int) -> str:
    """Kantata and NetSuite internal IDs: strings of digits from a per-object base."""
    return str(base + seq)


def stable_uuid(*parts: str) -> str:
    """A UUID derived from names, for SAP's GUID keys (same inputs, same UUID)."""
    return str(uuid.uuid5(_UUID_NAMESPACE, "/".join(parts)))
