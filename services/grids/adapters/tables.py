"""The grids service's tables (schema ``grids``)."""

from __future__ import annotations

import sqlalchemy as sa

from yiwang.db import service_metadata

metadata = service_metadata("grids")

units = sa.Table(
    "units",
    metadata,
    sa.Column("code", sa.String(18), primary_key=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("level", sa.String(16), nullable=False),
    sa.Column("parent_code", sa.String(18), nullable=True, index=True),
    sa.Column("pinyin", sa.String(100), nullable=False, server_default=""),
    sa.Column("retired", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("geometry", sa.Text, nullable=True, comment="GeoJSON geometry, WGS-84"),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False,
              server_default=sa.func.now()),
)
