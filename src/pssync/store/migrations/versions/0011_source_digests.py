"""source digests: what reconciliation last found in step, so it compares only what changed

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "source_digest",
        sa.Column("system", sa.String(length=64), nullable=False),
        sa.Column("object", sa.String(length=128), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=False),
        sa.Column("source_hash", sa.String(length=64), nullable=False),
        sa.Column("golden_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("system", "object", "external_id"),
    )


def downgrade() -> None:
    op.drop_table("source_digest")
