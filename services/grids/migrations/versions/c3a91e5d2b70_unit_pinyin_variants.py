"""unit pinyin variants: stored so that loading the tree needs no pinyin dictionary

Revision ID: c3a91e5d2b70
Revises: abdfa4f885f7
Create Date: 2026-11-24 10:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision: str = 'c3a91e5d2b70'
down_revision: Union[str, Sequence[str], None] = 'abdfa4f885f7'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Add ``units.pinyin_variants`` and fill it for the units already stored."""
    from services.grids.domain.units import initials_variants

    op.add_column(
        'units',
        sa.Column(
            'pinyin_variants', sa.Text(), server_default='', nullable=False,
            comment='initials of every reading of polyphonic characters, space-separated',
        ),
        schema='grids',
    )
    conn = op.get_bind()
    units = sa.table(
        'units', sa.column('code'), sa.column('name'), sa.column('pinyin_variants'),
        schema='grids',
    )
    rows = conn.execute(sa.select(units.c.code, units.c.name)).all()
    values = [{'c': r.code, 'v': ' '.join(initials_variants(r.name))} for r in rows]
    stmt = (
        sa.update(units)
        .where(units.c.code == sa.bindparam('c'))
        .values(pinyin_variants=sa.bindparam('v'))
    )
    for i in range(0, len(values), 2000):
        conn.execute(stmt, values[i : i + 2000])


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_column('units', 'pinyin_variants', schema='grids')
