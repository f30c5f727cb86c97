"""The command service's tables (schema ``command``): the unified dispatch view."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID

from yiwang.db import service_metadata

metadata = service_metadata("command")

case_view = sa.Table(
    "case_view",
    metadata,
    sa.Column("case_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("source", sa.String(32), nullable=False),
    sa.Column("category", sa.String(64), nullable=False),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("grid_code", sa.String(18), nullable=False),
    sa.Column("jurisdiction_code", sa.String(18), nullable=False),
    sa.Column("level", sa.String(16), nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("handler", sa.String(64), nullable=True),
    sa.Column("deadline", sa.DateTime(timezone=True), nullable=True),
    sa.Column("escalation_level", sa.String(16), nullable=True),
    sa.Column("overdue", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("supervised", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("last_seq", sa.Integer, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_case_view_jurisdiction_created", "jurisdiction_code", "created_at",
             postgresql_ops={"jurisdiction_code": "text_pattern_ops"}),
    sa.Index("ix_case_view_status", "status"),
)
