"""The gateway's own tables (schema ``gateway``): audit log of writes, accounts, refresh
tokens, service API keys and the log of unmasked personal data."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID

metadata = sa.MetaData(schema="gateway")

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("actor", sa.String(64), nullable=False),
    sa.Column("method", sa.String(8), nullable=False),
    sa.Column("path", sa.String(300), nullable=False),
    sa.Column("status", sa.Integer, nullable=False),
    sa.Column("trace_id", sa.String(32), nullable=True),
    sa.Column("detail", JSONB, nullable=False, server_default="{}"),
)

accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("username", sa.String(64), nullable=True, unique=True),
    sa.Column("phone", sa.String(20), nullable=True, unique=True),
    sa.Column("display_name", sa.String(64), nullable=False),
    sa.Column("role", sa.String(32), nullable=False),
    sa.Column("jurisdiction_code", sa.String(18), nullable=False, server_default=""),
    sa.Column("department", sa.String(64), nullable=True),
    sa.Column("enterprise_id", sa.String(64), nullable=True),
    sa.Column("institution_id", sa.String(64), nullable=True),
    sa.Column("person_id", sa.String(64), nullable=True),
    sa.Column("can_unmask", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("password_hash", sa.String(200), nullable=True),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column(
        "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
    sa.Column(
        "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
    sa.Index("ix_accounts_role_jurisdiction", "role", "jurisdiction_code"),
)

refresh_tokens = sa.Table(
    "refresh_tokens",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("family_id", UUID(as_uuid=True), nullable=False, index=True),
    sa.Column(
        "account_id",
        UUID(as_uuid=True),
        sa.ForeignKey("gateway.accounts.id"),
        nullable=False,
        index=True,
    ),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
)

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("key_prefix", sa.String(16), nullable=False),
    sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("actions", JSONB, nullable=False, server_default="[]"),
    sa.Column("jurisdiction_code", sa.String(18), nullable=False, server_default=""),
    sa.Column("created_by", sa.String(64), nullable=True),
    sa.Column(
        "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
    sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
)

unmask_log = sa.Table(
    "unmask_log",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("account_id", sa.String(64), nullable=False),
    sa.Column("role", sa.String(32), nullable=False),
    sa.Column("subject_type", sa.String(32), nullable=False),
    sa.Column("subject_id", sa.String(64), nullable=False),
    sa.Column("fields", JSONB, nullable=False, server_default="[]"),
    sa.Column("reason", sa.String(200), nullable=True),
    sa.Column("trace_id", sa.String(32), nullable=True),
)
