"""The org's daily API request allowance, reported on every response in ``Sforce-Limit-Info``.

pssync's API-economy work (collections over single-record calls, getUpdated over polling
queries) is measured against this counter, and the quota-exhausted path (403
REQUEST_LIMIT_EXCEEDED) is how a real org refuses work once the allowance is spent.
"""

from __future__ import annotations

import threading
from typing import Any


class ApiUsage:
    def __init__(self, daily_limit: int) -> None:
        self.daily_limit = daily_limit
        self.used = 0
        self._lock = threading.Lock()

    def consume(self) -> bool:
        """Count one request; False (and no count) when the allowance is spent."""
        with self._lock:
            if self.used >= self.daily_limit:
                return False
            self.used += 1
            return True

    def set(self, *, daily_limit: int | None = None, used: int | None = None) -> None:
        with self._lock:
            if daily_limit is not None:
                self.daily_limit = daily_limit
            if used is not None:
                self.used = used

    @property
    def header(self) -> str:
        return f"api-usage={self.used}/{self.daily_limit}"

    def limits(self) -> dict[str, Any]:
        """The /limits resource (the entries a sync cares about)."""
        remaining = max(0, self.daily_limit - self.used)
        return {
            "DailyApiRequests": {"Max": self.daily_limit, "Remaining": remaining},
            "DailyBulkApiBatches": {"Max": 15000, "Remaining": 15000},
            "DailyBulkV2QueryJobs": {"Max": 10000, "Remaining": 10000},
            "DataStorageMB": {"Max": 1024, "Remaining": 1024},
            "SingleEmailMessages": {"Max": 5000, "Remaining": 5000},
        }
