"""make backup / make restore: a database with cases (petitions), their timelines and audit
chain (command, folded from petitions' own events) and the gateway's audit log is backed up
per schema with the media directory, restored into a fresh database, and every row, case,
timeline entry and audit entry is found there, byte for byte."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from infra.backup import backup, restore
from services.command.service_layer import audit, view
from services.petitions.tests.integration.conftest import HANDLER, WORKER, World
from tests.support.resources import TestResources
from yiwang.contracts import parse_envelope
from yiwang.contracts.petitions import CaseCreatedV1, CaseTransitionedV1
from yiwang.db import make_engine
from yiwang.migrate import SERVICES, upgrade
from yiwang.uow import uow_factory

pytestmark = pytest.mark.integration
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="module")
def source() -> Iterator[TestResources]:
    res = TestResources.create("backup")
    try:
        upgrade(res.database_url)
        yield res
    finally:
        res.destroy()


@pytest.fixture(scope="module")
def filled(source: TestResources) -> list[str]:
    ids = fill(source)
    with sa.create_engine(source.database_url, poolclass=sa.pool.NullPool).begin() as conn:
        # three events just published (maybe still on the broker), one long delivered
        conn.execute(sa.text("UPDATE petitions.outbox SET published_at = now() WHERE seq <= 3"))
        conn.execute(
            sa.text(
                "UPDATE petitions.outbox SET published_at = now() - interval '2 hours' WHERE seq = 4"
            )
        )
    return ids


@pytest.fixture()
def fresh() -> Iterator[TestResources]:
    res = TestResources.create("restore")  # an empty database, never migrated
    try:
        yield res
    finally:
        res.destroy()


def fill(res: TestResources) -> list[str]:
    """Cases with lifecycles; command folds petitions' outbox (timeline, audit chain)."""
    engine = make_engine(res.database_url, pool_size=4)
    try:
        world = World(engine)
        ids = [world.submit(lat=32.05 + i * 0.01) for i in range(5)]  # apart: no "me too"
        assert len(set(ids)) == 5
        for case_id in ids[:3]:
            world.act(case_id, "accept")
            world.act(case_id, "dispatch", department="urban_management")
        world.act(ids[0], "start", HANDLER)
        world.act(ids[0], "handle", HANDLER, feedback="已清理", attachments=["m/1.jpg"])
        world.act(ids[0], "verify", WORKER)
        command = uow_factory(engine, producer="command", schema="command")
        for body in world.outbox():
            env, payload = parse_envelope(body)
            if isinstance(payload, CaseCreatedV1):
                view.apply_case_created(command(), env, payload, world.now)
            elif isinstance(payload, CaseTransitionedV1):
                view.apply_case_transitioned(command(), env, payload, world.now)
        from gateway.security import store

        store.write_audit_rows(
            engine,
            [
                {
                    "actor": "admin",
                    "method": "POST",
                    "path": f"/api/v1/cases/{i}/actions",
                    "status": 200,
                    "trace_id": uuid.uuid4().hex,
                    "detail": {"case": i},
                }
                for i in ids
            ],
        )
    finally:
        engine.dispose()
    return ids


def fingerprint(database_url: str) -> dict[str, tuple[int, str]]:
    """Every table of every Yiwang schema: (rows, md5 of all rows in a stable order)."""
    engine = sa.create_engine(database_url, poolclass=sa.pool.NullPool)
    out: dict[str, tuple[int, str]] = {}
    with engine.connect() as conn:
        tables = conn.execute(
            sa.text(
                "SELECT table_schema, table_name FROM information_schema.tables "
                "WHERE table_type = 'BASE TABLE' AND table_schema = ANY(:s)"
            ),
            {"s": list(SERVICES)},
        ).all()
        for schema, table in tables:
            n, digest = conn.execute(
                sa.text(
                    f"SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) "
                    f'FROM "{schema}"."{table}" t'
                )
            ).one()
            out[f"{schema}.{table}"] = (int(n), digest)
    engine.dispose()
    return out


