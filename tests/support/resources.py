"""Isolated test resources on the real servers: a vhost, a database and a Redis prefix
per test session, removed afterwards even when tests fail."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import uuid
from dataclasses import dataclass
from urllib.parse import quote

import httpx

from yiwang.db import drop_database, ensure_database

PG = os.environ.get("YIWANG_TEST_PG", "postgresql+psycopg2://postgres@127.0.0.1:5432")
AMQP_HOST = os.environ.get("YIWANG_TEST_AMQP_HOST", "127.0.0.1:5672")
AMQP_MGMT = os.environ.get("YIWANG_TEST_AMQP_MGMT", "http://127.0.0.1:15672")
REDIS = os.environ.get("YIWANG_TEST_REDIS", "redis://127.0.0.1:6379/0")


def _rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)


def create_vhost(name: str) -> None:
    if shutil.which("rabbitmqctl"):
        _rabbitmqctl("add_vhost", name)
        _rabbitmqctl("set_permissions", "-p", name, "guest", ".*", ".*", ".*")
    else:  # a broker elsewhere (e.g. docker compose): use the management API
        v = quote(name, safe="")
        httpx.put(f"{AMQP_MGMT}/api/vhosts/{v}", auth=("guest", "guest")).raise_for_status()
        httpx.put(
            f"{AMQP_MGMT}/api/permissions/{v}/guest",
            auth=("guest", "guest"),
            json={"configure": ".*", "write": ".*", "read": ".*"},
        ).raise_for_status()


def delete_vhost(name: str) -> None:
    try:
        if shutil.which("rabbitmqctl"):
            _rabbitmqctl("delete_vhost", name)
        else:
            httpx.delete(f"{AMQP_MGMT}/api/vhosts/{quote(name, safe='')}", auth=("guest", "guest"))
    except Exception:  # noqa: BLE001 - best effort cleanup
        pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class TestResources:
    name: str
    database_url: str
    amqp_uri: str
    redis_url: str
    redis_prefix: str
    vhost: str

    def env(self, **extra: str) -> dict[str, str]:
        env = {
            "YIWANG_DATABASE_URL": self.database_url,
            "YIWANG_AMQP_URI": self.amqp_uri,
            "YIWANG_REDIS_URL": self.redis_url,
            "YIWANG_REDIS_PREFIX": self.redis_prefix,
        }
        env.update(extra)
        return env

    @classmethod
    def create(cls, label: str) -> TestResources:
        name = f"yiwang_{label}_{uuid.uuid4().hex[:8]}"
        db = f"{PG}/{name}"
        ensure_database(db)
        create_vhost(name)
        return cls(name, db, f"amqp://guest:guest@{AMQP_HOST}/{name}", REDIS, f"{name}:", name)

    def destroy(self) -> None:
        delete_vhost(self.vhost)
        try:
            drop_database(self.database_url)
        except Exception:  # noqa: BLE001
            pass
        try:
            import redis

            r = redis.Redis.from_url(self.redis_url)
            keys = list(r.scan_iter(f"{self.redis_prefix}*", count=1000))
            if keys:
                r.delete(*keys)
        except Exception:  # noqa: BLE001
            pass
