"""The grids service's tables (schema ``grids``).

No foreign keys between these tables on purpose: moving a unit re-codes its whole subtree
(units, buildings, households, residents, places, party organisations, assignments) with
prefix updates in one transaction, and codes are the links (一网一码).

Personal data: national ID numbers and phone numbers of residents and household contacts
are stored encrypted (AES-256-GCM, ``*_enc``), with a keyed hash (HMAC-SHA256, ``*_hash``)
for exact-match lookups and the masked form (``*_masked``) for ordinary reads; see
``services.grids.adapters.crypto``. Grid workers' phones are work numbers published on the
grid's notice board (网格员公示牌) and stored in clear.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from yiwang.db import service_metadata

metadata = service_metadata("grids")

TZ = sa.DateTime(timezone=True)

units = sa.Table(
    "units",
    metadata,
    sa.Column("code", sa.String(18), primary_key=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("level", sa.String(16), nullable=False),
    sa.Column("parent_code", sa.String(18), nullable=True, index=True),
    sa.Column("pinyin", sa.String(100), nullable=False, server_default=""),
    sa.Column(
        "pinyin_variants",
        sa.Text,
        nullable=False,
        server_default="",
        comment="initials of every reading of polyphonic characters, space-separated",
    ),
    sa.Column("retired", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("geometry", sa.Text, nullable=True, comment="GeoJSON geometry, WGS-84"),
    sa.Column("updated_at", TZ, nullable=False, server_default=sa.func.now()),
)

# One row (id = 1): bumped in the same transaction as every change the in-memory map caches.
map_state = sa.Table(
    "map_state",
    metadata,
    sa.Column("id", sa.SmallInteger, primary_key=True),
    sa.Column("boundary_version", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("roster_version", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("updated_at", TZ, nullable=False, server_default=sa.func.now()),
)

workers = sa.Table(
    "workers",
    metadata,
    sa.Column("worker_id", sa.String(40), primary_key=True),
    sa.Column("name", sa.String(50), nullable=False),
    sa.Column("phone", sa.String(20), nullable=False, comment="work phone, public"),
    sa.Column("status", sa.String(16), nullable=False, server_default="on_duty"),
    sa.Column("account_id", sa.String(64), nullable=True, unique=True),
    sa.Column("updated_at", TZ, nullable=False, server_default=sa.func.now()),
)

assignments = sa.Table(
    "worker_assignments",
    metadata,
    sa.Column("worker_id", sa.String(40), primary_key=True),
    sa.Column("grid_code", sa.String(15), primary_key=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("assigned_at", TZ, nullable=False, server_default=sa.func.now()),
    sa.Index("ix_assignments_grid", "grid_code"),
    sa.Index(
        "uq_assignments_one_leader",
        "grid_code",
        unique=True,
        postgresql_where=sa.text("role = 'leader'"),
    ),
)

buildings = sa.Table(
    "buildings",
    metadata,
    sa.Column("code", sa.String(18), primary_key=True),
    sa.Column("grid_code", sa.String(15), nullable=False, index=True),
    sa.Column("name", sa.String(64), nullable=False, server_default=""),
    sa.Column("address", sa.String(200), nullable=False),
    sa.Column("lat", sa.Float, nullable=True),
    sa.Column("lon", sa.Float, nullable=True),
    sa.Column("households_represented", sa.Integer, nullable=False, server_default="0"),
)

households = sa.Table(
    "households",
    metadata,
    sa.Column("code", sa.String(27), primary_key=True),
    sa.Column("building_code", sa.String(18), nullable=False, index=True),
    sa.Column("grid_code", sa.String(15), nullable=False, index=True),
    sa.Column("contact_phone_enc", sa.LargeBinary, nullable=True),
    sa.Column("contact_phone_hash", sa.String(64), nullable=True, index=True),
    sa.Column("contact_phone_masked", sa.String(20), nullable=True),
    sa.Column("party_member_household", sa.Boolean, nullable=False, server_default=sa.false()),
)

residents = sa.Table(
    "residents",
    metadata,
    sa.Column("resident_id", sa.String(40), primary_key=True),
    sa.Column("name", sa.String(50), nullable=False),
    sa.Column("household_code", sa.String(27), nullable=False, index=True),
    sa.Column("registered_community", sa.String(12), nullable=False, index=True),
    sa.Column("id_number_enc", sa.LargeBinary, nullable=False),
    sa.Column("id_number_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("id_number_masked", sa.String(18), nullable=False),
    sa.Column("phone_enc", sa.LargeBinary, nullable=True),
    sa.Column("phone_hash", sa.String(64), nullable=True, index=True),
    sa.Column("phone_masked", sa.String(20), nullable=True),
    sa.Column("family_contact_enc", sa.LargeBinary, nullable=True),
    sa.Column("family_contact_masked", sa.String(20), nullable=True),
    sa.Column("party_member", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("birth_year", sa.SmallInteger, nullable=True),
)

resident_tags = sa.Table(
    "resident_tags",
    metadata,
    sa.Column("resident_id", sa.String(40), primary_key=True),
    sa.Column("tag", sa.String(32), primary_key=True),
    sa.Index("ix_resident_tags_tag", "tag"),
)

key_places = sa.Table(
    "key_places",
    metadata,
    sa.Column("place_id", sa.String(40), primary_key=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("grid_code", sa.String(15), nullable=False, index=True),
    sa.Column("lat", sa.Float, nullable=False),
    sa.Column("lon", sa.Float, nullable=False),
)

party_orgs = sa.Table(
    "party_orgs",
    metadata,
    sa.Column("org_id", sa.String(40), primary_key=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("unit_code", sa.String(18), nullable=False, index=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("secretary", sa.String(50), nullable=False, server_default=""),
)

patrols = sa.Table(
    "patrols",
    metadata,
    sa.Column("patrol_id", sa.Uuid, primary_key=True),
    sa.Column("worker_id", sa.String(40), nullable=False),
    sa.Column("grid_code", sa.String(15), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("started_at", TZ, nullable=False),
    sa.Column("ended_at", TZ, nullable=True),
    sa.Column("distance_m", sa.Float, nullable=False, server_default="0"),
    sa.Column("version", sa.Integer, nullable=False, server_default="1"),
    sa.Index("ix_patrols_worker_started", "worker_id", "started_at"),
    sa.Index("ix_patrols_grid_started", "grid_code", "started_at"),
)

patrol_points = sa.Table(
    "patrol_points",
    metadata,
    sa.Column("patrol_id", sa.Uuid, primary_key=True),
    sa.Column("at", TZ, primary_key=True),
    sa.Column("lat", sa.Float, nullable=False),
    sa.Column("lon", sa.Float, nullable=False),
    sa.Column("accuracy_m", sa.Float, nullable=True),
)

patrol_check_ins = sa.Table(
    "patrol_check_ins",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("patrol_id", sa.Uuid, nullable=False, index=True),
    sa.Column("place_id", sa.String(40), nullable=False),
    sa.Column("at", TZ, nullable=False),
    sa.Column("distance_m", sa.Float, nullable=False),
)

patrol_findings = sa.Table(
    "patrol_findings",
    metadata,
    sa.Column("finding_id", sa.Uuid, primary_key=True),
    sa.Column("patrol_id", sa.Uuid, nullable=False, index=True),
    sa.Column("worker_id", sa.String(40), nullable=False),
    sa.Column("grid_code", sa.String(15), nullable=False),
    sa.Column("category", sa.String(64), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("photos", JSONB, nullable=False, server_default="[]"),
    sa.Column("lat", sa.Float, nullable=False),
    sa.Column("lon", sa.Float, nullable=False),
    sa.Column("reported_at", TZ, nullable=False),
)

water_meters = sa.Table(
    "water_meters",
    metadata,
    sa.Column("meter_id", sa.String(40), primary_key=True),
    sa.Column("household_code", sa.String(27), nullable=False, index=True),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    # Evaluation state carried between timer runs (readings older than the window are
    # not re-read): when use was last seen, and the open alert episode's start.
    sa.Column("last_use_at", TZ, nullable=True),
    sa.Column("alert_open_since", TZ, nullable=True),
)

meter_readings = sa.Table(
    "meter_readings",
    metadata,
    sa.Column("meter_id", sa.String(40), primary_key=True),
    sa.Column("at", TZ, primary_key=True),
    sa.Column("value", sa.Float, nullable=False),
    sa.Column("received_at", TZ, nullable=False, server_default=sa.func.now()),
    sa.Index("ix_meter_readings_at", "at"),
)

emergency_devices = sa.Table(
    "emergency_devices",
    metadata,
    sa.Column("device_id", sa.String(40), primary_key=True),
    sa.Column("household_code", sa.String(27), nullable=False, index=True),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
)

alert_rules = sa.Table(
    "alert_rules",
    metadata,
    sa.Column("rule_id", sa.String(40), primary_key=True),
    sa.Column("config", JSONB, nullable=False, comment="sensors.Rule.to_dict()"),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
)

alerts = sa.Table(
    "alerts",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("episode_key", sa.String(160), nullable=False, unique=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("urgent", sa.Boolean, nullable=False),
    sa.Column("household_code", sa.String(27), nullable=False),
    sa.Column("grid_code", sa.String(15), nullable=False, index=True),
    sa.Column("device_id", sa.String(40), nullable=True),
    sa.Column("raised_at", TZ, nullable=False),
    sa.Column("since", TZ, nullable=True),
    sa.Index("ix_alerts_device_raised", "device_id", "raised_at"),
)

access_log = sa.Table(
    "access_log",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("at", TZ, nullable=False),
    sa.Column("actor_id", sa.String(64), nullable=False),
    sa.Column("actor_role", sa.String(32), nullable=False),
    sa.Column("actor_name", sa.String(64), nullable=False, server_default=""),
    sa.Column("subject_kind", sa.String(16), nullable=False),
    sa.Column("subject_id", sa.String(40), nullable=False),
    sa.Column("fields", JSONB, nullable=False),
    sa.Column("purpose", sa.String(200), nullable=False, server_default=""),
    sa.Index("ix_access_log_subject", "subject_kind", "subject_id"),
    sa.Index("ix_access_log_actor_at", "actor_id", "at"),
)
