"""The local runner behind ``make up`` / ``make down`` / ``make status``.

``up``: find PostgreSQL, RabbitMQ and Redis at their configured URLs; where one is
missing, use Docker Compose when a Docker engine answers, else start an installed local
server, else stop with the exact package to install. Then migrate every service, load
the demo city, start the supervisor daemon (every service and the gateway, restarted
with backoff when they die, logs in ``var/log/``) and wait until ``/health`` is green (every service answers).
``down`` stops what ``up`` started and nothing else.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from urllib.parse import urlparse

import httpx
import pika
import redis
import sqlalchemy as sa
import typer
from sqlalchemy.engine import make_url

from yiwang.config import Settings
from yiwang.db import ensure_database
from yiwang.keys import ensure_keyring, keys_path
from yiwang.migrate import upgrade

app = typer.Typer(add_completion=False, help="Run Yiwang locally.")

LOCAL_START = {
    "postgresql": "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql | head -1) main start",
    "rabbitmq": "rabbitmq-server -detached",
    "redis": "redis-server --daemonize yes --bind 127.0.0.1 --port {port} --save '' --appendonly no",
}
INSTALL_HINT = {
    "postgresql": "apt-get install postgresql  (or brew install postgresql@15)",
    "rabbitmq": "apt-get install rabbitmq-server  (or brew install rabbitmq)",
    "redis": "apt-get install redis-server  (or brew install redis)",
}
LOCAL_BINARY = {
    "postgresql": "pg_ctlcluster",
    "rabbitmq": "rabbitmq-server",
    "redis": "redis-server",
}


def _var(settings: Settings, *parts: str) -> str:
    return os.path.join(settings.var_dir, *parts)


def check(name: str, settings: Settings) -> bool:
    try:
        if name == "postgresql":
            url = make_url(settings.database_url).set(database="postgres")
            eng = sa.create_engine(url, connect_args={"connect_timeout": 3})
            with eng.connect() as c:
                c.execute(sa.text("SELECT 1"))
            eng.dispose()
        elif name == "rabbitmq":
            params = pika.URLParameters(settings.amqp_uri)
            params.socket_timeout = 3
            params.connection_attempts = 1
            pika.BlockingConnection(params).close()
        elif name == "redis":
            redis.Redis.from_url(settings.redis_url, socket_timeout=3).ping()
        return True
    except Exception:  # noqa: BLE001 - any failure means "not reachable"
        return False


def docker_engine() -> bool:
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "info"], capture_output=True, timeout=20).returncode == 0


def _wait(name: str, settings: Settings, seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check(name, settings):
            return True
        time.sleep(1)
    return False


def ensure_dependencies(settings: Settings) -> None:
    missing = [n for n in ("postgresql", "rabbitmq", "redis") if not check(n, settings)]
    if not missing:
        typer.echo("dependencies: postgresql, rabbitmq, redis reachable")
        return
    if docker_engine():
        compose = {"postgresql": "postgres", "rabbitmq": "rabbitmq", "redis": "redis"}
        typer.echo(f"starting with docker compose: {', '.join(missing)}")
        subprocess.run(
            ["docker", "compose", "up", "-d", *[compose[m] for m in missing]], check=True
        )
    else:
        for name in missing:
            if shutil.which(LOCAL_BINARY[name]) is None:
                continue
            port = urlparse(settings.redis_url).port or 6379
            typer.echo(f"starting local {name}")
            subprocess.run(LOCAL_START[name].format(port=port), shell=True, check=False)
    still = [n for n in missing if not _wait(n, settings)]
    if still:
        for name in still:
            typer.echo(
                f"error: {name} is not reachable and could not be started. "
                f"Install it: {INSTALL_HINT[name]} — or install Docker, or point "
                f"YIWANG_* settings at a running server.",
                err=True,
            )
        raise typer.Exit(1)


DEMO_STEPS: list[tuple[str, list[str]]] = [
    ("demo city (grids, people, places)", ["-m", "demo.load_city", "--if-empty"]),
    ("demo accounts (one per role) and the Open311 key", ["-m", "gateway.security.seed"]),
    ("demo enterprises, institutions and 23 key projects", ["-m", "demo.enterprise"]),
]


def load_demo(settings: Settings, env: dict[str, str] | None = None) -> None:
    """Load the demo city through the same import paths users use (idempotent)."""
    for label, args in DEMO_STEPS:
        if args[1] == "demo.load_city":
            args = [*args, "--size", settings.demo_size, "--seed", str(settings.demo_seed)]
        typer.echo(f"loading {label}")
        subprocess.run([sys.executable, *args], check=True, env={**os.environ, **(env or {})})


def _has_personal_data(settings: Settings) -> bool:
    """True when the grids schema already holds residents (encrypted with earlier keys)."""
    eng = sa.create_engine(settings.database_url)
    try:
        with eng.connect() as c:
            return bool(
                c.execute(
                    sa.text(
                        "SELECT to_regclass('grids.residents') IS NOT NULL "
                        "AND EXISTS (SELECT 1 FROM grids.residents)"
                    )
                ).scalar()
            )
    except Exception:  # noqa: BLE001 - no schema yet: nothing encrypted
        return False
    finally:
        eng.dispose()


def supervisor_pid(settings: Settings) -> int | None:
    try:
        pid = int(open(_var(settings, "run", "supervisor.pid")).read().strip())
    except (FileNotFoundError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    return pid


def wait_ready(settings: Settings, seconds: float) -> dict[str, object] | None:
    url = f"http://{settings.gateway_host}:{settings.gateway_port}/health"
    deadline = time.monotonic() + seconds
    last: dict[str, object] | None = None
    while time.monotonic() < deadline:
        try:
            r = httpx.get(url, timeout=5)
            last = r.json()
            if r.status_code == 200:
                return last
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(1)
    typer.echo(f"not ready after {seconds:.0f} s: {last}", err=True)
    return None


@app.command()
def up(wait: float = 120.0) -> None:
    """Bring the whole system up with the demo city."""
    settings = Settings()
    os.makedirs(_var(settings, "log"), exist_ok=True)
    ensure_dependencies(settings)
    if ensure_database(settings.database_url):
        typer.echo(f"created database {make_url(settings.database_url).database}")
    upgrade(
        settings.database_url,
        roles=settings.database_roles,
        role_passwords=settings.database_role_passwords,
    )
    typer.echo(
        "migrated: grids, petitions, command, volunteers, enterprise, gateway"
        + (" (each with its own database role)" if settings.database_roles else "")
    )
    if settings.env == "production":  # keys are provided (infra.keys init), no demo data
        typer.echo("production mode: no demo data loaded")
    else:
        new_keys = not os.path.exists(keys_path(settings))
        ensure_keyring(keys_path(settings))  # random keys, once per installation (0600)
        typer.echo(f"keys: {keys_path(settings)} (rotate: make rotate-keys PURPOSE=token)")
        if new_keys and _has_personal_data(settings):
            typer.echo(
                "warning: personal data encrypted before this installation had its own "
                "keys exists; import the former secret (python -m infra.keys "
                "import-legacy) or drop the database and run make up again",
                err=True,
            )
        load_demo(settings)
    if supervisor_pid(settings) is None:
        out = open(_var(settings, "log", "supervisor.out"), "ab")
        subprocess.Popen(
            [sys.executable, "-m", "infra.supervisor"],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        typer.echo("started supervisor (logs in var/log/)")
    else:
        typer.echo("supervisor already running")
    if wait_ready(settings, wait) is None:
        raise typer.Exit(1)
    base = f"http://{settings.gateway_host}:{settings.gateway_port}"
    typer.echo("Yiwang is up (demo accounts: README, password yiwang-demo):")
    for label, path in [
        ("dashboard", "/dashboard/"),
        ("citizen page", "/citizen/"),
        ("grid worker", "/worker/"),
        ("volunteers", "/volunteer/"),
        ("enterprises", "/enterprise/"),
        ("administration", "/admin/"),
        ("API docs", "/docs"),
        ("health", "/health"),
        ("Open311", "/open311/v2/discovery.json"),
    ]:
        typer.echo(f"  {label:14s} {base}{path}")


@app.command()
def down() -> None:
    """Stop everything ``up`` started (the supervisor and its processes), nothing else."""
    settings = Settings()
    pid = supervisor_pid(settings)
    if pid is None:
        typer.echo("nothing running")
        return
    os.kill(pid, signal.SIGTERM)
    for _ in range(150):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            typer.echo("stopped")
            return
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)
    typer.echo("stopped (forced)")


@app.command()
def status() -> None:
    """Show whether the supervisor runs and what /health says."""
    settings = Settings()
    pid = supervisor_pid(settings)
    typer.echo(f"supervisor: {'pid ' + str(pid) if pid else 'not running'}")
    for n in ("postgresql", "rabbitmq", "redis"):
        typer.echo(f"{n}: {'ok' if check(n, settings) else 'unreachable'}")


def port_open(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex((host, port)) == 0


if __name__ == "__main__":
    app()
