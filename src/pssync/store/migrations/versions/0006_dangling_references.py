"""dangling references (vendor IDs a record holds before their target is known)

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

import pssync.store.tables

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dangling_reference",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("system", sa.String(length=64), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=False),
        sa.Column("entity_type", sa.String(length=64), nullable=False),
        sa.Column("holder_type", sa.String(length=64), nullable=False),
        sa.Column("holder_id", sa.String(length=200), nullable=False),
        sa.Column("object", sa.String(length=128), nullable=False),
        sa.Column("field", sa.String(length=64), nullable=False),
        sa.Column("noted_at", pssync.store.tables.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("holder_type", "holder_id", "field", name="uq_dangling_holder"),
    )
    op.create_index(
        "ix_dangling_target",
        "dangling_reference",
        ["system", "external_id", "entity_type"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_dangling_target", table_name="dangling_reference")
    op.drop_table("dangling_reference")
