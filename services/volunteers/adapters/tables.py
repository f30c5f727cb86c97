"""The volunteers service's tables (schema ``volunteers``).

Aggregates are rows with the columns we filter, sort or lock on, plus a JSONB ``state``
for the rest; every mutable aggregate carries ``version`` (optimistic concurrency:
``UPDATE ... WHERE id = :id AND version = :v``). The points ledger is append-only
(a trigger refuses UPDATE and DELETE); a balance is the SUM of an account's entries.
Venue bookings may not overlap: a GiST exclusion constraint on (venue, time range).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, TSTZRANGE, ExcludeConstraint

from yiwang.db import service_metadata

metadata = service_metadata("volunteers")
TS = sa.DateTime(timezone=True)
_PATTERN = {"community_code": "text_pattern_ops"}

registrations = sa.Table(
    "registrations",
    metadata,
    sa.Column("kind", sa.String(16), primary_key=True),  # volunteer | unit
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("community_code", sa.String(12), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("person_id", sa.String(64), nullable=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("state", JSONB, nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("updated_at", TS, nullable=False),
    sa.Index("ix_registrations_community", "community_code", postgresql_ops=_PATTERN),
    sa.Index(
        "uq_registrations_person",
        "person_id",
        unique=True,
        postgresql_where=sa.text("kind = 'volunteer'"),
    ),
)

list_items = sa.Table(
    "list_items",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("community_code", sa.String(12), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("title", sa.String(100), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("state", JSONB, nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("updated_at", TS, nullable=False),
    sa.Index("ix_list_items_community_kind", "community_code", "kind"),
)

orders = sa.Table(
    "orders",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("community_code", sa.String(12), nullable=False),
    sa.Column("resident_id", sa.String(64), nullable=False),
    sa.Column("category", sa.String(40), nullable=False),
    sa.Column("status", sa.String(24), nullable=False),
    sa.Column("claimant_kind", sa.String(16), nullable=True),
    sa.Column("claimant_id", sa.String(64), nullable=True),
    # the next time limit the deadline sweep must look at (NULL: none pending)
    sa.Column("next_deadline", TS, nullable=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("state", JSONB, nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("updated_at", TS, nullable=False),
    sa.Index(
        "ix_orders_community_created", "community_code", "created_at", postgresql_ops=_PATTERN
    ),
    sa.Index("ix_orders_claimant_status", "claimant_kind", "claimant_id", "status"),
    sa.Index("ix_orders_resident", "resident_id"),
    sa.Index(
        "ix_orders_next_deadline",
        "next_deadline",
        postgresql_where=sa.text("next_deadline IS NOT NULL"),
    ),
)

# Single-use check-in QR nonces: inserted in the check-in transaction, so a refused
# check-in does not burn the code and a second scan of the same code finds the row.
qr_nonces = sa.Table(
    "qr_nonces",
    metadata,
    sa.Column("nonce", sa.String(64), primary_key=True),
    sa.Column("order_id", sa.String(64), nullable=False),
    sa.Column("expires_at", TS, nullable=False),
    sa.Column("used_at", TS, nullable=False),
)

wishes = sa.Table(
    "wishes",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("community_code", sa.String(12), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("poster_id", sa.String(64), nullable=False),
    sa.Column("claimer_id", sa.String(64), nullable=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("state", JSONB, nullable=False),
    sa.Column("posted_at", TS, nullable=False),
    sa.Column("updated_at", TS, nullable=False),
    sa.Index("ix_wishes_community_status", "community_code", "status"),
)

teams = sa.Table(
    "teams",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("community_code", sa.String(12), nullable=False),
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("state", JSONB, nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("updated_at", TS, nullable=False),
    sa.Index("ix_teams_community", "community_code"),
)

activities = sa.Table(
    "activities",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("team_id", sa.String(64), sa.ForeignKey("volunteers.teams.id"), nullable=False),
    sa.Column("community_code", sa.String(12), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("starts_at", TS, nullable=False),
    sa.Column("ends_at", TS, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("state", JSONB, nullable=False),
    sa.Column("updated_at", TS, nullable=False),
    sa.Index("ix_activities_community_start", "community_code", "starts_at"),
)

points_entries = sa.Table(
    "points_entries",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("holder_kind", sa.String(8), nullable=False),
    sa.Column("holder_id", sa.String(64), nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),  # per account, 1, 2, 3, ...
    sa.Column("kind", sa.String(8), nullable=False),  # earn | redeem | adjust
    sa.Column("amount", sa.Integer, nullable=False),
    sa.Column("balance_after", sa.Integer, nullable=False),
    sa.Column("reason", sa.String(200), nullable=False),
    sa.Column("ref", sa.String(64), nullable=True),
    sa.Column("community_code", sa.String(12), nullable=False),
    sa.Column("by", sa.String(64), nullable=True),
    sa.Column("at", TS, nullable=False),
    sa.UniqueConstraint("holder_kind", "holder_id", "seq", name="uq_points_account_seq"),
    sa.CheckConstraint("amount <> 0", name="ck_points_amount_nonzero"),
    sa.CheckConstraint("balance_after >= 0", name="ck_points_balance_nonnegative"),
    sa.CheckConstraint(
        "(kind = 'earn' AND amount > 0) OR (kind = 'redeem' AND amount < 0) OR kind = 'adjust'",
        name="ck_points_kind_sign",
    ),
    sa.Index(
        "uq_points_account_ref",
        "holder_kind",
        "holder_id",
        "ref",
        unique=True,
        postgresql_where=sa.text("ref IS NOT NULL"),
    ),
    sa.Index("ix_points_community_at", "community_code", "at", postgresql_ops=_PATTERN),
)

venues = sa.Table(
    "venues",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("community_code", sa.String(12), nullable=False),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("capacity", sa.Integer, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("state", JSONB, nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.Index("ix_venues_community", "community_code"),
)

venue_bookings = sa.Table(
    "venue_bookings",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("venue_id", sa.String(64), sa.ForeignKey("volunteers.venues.id"), nullable=False),
    sa.Column("booker_id", sa.String(64), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("starts_at", TS, nullable=False),
    sa.Column("ends_at", TS, nullable=False),
    sa.Column("during", TSTZRANGE, nullable=False),
    sa.Column("purpose", sa.String(200), nullable=False),
    sa.Column("headcount", sa.Integer, nullable=False),
    sa.Column("booked_at", TS, nullable=False),
    sa.Column("cancelled_at", TS, nullable=True),
    ExcludeConstraint(
        (sa.column("venue_id"), "="),
        (sa.column("during"), "&&"),
        using="gist",
        where=sa.text("status = 'active'"),
        name="ex_venue_bookings_no_overlap",
    ),
    sa.Index("ix_venue_bookings_venue_start", "venue_id", "starts_at"),
)