def test_backup_then_restore_into_a_fresh_database_finds_everything(
    source, filled, fresh, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    ids = filled
    media = tmp_path / "media"
    (media / "2026" / "12").mkdir(parents=True)
    photo = os.urandom(70_000)
    (media / "2026" / "12" / "photo.jpg").write_bytes(photo)
    (media / "note.txt").write_text("现场照片")

    before = fingerprint(source.database_url)
    assert before["petitions.cases"][0] == 5
    assert before["command.case_view"][0] == 5
    assert before["command.case_events"][0] >= 5 + 3 * 2 + 3  # created + transitions
    assert before["command.audit_log"][0] >= 9
    assert before["gateway.audit_log"][0] == 5

    target = backup(source.database_url, str(media), str(tmp_path / "backups"))
    assert sorted(p.name for p in target.iterdir()) == sorted(
        ["manifest.json", "media.tar.gz", *(f"{s}.dump" for s in SERVICES)]
    )

    restored_media = tmp_path / "restored-media"
    result = restore(str(target), fresh.database_url, str(restored_media), replay_s=0)
    assert set(result["restored"]) == set(SERVICES) and result["replayed"] == 0
    assert fingerprint(fresh.database_url) == before  # every row of every table, same bytes
    assert (restored_media / "2026" / "12" / "photo.jpg").read_bytes() == photo
    assert (restored_media / "note.txt").read_text() == "现场照片"

    engine = make_engine(fresh.database_url, pool_size=2)
    try:
        command = uow_factory(engine, producer="command", schema="command")
        for case_id in ids:  # each case and its timeline, through the service layer
            case = view.get_case(command(), uuid.UUID(case_id))
            assert str(case["case"]["case_id"]) == case_id
            assert case["timeline"][0]["type"] == "case.created"
        assert [t["action"] for t in view.get_case(command(), uuid.UUID(ids[0]))["timeline"]][
            1:
        ] == ["accept", "dispatch", "start", "handle", "verify"]
        assert audit.verify(command())["intact"] is True  # the hash chain survived intact
        assert len(audit.trail(command(), ids[0])) >= 6
    finally:
        engine.dispose()
    # each service's own role may work on its restored schema (and only there)
    from yiwang.dbroles import service_database_url

    role = sa.create_engine(
        service_database_url(fresh.database_url, "petitions"), poolclass=sa.pool.NullPool
    )
    with role.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM petitions.cases")).scalar_one() == 5
        with pytest.raises(sa.exc.ProgrammingError, match="permission denied"):
            conn.execute(sa.text("SELECT count(*) FROM command.case_view"))
    upgrade(fresh.database_url)  # the migration history came along: nothing left to apply
    assert fingerprint(fresh.database_url) == before


def test_restore_refuses_to_overwrite_and_the_cli_replays_recent_events(
    source, filled, fresh, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    env = {
        **os.environ,
        "PYTHONPATH": ROOT,
        "YIWANG_DATABASE_URL": source.database_url,
        "YIWANG_VAR_DIR": str(tmp_path / "var"),
    }
    r = subprocess.run(
        [sys.executable, "-m", "infra.backup", "backup"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    assert "backup:" in r.stdout and " 0 media files" in r.stdout
    (target,) = (tmp_path / "var" / "backups").iterdir()
    with pytest.raises(RuntimeError, match="already hold tables"):
        restore(str(target), source.database_url, str(tmp_path / "m"))
    env["YIWANG_DATABASE_URL"] = fresh.database_url
    r = subprocess.run(
        [sys.executable, "-m", "infra.backup", "restore", str(target), "--schema", "petitions"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    assert "3 recent events will be sent again" in r.stdout
    after = fingerprint(fresh.database_url)
    assert {k.split(".")[0] for k in after} == {"petitions"}
    assert {k: v for k, v in after.items() if k != "petitions.outbox"} == {
        k: v
        for k, v in fingerprint(source.database_url).items()
        if k.startswith("petitions.") and k != "petitions.outbox"
    }
    with sa.create_engine(fresh.database_url, poolclass=sa.pool.NullPool).connect() as conn:
        sent = (
            conn.execute(sa.text("SELECT seq FROM petitions.outbox WHERE published_at IS NOT NULL"))
            .scalars()
            .all()
        )
    assert sent == [4]  # the long-delivered one stays sent; the three recent ones go again
    r = subprocess.run(
        [sys.executable, "-m", "infra.backup", "restore", str(target), "--schema", "petitions"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 1 and "already hold tables" in r.stderr
