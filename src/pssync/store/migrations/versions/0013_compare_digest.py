"""recon: xref.compare_digest, a digest of the golden fields reconciliation compares

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # NULL for every existing link: reconciliation compares those records' fields until a
    # write of the record sets the digest (store/compare_digest.py).
    with op.batch_alter_table("xref") as batch:
        batch.add_column(sa.Column("compare_digest", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("xref") as batch:
        batch.drop_column("compare_digest")
