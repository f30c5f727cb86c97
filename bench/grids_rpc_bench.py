"""Grids over RPC on ``city10m``: one locate and one batched locate of 10,000 points
through the broker (the gateway's asyncio client), p50/p99, and the grids service's RSS.
Goal from the issue: a batched RPC locate of 10,000 points under 100 ms.

The batch is measured with both contract versions, interleaved: ``locate_many`` (v1: JSON
number lists in, one code per point out) and ``locate_many_v2`` (packed float64 points in,
columnar answer out; the client expands it to one code per point). Baseline of the same
run: the same batch located in this process (``GridMap.locate_columns`` on a map loaded
from the same store), so the ratio is what the RPC adds.

    GRIDS_SIZE=city10m BATCH_ROUNDS=40 .venv/bin/python -m bench.grids_rpc_bench
"""

from __future__ import annotations

import asyncio
import gc
import os
import random
import sys
import time
from typing import Any

import psutil

from bench.common import summary_ms, write_result
from demo import city as democity
from infra.processes import SERVICES
from infra.supervisor import Supervisor
from services.grids.service_layer.boundaries import GridMap, import_boundaries
from tests.support.resources import TestResources
from yiwang.clock import SystemClock
from yiwang.contracts.grids import grid_codes_of, pack_points
from yiwang.db import make_engine
from yiwang.migrate import upgrade
from yiwang.rpc_client import NamekoRpcClient
from yiwang.uow import uow_factory

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


async def measure(amqp_uri: str, points: list[tuple[float, float]], rounds: int) -> dict[str, Any]:
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
        v1: list[float] = []
        v2: list[float] = []
        lats = [p[0] for p in points[:10_000]]
        lons = [p[1] for p in points[:10_000]]
        for i in range(rounds + 2):  # interleaved; the first round of each is warm-up
            t = time.perf_counter()
            reply = await client.call("grids", "locate_many", lats=lats, lons=lons)
            if i >= 2:
                v1.append(time.perf_counter() - t)
            t = time.perf_counter()
            answer = await client.call("grids", "locate_many_v2", points=pack_points(lats, lons))
            codes = grid_codes_of(answer)
            if i >= 2:
                v2.append(time.perf_counter() - t)
        if codes != reply["grid_codes"]:
            raise AssertionError("locate_many_v2 disagrees with locate_many")
        return {
            "single": summary_ms(single),
            "batch_10000_v1": summary_ms(v1),
            "batch_10000_v2": summary_ms(v2),
            "batch_located": sum(1 for g in codes if g),
        }
    finally:
        await client.close()


def in_process(database_url: str, points: list[tuple[float, float]], rounds: int) -> dict[str, Any]:
    """The same batch located in this process (the baseline)."""
    engine = make_engine(database_url, pool_size=1)
    factory = uow_factory(engine, producer="grids", schema="grids")
    gmap = GridMap.load(factory())
    engine.dispose()
    gc.collect()
    gc.freeze()  # as the service does after a load (the generated city is on this heap)
    lats = [p[0] for p in points[:10_000]]
    lons = [p[1] for p in points[:10_000]]
    out = []
    for _ in range(rounds):
        t = time.perf_counter()
        gmap.locate_columns(lats, lons)
        out.append(time.perf_counter() - t)
    return summary_ms(out)


def main() -> int:
    size = os.environ.get("GRIDS_SIZE", "city10m")
    rounds = int(os.environ.get("BATCH_ROUNDS", "40"))
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
        import_boundaries(
            uow_factory(engine, producer="grids", schema="grids")(),
            city.feature_collection(),
            SystemClock().now(),
        )
        import_s = time.perf_counter() - t
        engine.dispose()
        spec = next(s for s in SERVICES if s.name == "grids")
        sup = Supervisor(
            [spec],
            env=res.env(PYTHONPATH=ROOT, YIWANG_LOG_LEVEL="WARNING"),
            log_dir=os.path.join(ROOT, "var", "log-bench-grids"),
            cwd=ROOT,
        )
        sup.start()
        deadline = time.monotonic() + 120
        figures: dict[str, Any] | None = None
        while time.monotonic() < deadline:
            try:
                figures = asyncio.run(measure(res.amqp_uri, points, rounds))
                break
            except Exception:  # noqa: BLE001 - service still starting/loading its map
                time.sleep(2)
        if figures is None:
            print("grids rpc: the service did not answer")
            return 1
        pid = sup.pid("grids")
        rss = psutil.Process(pid).memory_info().rss / 2**20 if pid else float("nan")
        base = in_process(res.database_url, points, rounds)
        v1, v2 = figures["batch_10000_v1"], figures["batch_10000_v2"]
        print(
            f"grids rpc: locate one point p50 {figures['single']['p50_ms']} ms, "
            f"p99 {figures['single']['p99_ms']} ms ({size}: {len(city.grid_codes):,} grids; "
            f"import {import_s:.1f} s); grids service RSS {rss:.0f} MB"
        )
        print(
            f"grids rpc: 10,000 points, v2 (packed, columnar) p50 {v2['p50_ms']} ms, "
            f"p99 {v2['p99_ms']} ms; v1 (JSON lists) p50 {v1['p50_ms']} ms, "
            f"p99 {v1['p99_ms']} ms; baseline in process p50 {base['p50_ms']} ms, "
            f"p99 {base['p99_ms']} ms (ratio v2/baseline p50 "
            f"{v2['p50_ms'] / base['p50_ms']:.1f}) [{rounds} rounds, interleaved]"
        )
        write_result(
            "grids_rpc",
            {
                "size": size,
                "import_s": import_s,
                "rss_mb": rss,
                "in_process_10000": base,
                **figures,
            },
        )
    finally:
        if sup is not None:
            sup.stop()
        res.destroy()
    return 0


if __name__ == "__main__":
    sys.exit(main())
