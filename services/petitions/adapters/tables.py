"""The petitions service's tables (schema ``petitions``).

``cases.state`` holds the aggregate's snapshot (``Case.to_dict()``); the other columns are
indexed copies for queries (status, category, jurisdiction, grid, geohash, deadlines) and
``version`` for optimistic concurrency (``UPDATE … WHERE id = :id AND version = :v``).
"""

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
    sa.Column("geohash", sa.String(12), nullable=True),
    sa.Column("public", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("account_id", sa.String(64), nullable=True),
    sa.Column("parent_id", UUID(as_uuid=True), nullable=True),
    sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("info_deadline", sa.DateTime(timezone=True), nullable=True),
    sa.Column("contact_erased_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("supporter_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("state", JSONB, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("source", "external_ref", name="uq_cases_source_external_ref"),
    sa.Index(
        "ix_cases_jurisdiction",
        "jurisdiction_code",
        postgresql_ops={"jurisdiction_code": "text_pattern_ops"},
    ),
    sa.Index("ix_cases_status", "status"),
    sa.Index("ix_cases_category_created", "category", "created_at"),
    sa.Index("ix_cases_dup", "category", "geohash", "created_at"),
    sa.Index("ix_cases_account", "account_id"),
    sa.Index("ix_cases_parent", "parent_id"),
    sa.Index("ix_cases_closed_at", "closed_at", postgresql_where=sa.text("status = 'closed'")),
    sa.Index(
        "ix_cases_info_deadline",
        "info_deadline",
        postgresql_where=sa.text("info_deadline IS NOT NULL"),
    ),
    sa.Index(
        "ix_cases_ended_at",
        "ended_at",
        postgresql_where=sa.text("ended_at IS NOT NULL AND contact_erased_at IS NULL"),
    ),
)

# Every report (any source) and the case it ended in: opened it, or linked as "me too".
case_reports = sa.Table(
    "case_reports",
    metadata,
    sa.Column("report_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("case_id", UUID(as_uuid=True), nullable=False),
    sa.Column("outcome", sa.String(20), nullable=False),  # case_created | linked_duplicate
    sa.Column("account_id", sa.String(64), nullable=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    # what a linked report said (a wrong "me too" link is undone into a case of its own)
    sa.Column("details", JSONB, nullable=True),
    sa.Index("ix_case_reports_case", "case_id"),
)

# Accounts that follow a case (the reporter and "me too" supporters): "my cases".
case_followers = sa.Table(
    "case_followers",
    metadata,
    sa.Column("account_id", sa.String(64), primary_key=True),
    sa.Column("case_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("relation", sa.String(16), nullable=False),  # reporter | supporter
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
)

categories = sa.Table(
    "categories",
    metadata,
    sa.Column("code", sa.String(130), primary_key=True),
    sa.Column("data", JSONB, nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("version", sa.Integer, nullable=False, server_default="1"),
    sa.Column(
        "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
    sa.Column("updated_by", sa.String(64), nullable=True),
)

# Status messages to send (written in the case's transaction, delivered by a timer).
notifications = sa.Table(
    "notifications",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(always=False), primary_key=True),
    sa.Column("case_id", UUID(as_uuid=True), nullable=True),  # None: not about a case
    sa.Column("case_version", sa.Integer, nullable=True),
    # sse | sms | email | push | case (SSE feed)
    sa.Column("channel", sa.String(10), nullable=False),
    sa.Column("account_id", sa.String(64), nullable=True),
    sa.Column("address", sa.String(120), nullable=True),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("payload", JSONB, nullable=False, server_default="{}"),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    # delivery (service_layer/delivery.py): pending → sending (leased) → sent | dead |
    # suppressed; sent_at is set when a message reaches any final status
    sa.Column("status", sa.String(12), nullable=False, server_default="pending"),
    sa.Column("urgent", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("idempotency_key", sa.String(120), nullable=True),
    sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
    sa.Column("resends", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("provider_id", sa.String(200), nullable=True),
    sa.Index("ix_notifications_pending", "id", postgresql_where=sa.text("sent_at IS NULL")),
    sa.Index("ix_notifications_dead", "id", postgresql_where=sa.text("status = 'dead'")),
    sa.UniqueConstraint("idempotency_key", name="uq_notifications_idempotency_key"),
)

# A person's choice of channels and quiet hours (reach); addresses for e-mail and SMS.
contact_preferences = sa.Table(
    "contact_preferences",
    metadata,
    sa.Column("account_id", sa.String(64), primary_key=True),
    sa.Column("channels", JSONB, nullable=False),
    sa.Column("email", sa.String(120), nullable=True),
    sa.Column("phone", sa.String(20), nullable=True),
    sa.Column("quiet_start", sa.Time, nullable=True),
    sa.Column("quiet_end", sa.Time, nullable=True),
    # staff: told when a case enters their queue (dispatched to their department,
    # escalated to their unit); department and unit come from their sign-in, not a form
    sa.Column("staff_alerts", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("department", sa.String(64), nullable=True),
    sa.Column("jurisdiction_code", sa.String(18), nullable=True),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index(
        "ix_contact_preferences_department", "department", postgresql_where=sa.text("staff_alerts")
    ),
    sa.Index(
        "ix_contact_preferences_jurisdiction",
        "jurisdiction_code",
        postgresql_where=sa.text("staff_alerts"),
    ),
)

# Web Push subscriptions (the browser's PushSubscription), several per account.
push_subscriptions = sa.Table(
    "push_subscriptions",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(always=False), primary_key=True),
    sa.Column("account_id", sa.String(64), nullable=False, index=True),
    sa.Column("endpoint", sa.Text, nullable=False, unique=True),
    sa.Column("p256dh", sa.String(200), nullable=False),
    sa.Column("auth", sa.String(60), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

# Addresses that followed an opt-out link (no more non-urgent messages on that channel).
opt_outs = sa.Table(
    "opt_outs",
    metadata,
    sa.Column("channel", sa.String(10), primary_key=True),
    sa.Column("address", sa.String(120), primary_key=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
)

# Agency applications (微代办): the aggregate snapshot with indexed copies.
agency_applications = sa.Table(
    "agency_applications",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("item_code", sa.String(64), nullable=False),
    sa.Column("account_id", sa.String(64), nullable=True),
    sa.Column("community_code", sa.String(18), nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("state", JSONB, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_agency_account", "account_id"),
    sa.Index(
        "ix_agency_community",
        "community_code",
        postgresql_ops={"community_code": "text_pattern_ops"},
    ),
)
