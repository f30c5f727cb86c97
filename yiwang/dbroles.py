"""Least privilege in the database: one PostgreSQL role per service.

Every service (and the gateway) owns one schema. The migrations run as the owner (the
configured ``YIWANG_DATABASE_URL``); afterwards ``apply_roles`` makes sure each service has
its own login role ``yiwang_<service>`` that may

- connect to the Yiwang database (``CONNECT`` is revoked from ``PUBLIC``),
- use its own schema and read/write the rows of its tables (``SELECT, INSERT, UPDATE,
  DELETE``; sequences ``USAGE, SELECT, UPDATE``), read-only on ``alembic_version`` and
  insert-only on its append-only tables (audit chains, points ledgers),

and nothing else: no DDL, nothing in another service's schema, nothing in ``public``
(``ALL`` on ``public`` is revoked from ``PUBLIC``). So "no service reads another's tables"
is enforced by PostgreSQL: a query across schemas fails with ``permission denied``.

Each service process then connects as its role (``service_database_url``): the URL is the
owner's with the user replaced and the password taken from
``YIWANG_DATABASE_ROLE_PASSWORDS`` (a JSON object ``{"petitions": "...", ...}``); without a
password the role connects as trust/peer authentication allows (local development, CI).
``YIWANG_DATABASE_ROLES=false`` turns it off (every process connects as the owner).

Roles are cluster-wide while grants live in each database, so several Yiwang databases on
one cluster (concurrent test runs) share the roles: creating them is idempotent and safe
when two migrations race.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, make_url

ROLE_PREFIX = "yiwang_"

# Tables whose rows are never changed once written (their triggers refuse it too): the
# service's role may only insert and read them.
APPEND_ONLY: dict[str, tuple[str, ...]] = {
    "command": ("audit_log",),
    "volunteers": ("points_entries",),
}

_ROLE_ATTRIBUTES = "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION NOBYPASSRLS"


def role_name(service: str) -> str:
    return f"{ROLE_PREFIX}{service}"


def service_database_url(
    owner_url: str,
    service: str,
    *,
    enabled: bool = True,
    passwords: Mapping[str, str] | None = None,
) -> str:
    """The URL a service process connects with: the owner's URL with the service's role
    (and its password, if one is configured) in place of the owner's credentials."""
    if not enabled:
        return owner_url
    owner = make_url(owner_url)
    url = URL.create(
        owner.drivername,
        username=role_name(service),
        password=(passwords or {}).get(service) or None,  # never the owner's password
        host=owner.host,
        port=owner.port,
        database=owner.database,
        query=owner.query,
    )
    return url.render_as_string(hide_password=False)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def ensure_role(conn: Connection, service: str, password: str | None = None) -> None:
    """Create the service's login role if missing (race-safe across concurrent runs) and
    make sure it has no powers beyond logging in; set its password when one is given."""
    role = role_name(service)
    # a concurrent CREATE ROLE of the same name fails with duplicate_object or, when both
    # insert at once, unique_violation: either means the role now exists
    conn.execute(
        sa.text(
            f"""
            DO $$
            BEGIN
                IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') THEN
                    CREATE ROLE {_q(role)} {_ROLE_ATTRIBUTES};
                END IF;
            EXCEPTION WHEN duplicate_object OR unique_violation THEN
                NULL;
            END
            $$"""
        )
    )
    attrs = conn.execute(
        sa.text(
            "SELECT rolcanlogin AND NOT (rolsuper OR rolcreatedb OR rolcreaterole OR rolinherit "
            "OR rolreplication OR rolbypassrls) FROM pg_roles WHERE rolname = :r"
        ),
        {"r": role},
    ).scalar()
    if not attrs:  # created elsewhere with more powers: take them away
        conn.execute(sa.text(f"ALTER ROLE {_q(role)} {_ROLE_ATTRIBUTES}"))
    if password:
        conn.execute(sa.text(f"ALTER ROLE {_q(role)} PASSWORD :p"), {"p": password})


def grant_schema(conn: Connection, database: str, service: str) -> None:
    """The service's role may work with the rows of its own schema, and nothing else."""
    role, schema = _q(role_name(service)), _q(service)
    conn.execute(sa.text(f"GRANT CONNECT ON DATABASE {_q(database)} TO {role}"))
    conn.execute(sa.text(f"GRANT USAGE ON SCHEMA {schema} TO {role}"))
    conn.execute(
        sa.text(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {role}")
    )
    conn.execute(
        sa.text(f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA {schema} TO {role}")
    )
    # tables and sequences the owner creates later (the next migration) too
    conn.execute(
        sa.text(
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} "
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}"
        )
    )
    conn.execute(
        sa.text(
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} "
            f"GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO {role}"
        )
    )
    existing = set(
        conn.execute(
            sa.text("SELECT tablename FROM pg_tables WHERE schemaname = :s"), {"s": service}
        ).scalars()
    )
    for table in ("alembic_version", *APPEND_ONLY.get(service, ())):
        if table in existing:
            conn.execute(sa.text(f"REVOKE UPDATE, DELETE ON {schema}.{_q(table)} FROM {role}"))
    if "alembic_version" in existing:
        conn.execute(sa.text(f"REVOKE INSERT ON {schema}.alembic_version FROM {role}"))


def lock_down_database(conn: Connection, database: str) -> None:
    """Nobody but the owner and the granted roles connects; nobody uses ``public``."""
    conn.execute(sa.text(f"REVOKE CONNECT, TEMPORARY ON DATABASE {_q(database)} FROM PUBLIC"))
    conn.execute(sa.text("REVOKE ALL ON SCHEMA public FROM PUBLIC"))


def apply_roles(
    database_url: str, services: Iterable[str], passwords: Mapping[str, str] | None = None
) -> None:
    """Create the services' roles and grant each its own schema (run as the owner, after
    the migrations; idempotent)."""
    database = make_url(database_url).database or ""
    engine = sa.create_engine(database_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            lock_down_database(conn, database)
            for service in services:
                ensure_role(conn, service, (passwords or {}).get(service))
                grant_schema(conn, database, service)
    finally:
        engine.dispose()
