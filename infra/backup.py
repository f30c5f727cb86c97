"""Backup and restore: ``make backup`` / ``make restore FROM=<dir>``.

``python -m infra.backup backup [--out DIR]`` writes ``DIR/yiwang-<UTC time>/`` (default
``$YIWANG_VAR_DIR/backups``):

- ``<schema>.dump``: ``pg_dump --format=custom --schema=<schema>`` of every service schema
  and the gateway's (each with its own ``alembic_version``, outbox and inbox), so one
  service can be restored alone;
- ``media.tar.gz``: the media directory (``$YIWANG_VAR_DIR/media``: photos, videos);
- ``manifest.json``: what was taken, the extensions the schemas need, and every table's row
  count, which a restore checks.

Every schema is dumped from one exported snapshot (``pg_dump --snapshot``), so the backup is
one consistent moment of the whole system even while it runs.

``python -m infra.backup restore DIR [--schema S …] [--force]`` restores into the database of
``YIWANG_DATABASE_URL`` (it must exist; an empty one is the usual target): creates the
extensions, ``pg_restore``s each schema in one transaction, checks every table's row count
against the manifest, grants each service's database role its schema again
(``yiwang.dbroles``: the dumps carry no grants), marks the outbox events published in the last ``--replay-s`` seconds
before the snapshot to be sent again (they may have been on the broker, whose queues are not
backed up; consumers apply each event once) and unpacks the media. A schema that already holds tables, or a
non-empty media directory, is refused unless ``--force`` (which drops them first).

Needs ``pg_dump``/``pg_restore`` of the server's major version or newer (the image has
them). The password travels in ``PGPASSWORD``, never on a command line.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import typer
from sqlalchemy.engine import make_url

from yiwang.config import Settings
from yiwang.dbroles import apply_roles
from yiwang.migrate import SERVICES

app = typer.Typer(add_completion=False, help=__doc__)
FORMAT = 1
REPLAY_S = 600.0  # outbox events published this long before the snapshot are sent again


def libpq(database_url: str) -> tuple[str, dict[str, str]]:
    """A libpq URL without the password, and the environment that carries it."""
    url = make_url(database_url)
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _engine(database_url: str) -> sa.Engine:
    return sa.create_engine(database_url, poolclass=sa.pool.NullPool)


def _counts(conn: sa.Connection, schemas: list[str]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {s: {} for s in schemas}
    rows = conn.execute(
        sa.text(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_type = 'BASE TABLE' AND table_schema = ANY(:s) ORDER BY 1, 2"
        ),
        {"s": schemas},
    ).all()
    for schema, table in rows:
        n = conn.execute(sa.text(f'SELECT count(*) FROM "{schema}"."{table}"')).scalar_one()
        out[schema][table] = int(n)
    return out


def table_counts(database_url: str, schemas: list[str]) -> dict[str, dict[str, int]]:
    """``{schema: {table: rows}}`` of the base tables in ``schemas`` (exact counts)."""
    with _engine(database_url).connect() as conn:
        return _counts(conn, schemas)


def existing_schemas(database_url: str) -> list[str]:
    with _engine(database_url).connect() as conn:
        return [
            r[0]
            for r in conn.execute(
                sa.text("SELECT nspname FROM pg_namespace WHERE nspname = ANY(:s) ORDER BY 1"),
                {"s": list(SERVICES)},
            )
        ]


def _extensions(database_url: str) -> list[str]:
    with _engine(database_url).connect() as conn:
        return [
            r[0]
            for r in conn.execute(
                sa.text("SELECT extname FROM pg_extension WHERE extname <> 'plpgsql' ORDER BY 1")
            )
        ]


def _run(argv: list[str], env: dict[str, str]) -> None:
    r = subprocess.run(argv, env=env, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{argv[0]} failed ({r.returncode}): {r.stderr.strip()[:2000]}")


def backup(database_url: str, media_dir: str, out_dir: str) -> Path:
    """Take a backup into a new directory under ``out_dir``; return it."""
    url, env = libpq(database_url)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    target = Path(out_dir) / f"yiwang-{stamp}"
    target.mkdir(parents=True)
    schemas = existing_schemas(database_url)
    if not schemas:
        raise RuntimeError("no Yiwang schema in this database: nothing to back up")
    # one snapshot for every schema and the counts: the backup is one moment of the whole
    # system (an event a service's outbox marked sent is in its consumer's inbox, or in
    # flight on the broker; restore re-sends the recent ones), even while it runs
    engine = _engine(database_url).execution_options(isolation_level="REPEATABLE READ")
    with engine.connect() as conn:  # the transaction begins with the first statement
        snapshot = conn.execute(sa.text("SELECT pg_export_snapshot()")).scalar_one()
        taken_at = conn.execute(sa.text("SELECT now()")).scalar_one()
        for schema in schemas:
            _run(
                [
                    "pg_dump",
                    "--format=custom",
                    "--no-owner",
                    "--no-privileges",
                    f"--snapshot={snapshot}",
                    f"--schema={schema}",
                    f"--file={target / f'{schema}.dump'}",
                    url,
                ],
                env,
            )
        counts = _counts(conn, schemas)  # same snapshot: exactly what the dumps hold
        conn.rollback()
    media: dict[str, Any] = {"file": None, "files": 0, "bytes": 0}
    if os.path.isdir(media_dir):
        with tarfile.open(target / "media.tar.gz", "w:gz") as tar:
            for root, _dirs, files in os.walk(media_dir):
                for name in sorted(files):
                    path = os.path.join(root, name)
                    tar.add(path, arcname=os.path.relpath(path, media_dir))
                    media["files"] += 1
                    media["bytes"] += os.path.getsize(path)
        media["file"] = "media.tar.gz"
    manifest = {
        "format": FORMAT,
        "created_at": datetime.now(UTC).isoformat(),
        "snapshot_at": taken_at.isoformat(),
        "database": make_url(database_url).render_as_string(hide_password=True),
        "extensions": _extensions(database_url),
        "schemas": {s: {"file": f"{s}.dump", "tables": counts[s]} for s in schemas},
        "media": media,
    }
    (target / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
    return target


def restore(
    source: str,
    database_url: str,
    media_dir: str,
    *,
    schemas: list[str] | None = None,
    force: bool = False,
    replay_s: float = REPLAY_S,
    roles: bool = True,
    role_passwords: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Restore the backup in ``source``; return the manifest with the counts found and how
    many outbox events were marked for re-sending.

    The broker's queues are not in a backup: an event published within ``replay_s`` before
    the snapshot may not have reached its consumer yet. Those outbox rows are marked
    unpublished, so the relays send them again when the services start; consumers apply an
    event once (inbox), so one that had arrived changes nothing."""
    src = Path(source)
    manifest = json.loads((src / "manifest.json").read_text())
    if manifest.get("format") != FORMAT:
        raise RuntimeError(f"unknown backup format {manifest.get('format')!r}")
    chosen = schemas or list(manifest["schemas"])
    unknown = set(chosen) - set(manifest["schemas"])
    if unknown:
        raise RuntimeError(f"not in this backup: {sorted(unknown)}")
    present = table_counts(database_url, chosen)
    occupied = [s for s in chosen if present[s]]
    if occupied and not force:
        raise RuntimeError(f"schemas already hold tables: {occupied} (--force drops them)")
    url, env = libpq(database_url)
    with _engine(database_url).begin() as conn:
        for ext in manifest["extensions"]:
            conn.execute(sa.text(f'CREATE EXTENSION IF NOT EXISTS "{ext}" SCHEMA public'))
        for s in chosen:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{s}" CASCADE'))
    for s in chosen:
        _run(
            [
                "pg_restore",
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                "--single-transaction",
                f"--dbname={url}",
                str(src / manifest["schemas"][s]["file"]),
            ],
            env,
        )
    if roles:  # dumps carry no grants: each service's role gets its schema again
        apply_roles(database_url, chosen, role_passwords)
    found = table_counts(database_url, chosen)
    wrong = {
        f"{s}.{t}": (n, found[s].get(t))
        for s in chosen
        for t, n in manifest["schemas"][s]["tables"].items()
        if found[s].get(t) != n
    }
    if wrong:
        raise RuntimeError(f"restored tables differ from the manifest (expected, found): {wrong}")
    replayed = 0
    with _engine(database_url).begin() as conn:
        for s in chosen:
            if "outbox" in found[s]:
                replayed += conn.execute(
                    sa.text(
                        f'UPDATE "{s}".outbox SET published_at = NULL WHERE published_at > '
                        "CAST(:at AS timestamptz) - make_interval(secs => :w)"
                    ),
                    {"at": manifest["snapshot_at"], "w": replay_s},
                ).rowcount
    media = manifest["media"]
    if media["file"] and schemas is None:
        if os.path.isdir(media_dir) and os.listdir(media_dir):
            if not force:
                raise RuntimeError(f"{media_dir} is not empty (--force replaces it)")
            shutil.rmtree(media_dir)
        os.makedirs(media_dir, exist_ok=True)
        with tarfile.open(src / media["file"], "r:gz") as tar:
            tar.extractall(media_dir, filter="data")  # no absolute paths, links out, devices
    return {**manifest, "restored": found, "replayed": replayed}


