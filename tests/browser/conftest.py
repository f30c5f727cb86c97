"""Browser tests: the whole system (the e2e ``system`` fixture) driven by headless Debian
Chromium through playwright-core (installed by ``make web`` from the npm registry)."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from tests.support.system import ROOT, System  # noqa: F401

CHROMIUM = os.environ.get("YIWANG_CHROMIUM", "/usr/bin/chromium")
WEB = os.path.join(ROOT, "gateway", "web")


def _install_chromium() -> None:
    """Install Debian chromium (and CJK fonts, so zh-CN renders) when running as root."""
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        pytest.fail(
            f"Chromium is missing at {CHROMIUM} and cannot be installed here (need root and "
            "apt-get): run `apt-get install -y chromium fonts-noto-cjk` or set YIWANG_CHROMIUM.",
            pytrace=False,
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=False, env=env, timeout=600)
    r = subprocess.run(
        ["apt-get", "install", "-y", "-qq", "chromium", "fonts-noto-cjk"],
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    if r.returncode != 0 or not os.path.exists(CHROMIUM):
        pytest.fail(
            f"apt-get install chromium failed:\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def chromium() -> str:
    if not os.path.exists(CHROMIUM):
        _install_chromium()
    if not os.path.isdir(
        os.path.join(WEB, "node_modules", "playwright-core")
    ) or not os.path.exists(os.path.join(WEB, "vendor", "echarts.min.js")):
        r = subprocess.run(["make", "web"], cwd=ROOT, capture_output=True, text=True, timeout=900)
        if r.returncode != 0:
            pytest.fail(
                f"`make web` failed:\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}", pytrace=False
            )
    return CHROMIUM


@pytest.fixture(scope="session")
def artifacts() -> str:
    path = os.path.join(ROOT, "test-artifacts", "browser")
    os.makedirs(path, exist_ok=True)
    return path


@pytest.fixture(autouse=True)
def fresh_rate_limits(request: pytest.FixtureRequest) -> None:
    """Every browser test starts with the gateway's rate-limit counters empty. All the
    session's pages come from one address (127.0.0.1), so tests that follow each other
    within one window would otherwise share its per-address budget (600 a minute), which
    only a real crowd behind one address would reach."""
    if "system" not in request.fixturenames:
        return
    import redis

    system = request.getfixturevalue("system")
    rds = redis.Redis.from_url(system.resources.redis_url)
    keys = list(rds.scan_iter(f"{system.resources.redis_prefix}gw:rl:*", count=1000))
    if keys:
        rds.delete(*keys)
