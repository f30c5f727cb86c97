"""Alembic, one migration history per service, each in the service's own schema.

``python -m yiwang.migrate upgrade [service ...]`` migrates (all services by default);
``python -m yiwang.migrate revision <service> -m "message"`` autogenerates a revision.
After upgrading, each migrated service's database role gets its own schema and nothing
else (``yiwang.dbroles``).
Each service's ``migrations/env.py`` calls ``run_env(metadata, schema)``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from yiwang.dbroles import apply_roles

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SERVICES = ("grids", "petitions", "command", "volunteers", "enterprise", "gateway")


def script_location(service: str) -> str:
    if service == "gateway":
        return os.path.join(ROOT, "gateway", "migrations")
    return os.path.join(ROOT, "services", service, "migrations")


def alembic_config(service: str, database_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", script_location(service))
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    cfg.attributes["schema"] = service
    return cfg


def upgrade(
    database_url: str,
    services: tuple[str, ...] | list[str] = SERVICES,
    *,
    roles: bool = True,
    role_passwords: Mapping[str, str] | None = None,
) -> None:
    """Migrate as the owner, then give each service's role its schema (``roles``)."""
    migrated = [svc for svc in services if os.path.isdir(script_location(svc))]
    for svc in migrated:
        command.upgrade(alembic_config(svc, database_url), "head")
    if roles:
        apply_roles(database_url, migrated, role_passwords)


def run_env(target_metadata: sa.MetaData, schema: str) -> None:
    """Body of every service's ``migrations/env.py`` (online mode only)."""
    from alembic import context

    config = context.config
    url = config.get_main_option("sqlalchemy.url")
    engine = sa.create_engine(url)

    def include_object(
        obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
    ) -> bool:
        if type_ == "table":
            return getattr(obj, "schema", None) == schema
        return True

    with engine.connect() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        connection.commit()
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            version_table_schema=schema,
            include_schemas=True,
            include_object=include_object,
            include_name=lambda name, type_, parent: name == schema if type_ == "schema" else True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


def main(argv: list[str]) -> int:
    from yiwang.config import Settings

    settings = Settings()
    url = os.environ.get("YIWANG_DATABASE_URL") or settings.database_url
    if not argv or argv[0] not in ("upgrade", "revision"):
        print(__doc__)
        return 2
    if argv[0] == "upgrade":
        upgrade(
            url,
            argv[1:] or SERVICES,
            roles=settings.database_roles,
            role_passwords=settings.database_role_passwords,
        )
        return 0
    svc = argv[1]
    msg = argv[argv.index("-m") + 1] if "-m" in argv else "change"
    command.revision(alembic_config(svc, url), message=msg, autogenerate=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
