"""Grids over RPC on ``city10m``: one locate and one batched locate of 10,000 points
through the broker (the gateway's asyncio client), p50/p99, and the grids service's RSS.
Goal from the issue: a batched RPC locate of 10,000 points under 100 ms."""

from __future__ import annotations

import asyncio
import os
import random
import sys
import time
from typing import Any

import psutil

from bench.common import summary_ms, write_result
from infra.processes import SERVICES
from infra.supervisor import Supervisor
from services.grids.domain import democity
from services.grids.service_layer.boundaries import import_boundaries
from tests.support.resources import TestResources
from yiwang.clock import SystemClock
from yiwang.db import make_engine
from yiwang.migrate import upgrade
from yiwang.rpc_client import NamekoRpcClient
from yiwang.uow import uow_factory

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


async def measure(amqp_uri: str, points: list[tuple[float, float]]) -> dict[str, Any]:
    client = NamekoRpcClient(amqp_uri, timeout_s=30)
    await client.connect()
    try:
        for _ in range(20):  # warm up
            await client.call("grids", "locate", lat=points[0][0], lon=points[0][1])
        single = []
        for lat, lon in points[:500]:
            t = time.perf_counter()
            await client.call("grids", "locate", lat=lat, lon=lon)
            single.append(time.perf_counter() - t)
        batch = []
        lats = [p[0] for p in points[:10_000]]
        lons = [p[1] for p in points[:10_000]]
        for _ in range(20):
            t = time.perf_counter()
            reply = await client.call("grids", "locate_many", lats=lats, lons=lons)
            batch.append(time.perf_counter() - t)
        located = sum(1 for g in reply.get("grid_codes", reply.get("results", [])) if g)
        return {"single": summary_ms(single), "batch_10000": summary_ms(batch),
                "batch_located": located}
    finally:
        await client.close()


def main() -> int:
    size = os.environ.get("GRIDS_SIZE", "city10m")
    city = democity.generate(size, 20261123, with_people=False)
    rng = random.Random(3)
    minx, miny, maxx, maxy = city.geometries[city.city_code].bounds
    points = [(rng.uniform(miny, maxy), rng.uniform(minx, maxx)) for _ in range(10_000)]
    res = TestResources.create("benchgridsrpc")
    sup = None
    try:
        upgrade(res.database_url, ["grids"])
        engine = make_engine(res.database_url, pool_size=1)
        t = time.perf_counter()
        import_boundaries(uow_factory(engine, producer="grids", schema="grids")(),
                          city.feature_collection(), SystemClock().now())
        import_s = time.perf_counter() - t
        engine.dispose()
        spec = next(s for s in SERVICES if s.name == "grids")
        sup = Supervisor([spec], env=res.env(PYTHONPATH=ROOT, YIWANG_LOG_LEVEL="WARNING"),
                         log_dir=os.path.join(ROOT, "var", "log-bench-grids"), cwd=ROOT)
        sup.start()
        deadline = time.monotonic() + 120
        figures: dict[str, Any] | None = None
        while time.monotonic() < deadline:
            try:
                figures = asyncio.run(measure(res.amqp_uri, points))
                break
            except Exception:  # noqa: BLE001 - service still starting/loading its map
                time.sleep(2)
        if figures is None:
            print("grids rpc: the service did not answer")
            return 1
        pid = sup.pid("grids")
        rss = psutil.Process(pid).memory_info().rss / 2**20 if pid else float("nan")
        print(f"grids rpc: locate one point p50 {figures['single']['p50_ms']} ms, "
              f"p99 {figures['single']['p99_ms']} ms; locate_many 10,000 points "
              f"p50 {figures['batch_10000']['p50_ms']} ms, p99 {figures['batch_10000']['p99_ms']} ms "
              f"({size}: {len(city.grid_codes):,} grids; import {import_s:.1f} s); "
              f"grids service RSS {rss:.0f} MB")
        write_result("grids_rpc", {"size": size, "import_s": import_s, "rss_mb": rss, **figures})
    finally:
        if sup is not None:
            sup.stop()
        res.destroy()
    return 0


if __name__ == "__main__":
    sys.exit(main())
