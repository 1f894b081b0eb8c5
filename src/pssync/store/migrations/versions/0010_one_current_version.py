"""one current version per record and valid time: concurrent writers cannot both append

Two workers that read the same state used to insert two current versions of one record (issue
14). The unique partial indexes refuse the second; the store then re-reads and re-applies. A
database that already holds such twins keeps the newest of each and closes the others at the
moment they were recorded (a belief that never stood alone), so the indexes can be built.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_TWINS = """
UPDATE record_version SET recorded_to = recorded_from
WHERE recorded_to IS NULL AND EXISTS (
    SELECT 1 FROM record_version newer
    WHERE newer.entity_type = record_version.entity_type
      AND newer.record_id = record_version.record_id
      AND newer.recorded_to IS NULL
      AND newer.version_id > record_version.version_id
      AND {same}
)
"""
_CURRENT = "recorded_to IS NULL"
_LATEST = "recorded_to IS NULL AND valid_to IS NULL"


def upgrade() -> None:
    op.execute(_TWINS.format(same="newer.valid_from = record_version.valid_from"))
    op.execute(_TWINS.format(same="newer.valid_to IS NULL AND record_version.valid_to IS NULL"))
    op.create_index(
        "uq_record_version_current",
        "record_version",
        ["entity_type", "record_id", "valid_from"],
        unique=True,
        sqlite_where=sa.text(_CURRENT),
        postgresql_where=sa.text(_CURRENT),
    )
    op.create_index(
        "uq_record_version_latest",
        "record_version",
        ["entity_type", "record_id"],
        unique=True,
        sqlite_where=sa.text(_LATEST),
        postgresql_where=sa.text(_LATEST),
    )


def downgrade() -> None:
    op.drop_index("uq_record_version_latest", table_name="record_version")
    op.drop_index("uq_record_version_current", table_name="record_version")
