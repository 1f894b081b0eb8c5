"""API keys (salted digests) for the REST API and dashboard

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

import pssync.store.tables

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_key",
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("salt", sa.String(length=32), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("created_at", pssync.store.tables.UtcDateTime(), nullable=False),
        sa.Column("revoked_at", pssync.store.tables.UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("key_id"),
        sa.UniqueConstraint("name"),
    )
    with op.batch_alter_table("api_key") as batch:
        batch.create_index("ix_api_key_name", ["name"])


def downgrade() -> None:
    op.drop_table("api_key")
