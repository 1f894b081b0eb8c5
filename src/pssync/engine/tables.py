"""The engine's own tables, in the golden store's database and metadata.

They sit beside the golden store (not in the DBOS system database) because their rows must agree
with golden writes: the inbox and the last applied version decide whether a change is applied,
the cursors say how far capture got, the delivery ledger remembers what pssync last wrote to
each target record (echo and no-op suppression), and the circuit table lets every worker see
that a target is paused.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Float, Integer, String, Table, Text

from pssync.store.tables import UtcDateTime, metadata

# One row per change event ever seen: the idempotent consumer's memory.
engine_inbox = Table(
    "engine_inbox",
    metadata,
    Column("event_key", String(64), primary_key=True),
    Column("system", String(64), nullable=False),
    Column("object", String(128), nullable=False),
    Column("source_id", String(255), nullable=False),
    Column("version", String(128), nullable=False),
    Column("status", String(16), nullable=False),
    Column("entity_type", String(64), nullable=True),
    Column("record_id", String(200), nullable=True),
    Column("workflow_id", String(128), nullable=True),
    Column("received_at", UtcDateTime(), nullable=False),
)

# The newest version applied per source record, so a late older version is never applied.
engine_last_applied = Table(
    "engine_last_applied",
    metadata,
    Column("system", String(64), primary_key=True),
    Column("object", String(128), primary_key=True),
    Column("source_id", String(255), primary_key=True),
    Column("version", String(128), nullable=False),
    Column("applied_at", UtcDateTime(), nullable=False),
)

# Change-capture cursors, written only after the page they end was applied.
engine_cursor = Table(
    "engine_cursor",
    metadata,
    Column("system", String(64), primary_key=True),
    Column("object", String(128), primary_key=True),
    Column("cursor", Text, nullable=True),
    Column("updated_at", UtcDateTime(), nullable=False),
)

# What pssync last wrote to each target record, by the external ID it chose.
engine_delivery = Table(
    "engine_delivery",
    metadata,
    Column("system", String(64), primary_key=True),
    Column("object", String(128), primary_key=True),
    Column("external_id", String(255), primary_key=True),
    Column("target_id", String(255), nullable=True),
    Column("entity_type", String(64), nullable=False),
    Column("record_id", String(200), nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("payload", Text, nullable=False),
    Column("written_at", UtcDateTime(), nullable=False),
)

# Circuit breaker per target system, shared by every worker.
engine_circuit = Table(
    "engine_circuit",
    metadata,
    Column("system", String(64), primary_key=True),
    Column("failures", Integer, nullable=False, default=0),
    Column("open_until", UtcDateTime(), nullable=True),
    Column("reason", Text, nullable=True),
)

ENGINE_TABLES = (engine_inbox, engine_last_applied, engine_cursor, engine_delivery, engine_circuit)


# Pushed (webhook) changes waiting for the drainer (`pushed.py`), unique by event key.
engine_pushed_event = Table(
    "engine_pushed_event",
    metadata,
    Column("seq", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True),
    Column("event_key", String(64), nullable=False, unique=True),
    Column("system", String(64), nullable=False),
    Column("object", String(128), nullable=False),
    Column("record", Text, nullable=False),
    Column("batch", String(64), nullable=True, index=True),
    Column("received_at", UtcDateTime(), nullable=False),
)
# Who drains, until when (Unix seconds): one drainer at a time keeps one record's events in order.
engine_pushed_lease = Table(
    "engine_pushed_lease",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("holder", String(255), nullable=False),
    Column("until", Float, nullable=False),
)
# Who is delivering to one target record right now, until when (Unix seconds): two workers
# routing the same golden record must not both look it up, find nothing and create it.
engine_delivery_claim = Table(
    "engine_delivery_claim",
    metadata,
    Column("system", String(64), primary_key=True),
    Column("object", String(128), primary_key=True),
    Column("external_id", String(255), primary_key=True),
    Column("holder", String(255), nullable=False),
    Column("until", Float, nullable=False),
)
# Webhook message IDs already accepted per sender, with their body digest (`webhooks.py`).
engine_webhook_message = Table(
    "engine_webhook_message",
    metadata,
    Column("sender", String(64), primary_key=True),
    Column("message_id", String(255), primary_key=True),
    Column("body_digest", String(64), nullable=False),
    Column("workflow_ids", Text, nullable=False),
    Column("received_at", UtcDateTime(), nullable=False),
)
# Worker liveness on PostgreSQL (`workers_pg.py`).
engine_worker = Table(
    "engine_worker",
    metadata,
    Column("executor_id", String(128), primary_key=True),
    Column("beat_at", Float, nullable=False),  # Unix seconds
)
