"""The time grid and the capacity plan: months, as-of instants, region working calendars, and
role capacity by region against bookings.

Plain computation over the canonical model, below the store: the forecast, governance (the
resource-conflict check) and the flows (handoff dates) all build on it.
"""
