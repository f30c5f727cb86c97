"""SSE fan-out: the time for one case change to reach 1,000 connected dashboards.

Starts the whole system (small demo city), opens N authenticated Server-Sent-Events
streams on /api/v1/live/cases (as the city's staff account), publishes case changes on
the live channel the command service publishes to, and measures publish → arrival at
every client (p50/p99 over all deliveries). Baseline in the same run: a bare Redis
pub/sub round trip to one subscriber. Goal from the issue: p99 < 500 ms for 1,000.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from typing import Any

import httpx
import redis.asyncio as aredis

from bench.common import summary_ms, write_result
from bench.ingest import System

CLIENTS = int(os.environ.get("SSE_CLIENTS", "1000"))
CHANGES = int(os.environ.get("SSE_CHANGES", "20"))


async def bare_redis(url: str, channel: str) -> dict[str, float]:
    r = aredis.Redis.from_url(url)
    ps = r.pubsub()
    await ps.subscribe(channel)
    lat = []
    await ps.get_message(timeout=1)
    for _ in range(200):
        t = time.perf_counter()
        await r.publish(channel, "x")
        while (await ps.get_message(timeout=1)) is None:
            pass
        lat.append(time.perf_counter() - t)
    await ps.aclose()
    await r.aclose()
    return summary_ms(lat)


async def run(base: str, redis_url: str, channel: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=base, timeout=30) as c:
        token = (await c.post("/api/v1/auth/login", json={
            "username": "demo_city", "password": "yiwang-demo"})).json()["access_token"]
    arrivals: list[float] = []
    sent_at: dict[str, float] = {}
    connected = 0
    ready = asyncio.Event()
    limits = httpx.Limits(max_connections=CLIENTS + 10, max_keepalive_connections=CLIENTS + 10)
    client = httpx.AsyncClient(base_url=base, timeout=None, limits=limits,
                               headers={"Authorization": f"Bearer {token}"})

    async def listen() -> None:
        nonlocal connected
        async with client.stream("GET", "/api/v1/live/cases") as resp:
            resp.raise_for_status()
            connected += 1
            if connected == CLIENTS:
                ready.set()
            async for line in resp.aiter_lines():
                if line.startswith("data: {"):
                    change = json.loads(line[6:])
                    t0 = sent_at.get(change.get("case_id", ""))
                    if t0 is not None:
                        arrivals.append(time.perf_counter() - t0)

    tasks = [asyncio.create_task(listen()) for _ in range(CLIENTS)]
    try:
        await asyncio.wait_for(ready.wait(), 120)
    except TimeoutError:
        pass
    await asyncio.sleep(1)
    r = aredis.Redis.from_url(redis_url)
    for i in range(CHANGES):
        cid = f"bench-{i}"
        sent_at[cid] = time.perf_counter()
        await r.publish(channel, json.dumps({"case_id": cid, "jurisdiction_code": "329901001001001",
                                             "status": "dispatched"}))
        await asyncio.sleep(0.5)
    await asyncio.sleep(3)
    await r.aclose()
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await client.aclose()
    return {"clients": connected, "changes": CHANGES, "deliveries": len(arrivals),
            "expected": connected * CHANGES, **summary_ms(arrivals)}


def main() -> int:
    system = System("sse")
    try:
        system.start()
        channel = f"{system.res.redis_prefix}live"
        base = asyncio.run(bare_redis(system.res.redis_url, channel + "-baseline"))
        out = asyncio.run(run(system.base, system.res.redis_url, channel))
        print(f"sse: {out['clients']} dashboards, {out['deliveries']}/{out['expected']} "
              f"deliveries, change→dashboard p50 {out['p50_ms']} ms, p99 {out['p99_ms']} ms "
              f"(bare Redis pub/sub round trip p50 {base['p50_ms']} ms, p99 {base['p99_ms']} ms)")
        write_result("sse", {"baseline": base, **out})
    finally:
        system.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
