"""exception records (dead letters and business exceptions)

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

import pssync.store.tables

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "exception_record",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("owner", sa.String(length=128), nullable=True),
        sa.Column("system", sa.String(length=64), nullable=True),
        sa.Column("object", sa.String(length=128), nullable=True),
        sa.Column("source_id", sa.String(length=255), nullable=True),
        sa.Column("entity_type", sa.String(length=64), nullable=True),
        sa.Column("record_id", sa.String(length=200), nullable=True),
        sa.Column("region_id", sa.String(length=200), nullable=True),
        sa.Column("service_line_id", sa.String(length=200), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("correlation_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", pssync.store.tables.UtcDateTime(), nullable=False),
        sa.Column("updated_at", pssync.store.tables.UtcDateTime(), nullable=False),
        sa.Column("due_at", pssync.store.tables.UtcDateTime(), nullable=True),
        sa.Column("resolved_at", pssync.store.tables.UtcDateTime(), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("exception_record") as batch:
        batch.create_index("ix_exception_state_category", ["state", "category"])
        batch.create_index("ix_exception_fingerprint", ["fingerprint"])


def downgrade() -> None:
    op.drop_table("exception_record")
