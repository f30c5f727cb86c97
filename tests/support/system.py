"""The whole system, started as the runner starts it, on isolated test resources.

The ``system`` fixture itself is defined once, in tests/conftest.py: one system per
test session, shared by every directory (two systems on one vhost would consume each
other's queues)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx

from infra.processes import ALL
from infra.runner import load_demo
from infra.supervisor import Supervisor
from tests.support.resources import TestResources, free_port
from yiwang.config import Settings
from yiwang.keys import ensure_keyring

DEMO_PASSWORD = "yiwang-demo"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@dataclass
class System:
    base_url: str
    supervisor: Supervisor
    resources: TestResources
    var_dir: str

    @property
    def keys_file(self) -> str:
        return os.path.join(self.var_dir, "keys.json")

    def client(self, username: str | None = None) -> httpx.Client:
        """An HTTP client, signed in as a demo account when ``username`` is given."""
        headers = {}
        if username:
            r = httpx.post(
                f"{self.base_url}/api/v1/auth/login",
                json={"username": username, "password": DEMO_PASSWORD},
                timeout=15,
            )
            r.raise_for_status()
            headers["Authorization"] = f"Bearer {r.json()['access_token']}"
        return httpx.Client(base_url=self.base_url, timeout=15, headers=headers)


def wait_ready(base_url: str, seconds: float) -> dict:
    deadline = time.monotonic() + seconds
    last: dict = {}
    while time.monotonic() < deadline:
        try:
            r = httpx.get(f"{base_url}/health", timeout=5)
            last = r.json()
            if r.status_code == 200:
                return last
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(0.5)
    raise TimeoutError(f"system not ready after {seconds} s: {last}")


def start_system(resources: TestResources, var_dir: str) -> Iterator[System]:  # noqa: D401 - generator used by the fixture
    port = free_port()
    env = resources.env(
        PYTHONPATH=ROOT,
        YIWANG_GATEWAY_PORT=str(port),
        YIWANG_OTEL_EXPORTER="file",
        YIWANG_VAR_DIR=var_dir,
        YIWANG_DEMO_SIZE="small",
        YIWANG_LOG_LEVEL="INFO",
        YIWANG_KEYS_FILE=os.path.join(var_dir, "keys.json"),
    )
    ensure_keyring(env["YIWANG_KEYS_FILE"])  # this system's own random keys
    load_demo(Settings(demo_size="small"), env)
    sup = Supervisor(ALL, env=env, log_dir=os.path.join(var_dir, "log"), cwd=ROOT)
    sup.start()
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, 90)
        yield System(base, sup, resources, var_dir)
    finally:
        sup.stop()
