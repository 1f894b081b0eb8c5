"""The sync engine: durable capture, pipeline, delivery and reconciliation on DBOS Transact."""
