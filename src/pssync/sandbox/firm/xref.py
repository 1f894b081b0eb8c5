"""The cross-system ID book: which ID each system gives each canonical record.

IDs are handed out in one fixed order so they are stable across runs; the activity clock keeps
drawing from the same counters. Truth payloads (`xrefs`) and vendor views read the same book.
"""

from __future__ import annotations

from pssync.sandbox.firm.ids import digits_id, sf_id

ERP_OF_ENTITY = {"US01": "netsuite", "DE01": "sap_s4", "AU01": "filedrop"}
ERP_CUSTOMER = {"netsuite": "customer", "sap_s4": "A_BusinessPartner", "filedrop": "customers"}
ERP_PROJECT = {"netsuite": "job", "sap_s4": "A_EnterpriseProject", "filedrop": "projects"}
ERP_INVOICE = {"netsuite": "invoice", "sap_s4": "A_BillingDocument", "filedrop": "invoices"}
_BASES = {
    "kantata:workspaces": 41_000_000,
    "kantata:workspace_groups": 2_100_000,
    "kantata:stories": 610_000_000,
    "kantata:users": 9_400_000,
    "kantata:roles": 88_000,
    "kantata:workspace_resources": 12_000_000,
    "kantata:workspace_allocations": 33_000_000,
    "kantata:invoices": 5_500_000,
    "netsuite:customer": 3_000,
    "netsuite:job": 15_000,
    "netsuite:projecttask": 70_000,
    "netsuite:invoice": 240_000,
    "netsuite:customerpayment": 610_000,
    "netsuite:journalentry": 900_000,
    "sap_s4:A_BusinessPartner": 1_000_000,
}
TIME_ENTRY_BASE = 700_000_000


class XrefBook:
    """canonical id -> {"system:Object": that system's id}, with per-object counters."""

    def __init__(self) -> None:
        self.ids: dict[str, dict[str, str]] = {}
        self._counters: dict[str, int] = {}

    def _next(self, key: str) -> int:
        n = self._counters.get(key, 0) + 1
        self._counters[key] = n
        return n

    def issue(self, canonical_id: str, key: str, value: str | None = None) -> str:
        """Give `canonical_id` an ID in `key` ("system:Object"); keeps an existing one."""
        mine = self.ids.setdefault(canonical_id, {})
        if key in mine:
            return mine[key]
        n = self._next(key)
        if value is None:
            system, obj = key.split(":", 1)
            if system == "salesforce":
                value = sf_id(obj, n)
            elif key in _BASES:
                value = digits_id(_BASES[key], n)
            else:
                value = f"{obj[:1].upper()}{n:06d}"
        mine[key] = value
        return value

    def get(self, canonical_id: str, key: str) -> str | None:
        return self.ids.get(canonical_id, {}).get(key)

    def of(self, canonical_id: str) -> dict[str, str]:
        return dict(sorted(self.ids.get(canonical_id, {}).items()))


def time_entry_id(row: int) -> str:
    return digits_id(TIME_ENTRY_BASE, row + 1)
