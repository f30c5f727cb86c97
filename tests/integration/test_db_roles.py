"""Least privilege in the database (yiwang/dbroles.py), against the real PostgreSQL: after
migrating, each service's role works in its own schema and PostgreSQL refuses it every
other schema, ``public`` and DDL."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ProgrammingError

from yiwang.config import Settings
from yiwang.dbroles import ensure_role, role_name, service_database_url
from yiwang.migrate import SERVICES
from yiwang.nameko.config import nameko_config

if TYPE_CHECKING:
    from tests.support.resources import TestResources


def _engine(res: TestResources, service: str) -> Engine:
    return sa.create_engine(service_database_url(res.database_url, service), poolclass=sa.NullPool)


@pytest.fixture(scope="module")
def petitions(resources: TestResources) -> Iterator[Engine]:
    eng = _engine(resources, "petitions")
    yield eng
    eng.dispose()


def _denied(eng: Engine, sql: str) -> str:
    with eng.connect() as conn, pytest.raises(ProgrammingError) as err:
        conn.execute(sa.text(sql))
    assert err.value.orig is not None
    assert err.value.orig.pgcode == "42501", err.value  # insufficient_privilege
    return str(err.value.orig)


def test_petitions_role_cannot_read_command_tables(petitions: Engine) -> None:
    with petitions.connect() as conn:
        assert conn.execute(sa.text("SELECT current_user")).scalar() == "yiwang_petitions"
    msg = _denied(petitions, "SELECT count(*) FROM command.case_view")
    assert "permission denied" in msg
    _denied(petitions, "SELECT count(*) FROM command.outbox")
    _denied(petitions, "SELECT count(*) FROM gateway.accounts")


def test_petitions_role_works_in_its_own_schema(petitions: Engine) -> None:
    event_id = uuid.uuid4()
    with petitions.connect() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO petitions.outbox (event_id, exchange, routing_key, body) "
                "VALUES (:e, 'petitions.events', 'probe', '{}')"
            ),
            {"e": event_id},
        )
        conn.execute(
            sa.text("UPDATE petitions.outbox SET attempts = 1 WHERE event_id = :e"), {"e": event_id}
        )
        got = conn.execute(
            sa.text("SELECT attempts FROM petitions.outbox WHERE event_id = :e"), {"e": event_id}
        ).scalar()
        assert got == 1
        conn.execute(sa.text("DELETE FROM petitions.outbox WHERE event_id = :e"), {"e": event_id})
        conn.commit()
        # its tables, read as the service reads them
        conn.execute(sa.text("SELECT count(*) FROM petitions.categories")).scalar()
        assert conn.execute(sa.text("SELECT version_num FROM petitions.alembic_version")).scalar()


def test_no_ddl_no_public_no_migration_history(petitions: Engine) -> None:
    _denied(petitions, "CREATE TABLE petitions.sneaky (id int)")
    _denied(petitions, "CREATE TABLE public.sneaky (id int)")
    _denied(petitions, "DROP TABLE petitions.outbox")
    _denied(petitions, "DELETE FROM petitions.alembic_version")
    _denied(petitions, "CREATE TEMPORARY TABLE sneaky (id int)")


@pytest.mark.parametrize("service", SERVICES)
def test_every_role_reaches_its_schema_only(resources: TestResources, service: str) -> None:
    eng = _engine(resources, service)
    try:
        with eng.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT n.nspname, has_schema_privilege(n.nspname, 'USAGE'), "
                    "has_schema_privilege(n.nspname, 'CREATE') FROM pg_namespace n "
                    "WHERE n.nspname = ANY(:s) OR n.nspname = 'public'"
                ),
                {"s": list(SERVICES)},
            ).all()
            usage = {name for name, use, _ in rows if use}
            assert usage == {service}
            assert not any(create for _, _, create in rows)
            # and every table of its schema is usable (row privileges on all of them)
            missing = (
                conn.execute(
                    sa.text(
                        "SELECT tablename FROM pg_tables WHERE schemaname = :s AND tablename <> "
                        "'alembic_version' AND NOT has_table_privilege("
                        "format('%I.%I', schemaname, tablename), 'SELECT, INSERT')"
                    ),
                    {"s": service},
                )
                .scalars()
                .all()
            )
            assert missing == []
    finally:
        eng.dispose()


def test_append_only_tables_refuse_changes_by_privilege(resources: TestResources) -> None:
    eng = _engine(resources, "command")
    try:
        # refused by PostgreSQL's privileges, before the trigger would refuse it
        _denied(eng, "UPDATE command.audit_log SET seq = seq WHERE false")
        _denied(eng, "DELETE FROM command.audit_log WHERE false")
        with eng.connect() as conn:
            conn.execute(sa.text("SELECT count(*) FROM command.audit_log"))
    finally:
        eng.dispose()


def test_role_creation_is_idempotent_and_safe_when_racing(resources: TestResources) -> None:
    service = f"t{uuid.uuid4().hex[:10]}"
    role = role_name(service)
    n = 4
    barrier = threading.Barrier(n)
    errors: list[BaseException] = []

    def create() -> None:
        eng = sa.create_engine(
            resources.database_url, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool
        )
        try:
            with eng.connect() as conn:
                barrier.wait(10)
                ensure_role(conn, service)
                ensure_role(conn, service)
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)
        finally:
            eng.dispose()

    threads = [threading.Thread(target=create) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    admin = sa.create_engine(resources.database_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            attrs = conn.execute(
                sa.text(
                    "SELECT rolcanlogin, rolsuper, rolcreatedb, rolcreaterole FROM pg_roles "
                    "WHERE rolname = :r"
                ),
                {"r": role},
            ).all()
            conn.execute(sa.text(f'DROP ROLE IF EXISTS "{role}"'))
    finally:
        admin.dispose()
    assert errors == []
    assert attrs == [(True, False, False, False)]


def test_processes_connect_as_their_roles() -> None:
    settings = Settings(
        database_url="postgresql+psycopg2://owner:secret@db:5432/yiwang",
        database_role_passwords={"petitions": "p@ss"},
    )
    url = make_url(nameko_config(settings, "petitions")["DATABASE_URL"])
    assert (url.username, url.password, url.host, url.database) == (
        "yiwang_petitions",
        "p@ss",
        "db",
        "yiwang",
    )
    grids = make_url(nameko_config(settings, "grids")["DATABASE_URL"])
    assert (grids.username, grids.password) == ("yiwang_grids", None)  # no owner's password
    off = Settings(database_url=settings.database_url, database_roles=False)
    assert nameko_config(off, "petitions")["DATABASE_URL"] == settings.database_url
