"""engine side tables into the migrated schema: pushed events and their lease, webhook message
IDs, worker heartbeats (earlier releases created them on first use, so an existing one is kept)

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

import pssync.store.tables

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_Utc = pssync.store.tables.UtcDateTime


def _exists(name: str) -> bool:
    return name in sa.inspect(op.get_bind()).get_table_names()


def upgrade() -> None:
    if not _exists("engine_pushed_event"):
        op.create_table(
            "engine_pushed_event",
            sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
            sa.Column("event_key", sa.String(length=64), nullable=False),
            sa.Column("system", sa.String(length=64), nullable=False),
            sa.Column("object", sa.String(length=128), nullable=False),
            sa.Column("record", sa.Text(), nullable=False),
            sa.Column("batch", sa.String(length=64), nullable=True),
            sa.Column("received_at", _Utc(), nullable=False),
            sa.PrimaryKeyConstraint("seq"),
            sa.UniqueConstraint("event_key"),
        )
        op.create_index(
            "ix_engine_pushed_event_batch", "engine_pushed_event", ["batch"], unique=False
        )
    if not _exists("engine_pushed_lease"):
        op.create_table(
            "engine_pushed_lease",
            sa.Column("name", sa.String(length=32), nullable=False),
            sa.Column("holder", sa.String(length=255), nullable=False),
            sa.Column("until", sa.Float(), nullable=False),
            sa.PrimaryKeyConstraint("name"),
        )
    if not _exists("engine_webhook_message"):
        op.create_table(
            "engine_webhook_message",
            sa.Column("sender", sa.String(length=64), nullable=False),
            sa.Column("message_id", sa.String(length=255), nullable=False),
            sa.Column("body_digest", sa.String(length=64), nullable=False),
            sa.Column("workflow_ids", sa.Text(), nullable=False),
            sa.Column("received_at", _Utc(), nullable=False),
            sa.PrimaryKeyConstraint("sender", "message_id"),
        )
    if not _exists("engine_worker"):
        op.create_table(
            "engine_worker",
            sa.Column("executor_id", sa.String(length=128), nullable=False),
            sa.Column("beat_at", sa.Float(), nullable=False),
            sa.PrimaryKeyConstraint("executor_id"),
        )


def downgrade() -> None:
    for name in ("engine_worker", "engine_webhook_message", "engine_pushed_lease"):
        op.drop_table(name)
    op.drop_index("ix_engine_pushed_event_batch", table_name="engine_pushed_event")
    op.drop_table("engine_pushed_event")
