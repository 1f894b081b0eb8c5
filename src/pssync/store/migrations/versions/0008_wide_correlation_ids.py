"""correlation IDs up to 512 characters: page workflow IDs such as
``page:kantata:workspace_allocations:<32 hex>`` (67) and repoint IDs overflowed VARCHAR(64), which
PostgreSQL enforces (StringDataRightTruncation) and SQLite does not

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_TABLES = ("audit_log", "exception_record")


def upgrade() -> None:
    # SQLite stores VARCHAR(n) as TEXT and never checks the length: nothing to change there
    # (a batch table rebuild of the audit log would copy it whole for no effect).
    if op.get_bind().dialect.name == "sqlite":
        return
    for table in _TABLES:
        op.alter_column(
            table,
            "correlation_id",
            existing_type=sa.String(length=64),
            type_=sa.String(length=512),
            existing_nullable=True,
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    for table in _TABLES:
        op.alter_column(
            table,
            "correlation_id",
            existing_type=sa.String(length=512),
            type_=sa.String(length=64),
            existing_nullable=True,
        )
