"""the working-day calendar kept as data per year (holidays, make-up working days)

Seeded from ``services.command.domain.holidays_cn.HOLIDAY_DATA`` (one named day per
holiday); administrators edit it through the ``put_calendar_year`` RPC afterwards.

Revision ID: 5c1d7e2a9b43
Revises: 806ef01211a7
Create Date: 2026-11-24 10:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from services.command.domain.calendar import year_from_ranges
from services.command.domain.holidays_cn import HOLIDAY_DATA

# revision identifiers, used by Alembic.
revision: str = "5c1d7e2a9b43"
down_revision: str | Sequence[str] | None = "806ef01211a7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.execute(sa.schema.CreateSequence(sa.Sequence("calendar_revision_seq", schema="command")))
    table = op.create_table(
        "calendar_years",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("source", sa.Text(), server_default="", nullable=False),
        sa.Column("holidays", JSONB(), server_default="[]", nullable=False),
        sa.Column("makeup_workdays", JSONB(), server_default="[]", nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.Column("updated_by", sa.String(length=64), server_default="system", nullable=False),
        sa.PrimaryKeyConstraint("year"),
        schema="command",
    )
    for year, entry in sorted(HOLIDAY_DATA.items()):
        data = year_from_ranges(int(year), entry).to_data()
        op.execute(table.insert().values(
            year=data["year"], status=data["status"], source=data["source"],
            holidays=data["holidays"], makeup_workdays=data["makeup_workdays"],
            revision=sa.func.nextval("command.calendar_revision_seq"),
        ))


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("calendar_years", schema="command")
    op.execute(sa.schema.DropSequence(sa.Sequence("calendar_revision_seq", schema="command")))
