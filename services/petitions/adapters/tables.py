"""The petitions service's tables (schema ``petitions``)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID

from yiwang.db import service_metadata

metadata = service_metadata("petitions")

cases = sa.Table(
    "cases",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("report_id", UUID(as_uuid=True), nullable=True, unique=True),
    sa.Column("source", sa.String(32), nullable=False),
    sa.Column("external_ref", sa.String(80), nullable=True),
    sa.Column("category", sa.String(64), nullable=False),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("grid_code", sa.String(18), nullable=False),
    sa.Column("jurisdiction_code", sa.String(18), nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("lat", sa.Float, nullable=True),
    sa.Column("lon", sa.Float, nullable=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("state", JSONB, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("source", "external_ref", name="uq_cases_source_external_ref"),
    sa.Index("ix_cases_jurisdiction", "jurisdiction_code",
             postgresql_ops={"jurisdiction_code": "text_pattern_ops"}),
    sa.Index("ix_cases_status", "status"),
    sa.Index("ix_cases_category_created", "category", "created_at"),
)
