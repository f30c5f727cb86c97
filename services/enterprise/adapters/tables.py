"""The enterprise service's tables (schema ``enterprise``).

Every aggregate is one row: its full domain state as JSONB (``state``, written by
``adapters.codec``) plus the columns queries and sweeps filter on, and a ``version`` for
optimistic concurrency (``UPDATE ... WHERE version = :v``).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from yiwang.db import service_metadata

metadata = service_metadata("enterprise")


def _common(*extra: Any) -> list[Any]:
    return [
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("state", JSONB, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        *extra,
    ]


enterprises = sa.Table(
    "enterprises",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("uscc", sa.String(18), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("industry", sa.String(64), nullable=False),
    sa.Column("size", sa.String(16), nullable=False),
    sa.Column("grid_code", sa.String(15), nullable=False),
    sa.Column("district_code", sa.String(6), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    *_common(
        sa.UniqueConstraint("uscc", name="uq_enterprises_uscc"),
        sa.Index(
            "ix_enterprises_grid",
            "grid_code",
            postgresql_ops={"grid_code": "text_pattern_ops"},
        ),
        sa.Index("ix_enterprises_status", "status"),
        sa.Index("ix_enterprises_users", sa.text("(state -> 'users')"), postgresql_using="gin"),
    ),
)

institutions = sa.Table(
    "institutions",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("uscc", sa.String(18), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("district_code", sa.String(6), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    *_common(
        sa.UniqueConstraint("uscc", name="uq_institutions_uscc"),
        sa.Index("ix_institutions_users", sa.text("(state -> 'users')"), postgresql_using="gin"),
    ),
)

responsibilities = sa.Table(
    "responsibilities",
    metadata,
    sa.Column("district_code", sa.String(6), primary_key=True),
    sa.Column("category", sa.String(64), primary_key=True),
    sa.Column("leader_id", sa.String(64), nullable=False),
    sa.Column("department", sa.String(64), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

demands = sa.Table(
    "demands",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("enterprise_id", sa.String(64), sa.ForeignKey("enterprises.id"), nullable=False),
    sa.Column("enterprise_name", sa.String(200), nullable=False),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("category", sa.String(64), nullable=False),
    sa.Column("urgency", sa.String(16), nullable=False),
    sa.Column("grid_code", sa.String(15), nullable=False),
    sa.Column("district_code", sa.String(6), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("leader_id", sa.String(64), nullable=True),
    sa.Column("department", sa.String(64), nullable=True),
    sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("overdue_reported", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("event_seq", sa.Integer, nullable=False, server_default="0"),
    *_common(
        sa.Index(
            "ix_demands_grid_created",
            "grid_code",
            "created_at",
            postgresql_ops={"grid_code": "text_pattern_ops"},
        ),
        sa.Index("ix_demands_enterprise", "enterprise_id"),
        sa.Index(
            "ix_demands_sweep",
            "due_at",
            postgresql_where=sa.text(
                "status IN ('assigned', 'in_progress') AND NOT overdue_reported"
            ),
        ),
    ),
)

financing_products = sa.Table(
    "financing_products",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("institution_id", sa.String(64), sa.ForeignKey("institutions.id"), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
    *_common(sa.Index("ix_financing_products_institution", "institution_id")),
)

financing_needs = sa.Table(
    "financing_needs",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("enterprise_id", sa.String(64), sa.ForeignKey("enterprises.id"), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    *_common(sa.Index("ix_financing_needs_enterprise", "enterprise_id")),
)

job_postings = sa.Table(
    "job_postings",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("enterprise_id", sa.String(64), sa.ForeignKey("enterprises.id"), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("hires", sa.Integer, nullable=False, server_default="0"),
    *_common(sa.Index("ix_job_postings_enterprise", "enterprise_id")),
)

capabilities = sa.Table(
    "capabilities",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("institution_id", sa.String(64), sa.ForeignKey("institutions.id"), nullable=False),
    *_common(sa.Index("ix_capabilities_institution", "institution_id")),
)

tech_needs = sa.Table(
    "tech_needs",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("enterprise_id", sa.String(64), sa.ForeignKey("enterprises.id"), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    *_common(sa.Index("ix_tech_needs_enterprise", "enterprise_id")),
)

policies = sa.Table(
    "policies",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("title", sa.String(200), nullable=False),
    *_common(),
)

key_projects = sa.Table(
    "key_projects",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("district_code", sa.String(6), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("current_department", sa.String(64), nullable=True),
    sa.Column("next_check_at", sa.DateTime(timezone=True), nullable=True),
    *_common(
        sa.Index("ix_key_projects_district", "district_code"),
        sa.Index(
            "ix_key_projects_sweep",
            "next_check_at",
            postgresql_where=sa.text("next_check_at IS NOT NULL"),
        ),
    ),
)
