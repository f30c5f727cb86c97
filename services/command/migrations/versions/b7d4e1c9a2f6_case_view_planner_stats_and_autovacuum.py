"""case_view: planner statistics and autovacuum fit for a hot 1,000,000-row table

- ``jurisdiction_code`` statistics target 1000: a street's prefix (1 % of the rows) falls
  inside one bucket of the default 100-bucket histogram and was estimated at 1 % of its
  real size, so the planner sorted every row of the street instead of walking the
  ``created_at`` order; with 1000 buckets the estimate is right.
- ``ix_case_view_created`` (created_at DESC, case_id) INCLUDEs the usual filters
  (jurisdiction_code, status, complete, overdue, supervised): a wide prefix's first page
  walks it index-only and stops after page_size matches.
- autovacuum/autoanalyze after 0.5 % of the rows changed (defaults: 20 % / 10 %, i.e. after
  200,000 / 100,000 rows here): an SLA sweep rewrites 1 % of the open cases at once; until
  VACUUM sets the visibility map again index-only scans visit the heap, and until ANALYZE
  the moved jurisdiction codes are estimated from before the sweep.

Revision ID: b7d4e1c9a2f6
Revises: 5c1d7e2a9b43
Create Date: 2026-11-23 15:40:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b7d4e1c9a2f6"
down_revision: str | Sequence[str] | None = "5c1d7e2a9b43"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_AUTOVACUUM = (
    "autovacuum_vacuum_scale_factor = 0.005, autovacuum_analyze_scale_factor = 0.005, "
    "autovacuum_vacuum_insert_scale_factor = 0.01"
)


def upgrade() -> None:
    op.execute("ALTER TABLE command.case_view ALTER COLUMN jurisdiction_code SET STATISTICS 1000")
    op.execute(f"ALTER TABLE command.case_view SET ({_AUTOVACUUM})")
    op.create_index(
        "ix_case_view_created_covering",
        "case_view",
        [sa.literal_column("created_at DESC"), "case_id"],
        schema="command",
        postgresql_include=["jurisdiction_code", "status", "complete", "overdue", "supervised"],
    )
    op.drop_index("ix_case_view_created", table_name="case_view", schema="command")
    op.execute("ALTER INDEX command.ix_case_view_created_covering RENAME TO ix_case_view_created")


def downgrade() -> None:
    op.create_index(
        "ix_case_view_created_plain",
        "case_view",
        [sa.literal_column("created_at DESC"), "case_id"],
        schema="command",
    )
    op.drop_index("ix_case_view_created", table_name="case_view", schema="command")
    op.execute("ALTER INDEX command.ix_case_view_created_plain RENAME TO ix_case_view_created")
    op.execute(
        "ALTER TABLE command.case_view RESET (autovacuum_vacuum_scale_factor, "
        "autovacuum_analyze_scale_factor, autovacuum_vacuum_insert_scale_factor)"
    )
    op.execute("ALTER TABLE command.case_view ALTER COLUMN jurisdiction_code SET STATISTICS -1")
