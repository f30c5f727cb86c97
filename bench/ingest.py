"""End-to-end report ingestion: HTTP POST → case visible in the command read model.

Starts the whole system on isolated resources (own database and vhost), posts reports
with bounded concurrency, and measures: throughput until every case is visible, HTTP
accept latency, and report→command-view latency (submitted_at at the gateway to the row's
insertion time in the command service's read model).
"""

from __future__ import annotations

import asyncio
import os
import random
import time
import uuid
from typing import Any

import httpx
import sqlalchemy as sa
from shapely.geometry import Point

from bench.common import summary_ms
from demo import city as democity
from infra.processes import ALL
from infra.runner import load_demo
from infra.supervisor import Supervisor
from tests.support.resources import TestResources, free_port
from yiwang.config import Settings

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def sample_points(n: int, seed: int = 7) -> list[tuple[float, float]]:
    city = democity.generate("small", 20261123, with_people=False)
    rng = random.Random(seed)
    grids = city.grid_codes
    pts = []
    while len(pts) < n:  # random points inside random grids: distinct spots, few "me too"s
        geom = city.geometries[rng.choice(grids)]
        minx, miny, maxx, maxy = geom.bounds
        for _ in range(50):
            x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
            if geom.contains(Point(x, y)):
                pts.append((y, x))
                break
    return pts


class System:
    def __init__(self, label: str = "bench") -> None:
        self.res = TestResources.create(label)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.sup: Supervisor | None = None

    def start(self, extra_env: dict[str, str] | None = None) -> None:
        from yiwang.migrate import upgrade

        upgrade(self.res.database_url)
        env = self.res.env(
            PYTHONPATH=ROOT,
            YIWANG_GATEWAY_PORT=str(self.port),
            YIWANG_LOG_LEVEL="WARNING",
            YIWANG_VAR_DIR=os.path.join(ROOT, "var"),
            # one load generator on one IP: per-IP limits would cap the run
            YIWANG_RATE_LIMIT_PER_IP="100000000",
            YIWANG_RATE_LIMIT_PER_ACCOUNT="100000000",
            **(extra_env or {}),
        )
        load_demo(Settings(demo_size="small"), env)  # the runner's demo: city, accounts…
        self.sup = Supervisor(
            ALL, env=env, log_dir=os.path.join(ROOT, "var", "log-bench"), cwd=ROOT
        )
        self.sup.start()
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base}/health", timeout=5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise TimeoutError("system not ready")

    def stop(self) -> None:
        if self.sup is not None:
            self.sup.stop()
        self.res.destroy()


async def post_reports(
    base: str, points: list[tuple[float, float]], concurrency: int
) -> tuple[list[float], dict[int | str, int]]:
    latencies: list[float] = []
    errors: dict[int | str, int] = {}
    sem = asyncio.Semaphore(concurrency)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as client:

        async def one(lat: float, lon: float) -> None:
            async with sem:
                t0 = time.perf_counter()
                # as a real client would: a connection reset is retried with the same
                # Idempotency-Key (the report is filed once) and counted
                key = uuid.uuid4().hex
                for attempt in range(3):
                    try:
                        r = await client.post(
                            "/api/v1/reports",
                            headers={"Idempotency-Key": key},
                            json={
                                "category": "appearance.litter",
                                "attributes": {"size": "small"},
                                "description": "基准测试：路面垃圾",
                                "lat": lat,
                                "lon": lon,
                            },
                        )
                        break
                    except httpx.TransportError:
                        errors["reset_retried"] = errors.get("reset_retried", 0) + 1
                        if attempt == 2:
                            raise
                if r.status_code == 202:
                    latencies.append(time.perf_counter() - t0)
                else:
                    errors[r.status_code] = errors.get(r.status_code, 0) + 1

        await asyncio.gather(*(one(lat, lon) for lat, lon in points))
    return latencies, errors


def visible(engine: sa.Engine) -> int:
    """Reports recorded by petitions whose case is in the command view (a report linked to
    an open case as a duplicate counts once its case is there)."""
    with engine.connect() as c:
        return int(
            c.execute(
                sa.text(
                    "SELECT count(*) FROM petitions.case_reports r "
                    "JOIN command.case_view v ON v.case_id = r.case_id"
                )
            ).scalar_one()
        )


def view_latencies(engine: sa.Engine) -> list[float]:
    with engine.connect() as c:
        rows = c.execute(
            sa.text("SELECT extract(epoch FROM (updated_at - created_at)) FROM command.case_view")
        ).all()
    return [float(r[0]) for r in rows]


def run_ingest(n: int = 2000, concurrency: int = 32) -> dict[str, Any]:
    system = System()
    try:
        system.start()
        engine = sa.create_engine(system.res.database_url)
        points = sample_points(n)
        t0 = time.perf_counter()
        http_lat, errors = asyncio.run(post_reports(system.base, points, concurrency))
        accepted = len(http_lat)
        deadline = time.monotonic() + 120
        while visible(engine) < accepted and time.monotonic() < deadline:
            time.sleep(0.05)
        elapsed = time.perf_counter() - t0
        seen = visible(engine)
        e2e = view_latencies(engine)
        engine.dispose()
        return {
            "n": n,
            "concurrency": concurrency,
            "accepted": accepted,
            "errors": errors,
            "visible": seen,
            "rate_per_s": round(seen / elapsed, 1),
            "http": summary_ms(http_lat),
            "report_to_view": summary_ms(e2e),
        }
    finally:
        system.stop()
