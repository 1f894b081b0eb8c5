"""The sandbox's one server clock: what time it is in the firm the emulators serve.

A real system stamps every change, its users' and an integration's alike, with one server clock,
so a client that reads "changed since the latest stamp I saw" (Salesforce `SystemModstamp`,
Kantata `updated_at`, NetSuite `lastModifiedDate`) misses nothing. A sandbox firm generated as of
a past day and moved on by its activity clock stamps its users' changes in its own time; if the
emulators stamped a client's writes with the wall clock instead, one write-back by pssync would
be stamped weeks ahead of the firm, and every later change of the firm's reps (a deal won the
next simulated day) would sort before it and be skipped as already seen.

`Sandbox` anchors this clock to the firm's (`anchor`) when it starts and after each clock step;
between steps it runs with the wall clock from the anchor. Unanchored, it is the wall clock.
Authentication (token lifetimes, OAuth timestamps) keeps the wall clock: clients sign with it.
"""

from __future__ import annotations

import datetime as dt
import threading
import time

_lock = threading.Lock()
_anchor: tuple[dt.datetime, float] | None = None  # (business time, time.monotonic() then)


def anchor(moment: dt.datetime) -> None:
    """From now on the business time is `moment` plus the wall time elapsed since this call."""
    global _anchor
    with _lock:
        _anchor = (moment.astimezone(dt.UTC), time.monotonic())


def release() -> None:
    """Back to the wall clock (the sandbox stopped)."""
    global _anchor
    with _lock:
        _anchor = None


def now() -> dt.datetime:
    with _lock:
        anchored = _anchor
    if anchored is None:
        return dt.datetime.now(dt.UTC)
    moment, since = anchored
    return moment + dt.timedelta(seconds=time.monotonic() - since)
