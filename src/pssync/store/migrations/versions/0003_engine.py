"""sync engine tables: inbox, last applied version, cursors, delivery ledger, circuit breaker

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

import pssync.store.tables

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_Utc = pssync.store.tables.UtcDateTime


def upgrade() -> None:
    op.create_table(
        "engine_inbox",
        sa.Column("event_key", sa.String(length=64), nullable=False),
        sa.Column("system", sa.String(length=64), nullable=False),
        sa.Column("object", sa.String(length=128), nullable=False),
        sa.Column("source_id", sa.String(length=255), nullable=False),
        sa.Column("version", sa.String(length=128), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("entity_type", sa.String(length=64), nullable=True),
        sa.Column("record_id", sa.String(length=200), nullable=True),
        sa.Column("workflow_id", sa.String(length=128), nullable=True),
        sa.Column("received_at", _Utc(), nullable=False),
        sa.PrimaryKeyConstraint("event_key"),
    )
    op.create_table(
        "engine_last_applied",
        sa.Column("system", sa.String(length=64), nullable=False),
        sa.Column("object", sa.String(length=128), nullable=False),
        sa.Column("source_id", sa.String(length=255), nullable=False),
        sa.Column("version", sa.String(length=128), nullable=False),
        sa.Column("applied_at", _Utc(), nullable=False),
        sa.PrimaryKeyConstraint("system", "object", "source_id"),
    )
    op.create_table(
        "engine_cursor",
        sa.Column("system", sa.String(length=64), nullable=False),
        sa.Column("object", sa.String(length=128), nullable=False),
        sa.Column("cursor", sa.Text(), nullable=True),
        sa.Column("updated_at", _Utc(), nullable=False),
        sa.PrimaryKeyConstraint("system", "object"),
    )
    op.create_table(
        "engine_delivery",
        sa.Column("system", sa.String(length=64), nullable=False),
        sa.Column("object", sa.String(length=128), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=False),
        sa.Column("target_id", sa.String(length=255), nullable=True),
        sa.Column("entity_type", sa.String(length=64), nullable=False),
        sa.Column("record_id", sa.String(length=200), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("written_at", _Utc(), nullable=False),
        sa.PrimaryKeyConstraint("system", "object", "external_id"),
    )
    op.create_table(
        "engine_circuit",
        sa.Column("system", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("open_until", _Utc(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("system"),
    )


def downgrade() -> None:
    for name in (
        "engine_circuit",
        "engine_delivery",
        "engine_cursor",
        "engine_last_applied",
        "engine_inbox",
    ):
        op.drop_table(name)
