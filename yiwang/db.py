"""Database helpers: engines, per-service schemas, and the tables every service owns.

Each service owns one PostgreSQL schema (its name) holding its tables plus its own
``outbox`` and ``inbox``; no service reads another's schema. The driver is psycopg2:
under nameko, eventlet's monkey-patching makes its socket waits green, so concurrent
workers overlap (see tests/integration/test_green_db.py).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.engine import Engine, make_url


def make_engine(
    database_url: str, *, pool_size: int = 10, max_overflow: int = 2, echo: bool = False
) -> Engine:
    """A pooled engine. Connections open lazily; size the pool to the process's real
    concurrency (a nameko worker holds one connection at a time): PostgreSQL's
    ``max_connections`` (100 by default) is shared by every process of every system."""
    return sa.create_engine(
        database_url,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_pre_ping=True,
        pool_recycle=1800,
        echo=echo,
        future=True,
    )


def service_metadata(schema: str) -> sa.MetaData:
    """A MetaData bound to the service's schema, with outbox and inbox tables defined."""
    md = sa.MetaData(schema=schema)
    outbox_table(md)
    inbox_table(md)
    return md


def outbox_table(md: sa.MetaData) -> sa.Table:
    return sa.Table(
        "outbox",
        md,
        sa.Column("seq", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("event_id", UUID(as_uuid=True), nullable=False, unique=True),
        sa.Column("exchange", sa.String(100), nullable=False),
        sa.Column("routing_key", sa.String(100), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("headers", JSONB, nullable=False, server_default="{}"),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Index("ix_outbox_unpublished", "seq", postgresql_where=sa.text("published_at IS NULL")),
    )


def inbox_table(md: sa.MetaData) -> sa.Table:
    return sa.Table(
        "inbox",
        md,
        sa.Column("consumer", sa.String(120), primary_key=True),
        sa.Column("event_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("event_type", sa.String(100), nullable=False),
        sa.Column(
            "processed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )


def ensure_database(database_url: str) -> bool:
    """Create the database named in the URL if it does not exist. True when created."""
    url = make_url(database_url)
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.execute(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": url.database}
            ).scalar()
            if not exists:
                conn.execute(sa.text(f'CREATE DATABASE "{url.database}"'))
                return True
            return False
    finally:
        admin.dispose()


def drop_database(database_url: str) -> None:
    url = make_url(database_url)
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
    finally:
        admin.dispose()
