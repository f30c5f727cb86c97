"""The command service's tables (schema ``command``).

- ``case_view``: the unified dispatch view, one row per case, folded from the case events
  (``services.command.domain.casefile``); ``state`` keeps the fold's bookkeeping (seen
  seqs, per-field stamps, escalations, supervisions, whistles), ``kpi`` the KPI memo.
  ``next_due_at`` is the case's next SLA instant (warning, then deadline), indexed so the
  sweep reads only what is due.
- ``case_events``: append-only log of every event the view is folded from (the raw history;
  ``rebuild`` replays it). Producer events keep seq × 1000; the command's own events
  (warning, overdue, escalated, supervised, whistled) take the following slots.
- ``kpi_counters``: incremental KPI counters per (jurisdiction code, department, day, metric).
- ``departments``, ``routing_rules``, ``warning_rules``, ``alerts``, ``saved_filters``,
  ``whistles``, ``supervisions``, ``audit_log`` (hash-chained, insert-only).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID

from yiwang.db import service_metadata

metadata = service_metadata("command")

TZ = sa.DateTime(timezone=True)

case_view = sa.Table(
    "case_view",
    metadata,
    sa.Column("case_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("complete", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("source", sa.String(32), nullable=True),
    sa.Column("category", sa.String(64), nullable=True),
    sa.Column("title", sa.String(200), nullable=True),
    sa.Column("description", sa.Text, nullable=True),
    sa.Column("address", sa.String(200), nullable=True),
    sa.Column("grid_code", sa.String(18), nullable=True),
    sa.Column("jurisdiction_code", sa.String(18), nullable=True),
    sa.Column("level", sa.String(16), nullable=True),
    sa.Column("sla_class", sa.String(32), nullable=True),
    sa.Column("status", sa.String(32), nullable=True),
    sa.Column("handler", sa.String(64), nullable=True),
    sa.Column("department", sa.String(64), nullable=True),
    sa.Column("return_reason", sa.Text, nullable=True),
    sa.Column("accept_due", TZ, nullable=True),
    sa.Column("deadline", TZ, nullable=True),
    sa.Column("warn_at", TZ, nullable=True),
    sa.Column("sla_state", sa.String(16), nullable=False, server_default="on_time"),
    sa.Column("next_due_at", TZ, nullable=True),
    sa.Column("escalation_level", sa.String(16), nullable=True),
    sa.Column("escalation_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("overdue", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("supervised", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("supervision_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("whistle_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("rework_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("satisfied", sa.Boolean, nullable=True),
    sa.Column("rating", sa.Integer, nullable=True),
    sa.Column("lat", sa.Float, nullable=True),
    sa.Column("lon", sa.Float, nullable=True),
    sa.Column("accepted_at", TZ, nullable=True),
    sa.Column("dispatched_at", TZ, nullable=True),
    sa.Column("handled_at", TZ, nullable=True),
    sa.Column("closed_at", TZ, nullable=True),
    sa.Column("status_at", TZ, nullable=True),
    sa.Column("last_seq", sa.BigInteger, nullable=False),
    sa.Column("state", JSONB, nullable=False, server_default="{}"),
    sa.Column("kpi", JSONB, nullable=False, server_default="{}"),
    sa.Column("created_at", TZ, nullable=True),
    sa.Column("updated_at", TZ, nullable=False),
    # migration b7d4e1c9a2f6 also sets jurisdiction_code's statistics target (1000) and
    # autovacuum/autoanalyze after 0.5 % of the rows changed (an SLA sweep rewrites ~1 %)
    # the default order per jurisdiction prefix (also serves prefix + created range filters);
    sa.Index(
        "ix_case_view_jurisdiction_order",
        "jurisdiction_code",
        sa.text("created_at DESC"),
        "case_id",
        postgresql_ops={"jurisdiction_code": "text_pattern_ops"},
        # the usual filters ride along: page keys and capped counts come index-only
        postgresql_include=["status", "complete", "overdue", "supervised"],
    ),
    # the default order for wide prefixes (a district, the city): the first page walks it
    # index-only, filtering on the included columns, and stops after page_size matches
    sa.Index(
        "ix_case_view_created",
        sa.text("created_at DESC"),
        "case_id",
        postgresql_include=["jurisdiction_code", "status", "complete", "overdue", "supervised"],
    ),
    sa.Index("ix_case_view_status", "status"),
    sa.Index(
        "ix_case_view_next_due",
        "next_due_at",
        postgresql_where=sa.text("next_due_at IS NOT NULL"),
    ),
    sa.Index(
        "ix_case_view_overdue_dept",
        "department",
        "jurisdiction_code",
        postgresql_where=sa.text("overdue"),
    ),
    sa.Index(
        "ix_case_view_title_trgm",
        "title",
        postgresql_using="gin",
        postgresql_ops={"title": "gin_trgm_ops"},
    ),
    sa.Index(
        "ix_case_view_description_trgm",
        "description",
        postgresql_using="gin",
        postgresql_ops={"description": "gin_trgm_ops"},
    ),
)

case_events = sa.Table(
    "case_events",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("case_id", UUID(as_uuid=True), nullable=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("type", sa.String(40), nullable=False),
    sa.Column("action", sa.String(40), nullable=True),
    sa.Column("event_id", UUID(as_uuid=True), nullable=True),
    sa.Column("at", TZ, nullable=False),
    sa.Column("data", JSONB, nullable=False, server_default="{}"),
    sa.Column("recorded_at", TZ, nullable=False, server_default=sa.func.now()),
    sa.UniqueConstraint("case_id", "seq", name="uq_case_events_case_seq"),
)

kpi_counters = sa.Table(
    "kpi_counters",
    metadata,
    sa.Column("code", sa.String(18), primary_key=True),
    sa.Column("department", sa.String(64), primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("metric", sa.String(100), primary_key=True),
    # Hot keys (the city's counters of the day) are split over KPI_SHARDS rows so that
    # concurrent event transactions do not queue on one row lock; readers sum the shards.
    sa.Column("shard", sa.SmallInteger, primary_key=True, server_default="0"),
    sa.Column("value", sa.BigInteger, nullable=False),
)
KPI_SHARDS = 8

departments = sa.Table(
    "departments",
    metadata,
    sa.Column("code", sa.String(64), primary_key=True),
    sa.Column("name_zh", sa.String(100), nullable=False),
    sa.Column("name_en", sa.String(100), nullable=False, server_default=""),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
)

routing_rules = sa.Table(
    "routing_rules",
    metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("order", sa.Integer, nullable=False, unique=True),
    sa.Column("body", JSONB, nullable=False),
    sa.Column("updated_at", TZ, nullable=False, server_default=sa.func.now()),
)

warning_rules = sa.Table(
    "warning_rules",
    metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("params", JSONB, nullable=False, server_default="{}"),
    sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()),
)

alerts = sa.Table(
    "alerts",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("rule", sa.String(100), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("key", sa.String(300), nullable=False),
    sa.Column("day", sa.Date, nullable=False),
    sa.Column("at", TZ, nullable=False),
    sa.Column("message_en", sa.Text, nullable=False),
    sa.Column("message_zh", sa.Text, nullable=False),
    sa.Column("details", JSONB, nullable=False, server_default="{}"),
    sa.UniqueConstraint("rule", "key", "day", name="uq_alerts_rule_key_day"),
    sa.Index("ix_alerts_at", "at"),
)

saved_filters = sa.Table(
    "saved_filters",
    metadata,
    sa.Column("owner", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("filters", JSONB, nullable=False),
    sa.Column("created_at", TZ, nullable=False),
)

whistles = sa.Table(
    "whistles",
    metadata,
    sa.Column("whistle_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("case_id", UUID(as_uuid=True), nullable=False, index=True),
    sa.Column("caller_code", sa.String(18), nullable=False, index=True),
    sa.Column("called_at", TZ, nullable=False),
    sa.Column("deadline", TZ, nullable=False),
    sa.Column("departments", JSONB, nullable=False),
    sa.Column("reported", JSONB, nullable=False, server_default="{}"),
    sa.Column("note", sa.Text, nullable=False, server_default=""),
)

supervisions = sa.Table(
    "supervisions",
    metadata,
    sa.Column("supervision_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("case_id", UUID(as_uuid=True), nullable=False, index=True),
    sa.Column("leader", sa.String(64), nullable=False),
    sa.Column("leader_code", sa.String(18), nullable=False),
    sa.Column("handlers", JSONB, nullable=False),
    sa.Column("deadline", TZ, nullable=False),
    sa.Column("note", sa.Text, nullable=False),
    sa.Column("at", TZ, nullable=False),
    sa.Column("timeline", JSONB, nullable=False, server_default="[]"),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("case_id", sa.String(64), nullable=False, index=True),
    sa.Column("actor", sa.String(64), nullable=False),
    sa.Column("role", sa.String(32), nullable=False),
    sa.Column("action", sa.String(40), nullable=False),
    sa.Column("at", TZ, nullable=False),
    sa.Column("before", JSONB, nullable=False),
    sa.Column("after", JSONB, nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
)

# The working-day calendar, one row per year (``domain.calendar.CalendarYear.to_data``):
# holidays and make-up working days as JSON lists of {date, name}. ``revision`` comes from
# one sequence, so ``max(revision)`` tells every command process whether its cached
# calendar is current.
calendar_revision = sa.Sequence("calendar_revision_seq", metadata=metadata)
calendar_years = sa.Table(
    "calendar_years",
    metadata,
    sa.Column("year", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("source", sa.Text, nullable=False, server_default=""),
    sa.Column("holidays", JSONB, nullable=False, server_default="[]"),
    sa.Column("makeup_workdays", JSONB, nullable=False, server_default="[]"),
    sa.Column("revision", sa.BigInteger, nullable=False),
    sa.Column("updated_at", TZ, nullable=False, server_default=sa.func.now()),
    sa.Column("updated_by", sa.String(64), nullable=False, server_default="system"),
)
