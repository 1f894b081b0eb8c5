"""record merges (duplicate -> survivor redirects)

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

import pssync.store.tables

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "record_merge",
        sa.Column("entity_type", sa.String(length=64), nullable=False),
        sa.Column("from_id", sa.String(length=200), nullable=False),
        sa.Column("to_id", sa.String(length=200), nullable=False),
        sa.Column("merged_at", pssync.store.tables.UtcDateTime(), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("entity_type", "from_id"),
    )


def downgrade() -> None:
    op.drop_table("record_merge")
