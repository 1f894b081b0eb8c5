"""dashboard sessions kept server-side, so that logging out ends them

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

import pssync.store.tables

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_session",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("created_at", pssync.store.tables.UtcDateTime(), nullable=False),
        sa.Column("expires_at", pssync.store.tables.UtcDateTime(), nullable=False),
        sa.Column("ended_at", pssync.store.tables.UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("web_session")
