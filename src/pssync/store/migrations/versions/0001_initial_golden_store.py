"""initial golden store

Revision ID: 0001
Revises:
"""

from alembic import op
import sqlalchemy as sa

import pssync.store.tables


revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("row_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "audit_log",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("at", pssync.store.tables.UtcDateTime(), nullable=False),
        sa.Column("transaction_id", sa.String(length=64), nullable=False),
        sa.Column("correlation_id", sa.String(length=64), nullable=True),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("entity_type", sa.String(length=64), nullable=True),
        sa.Column("record_id", sa.String(length=200), nullable=True),
        sa.Column("changes", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("row_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
    )
    op.create_table(
        "record_version",
        sa.Column(
            "version_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("entity_type", sa.String(length=64), nullable=False),
        sa.Column("record_id", sa.String(length=200), nullable=False),
        sa.Column("valid_from", pssync.store.tables.UtcDateTime(), nullable=False),
        sa.Column("valid_to", pssync.store.tables.UtcDateTime(), nullable=True),
        sa.Column("recorded_from", pssync.store.tables.UtcDateTime(), nullable=False),
        sa.Column("recorded_to", pssync.store.tables.UtcDateTime(), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("provenance", sa.Text(), nullable=False),
        sa.Column("transaction_id", sa.String(length=64), nullable=False),
        sa.Column("system", sa.String(length=64), nullable=False),
        sa.Column("source_record", sa.String(length=255), nullable=True),
        sa.Column("deleted", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("version_id"),
    )
    with op.batch_alter_table("record_version", schema=None) as batch_op:
        batch_op.create_index(
            "ix_record_version_current", ["entity_type", "record_id", "recorded_to"], unique=False
        )
        batch_op.create_index(
            "ix_record_version_type_time", ["entity_type", "recorded_from"], unique=False
        )

    op.create_table(
        "xref",
        sa.Column(
            "xref_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("entity_type", sa.String(length=64), nullable=False),
        sa.Column("record_id", sa.String(length=200), nullable=False),
        sa.Column("system", sa.String(length=64), nullable=False),
        sa.Column("object", sa.String(length=128), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=False),
        sa.Column("recorded_at", pssync.store.tables.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("xref_id"),
        sa.UniqueConstraint(
            "entity_type", "record_id", "system", "object", name="uq_xref_canonical"
        ),
        sa.UniqueConstraint("system", "object", "external_id", name="uq_xref_external"),
    )


def downgrade() -> None:

    op.drop_table("xref")
    with op.batch_alter_table("record_version", schema=None) as batch_op:
        batch_op.drop_index("ix_record_version_type_time")
        batch_op.drop_index("ix_record_version_current")

    op.drop_table("record_version")
    op.drop_table("audit_log")
    op.drop_table("audit_head")
