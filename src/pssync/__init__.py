"""pssync: keep CRM, PSA and ERP aligned through one canonical model and forecast from it."""

__version__ = "0.1.0"