def _media_dir(settings: Settings) -> str:
    return os.path.join(settings.var_dir, "media")


@app.command("backup")
def backup_cmd(
    out: str = typer.Option("", help="directory (default $YIWANG_VAR_DIR/backups)"),
) -> None:
    """Back up every schema and the media directory."""
    settings = Settings()
    target = backup(
        settings.database_url,
        _media_dir(settings),
        out or os.path.join(settings.var_dir, "backups"),
    )
    manifest = json.loads((target / "manifest.json").read_text())
    rows = sum(sum(s["tables"].values()) for s in manifest["schemas"].values())
    typer.echo(
        f"backup: {target} ({len(manifest['schemas'])} schemas, {rows} rows, "
        f"{manifest['media']['files']} media files)"
    )


@app.command("restore")
def restore_cmd(
    source: str = typer.Argument(..., help="a directory written by `backup`"),
    schema: list[str] = typer.Option([], help="restore only these schemas (no media)"),  # noqa: B008
    force: bool = typer.Option(False, help="drop schemas and media that already exist"),
    replay_s: float = typer.Option(
        REPLAY_S,
        help="re-send outbox events published this many "
        "seconds before the backup (consumers apply each once)",
    ),
) -> None:
    """Restore a backup into the database of YIWANG_DATABASE_URL."""
    settings = Settings()
    try:
        result = restore(
            source,
            settings.database_url,
            _media_dir(settings),
            schemas=schema or None,
            force=force,
            replay_s=replay_s,
            roles=settings.database_roles,
            role_passwords=settings.database_role_passwords,
        )
    except RuntimeError as exc:
        typer.echo(f"restore refused: {exc}", err=True)
        raise typer.Exit(1) from None
    rows = sum(sum(t.values()) for t in result["restored"].values())
    typer.echo(
        f"restored {len(result['restored'])} schemas, {rows} rows, "
        f"{result['media']['files']} media files; {result['replayed']} recent events "
        "will be sent again"
    )


if __name__ == "__main__":
    app()
