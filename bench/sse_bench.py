"""SSE fan-out: the time for one case change to reach 1,000 connected dashboards.

Starts the whole system (small demo city), opens N authenticated Server-Sent-Events
streams on /api/v1/live/cases (as the city's staff account), publishes case changes on
the live channel the command service publishes to, and measures publish → arrival at
every client (p50/p99 over all deliveries). Baseline in the same run: a bare Redis
pub/sub round trip to one subscriber. Goal from the issue: p99 < 500 ms for 1,000.

The load generator shares the machine's two cores with the gateway, so its own cost per
delivery lands in the figure. Two generators run against the same gateway, one after the
other (``SSE_GENERATORS``):

* ``raw``: one asyncio ``Protocol`` per stream that only timestamps what arrives (parsed
  after the run) — what the gateway costs;
* ``httpx``: httpx streams parsed line by line as they arrive, as the first version of
  this benchmark did — how much a heavy client adds.

The CPU seconds the generator spent while changes were delivered are printed beside it.

Env: SSE_CLIENTS (1000), SSE_CHANGES (20, one every 0.5 s), SSE_GENERATORS ("raw,httpx").
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
import time
from typing import Any
from urllib.parse import urlsplit

import httpx
import redis.asyncio as aredis

from bench.common import summary_ms, write_result
from bench.ingest import System

CLIENTS = int(os.environ.get("SSE_CLIENTS", "1000"))
CHANGES = int(os.environ.get("SSE_CHANGES", "20"))
GENERATORS = tuple(os.environ.get("SSE_GENERATORS", "raw,httpx").split(","))
EVENT = re.compile(rb'"case_id": "(bench-[0-9]+-[0-9]+)"[^\n]*\n\n')


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


class RawStream(asyncio.Protocol):
    """One SSE connection that only timestamps the bytes it receives."""

    def __init__(self, request: bytes, on_connected: Any) -> None:
        self.request = request
        self.on_connected = on_connected
        self.chunks: list[tuple[float, bytes]] = []
        self.ok = False
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        self.chunks.append((time.perf_counter(), data))
        if not self.ok and data.startswith(b"HTTP/1.1 200"):
            self.ok = True
            self.on_connected()

    def arrivals(self) -> list[tuple[str, float]]:
        out: list[tuple[str, float]] = []
        buf = b""
        for t, data in self.chunks:
            buf += data
            last = 0
            for m in EVENT.finditer(buf):
                out.append((m.group(1).decode(), t))
                last = m.end()
            buf = buf[last:]
        return out


async def publish(redis_url: str, channel: str, tag: str, sent_at: dict[str, float]) -> None:
    r = aredis.Redis.from_url(redis_url)
    try:
        for i in range(CHANGES):
            cid = f"bench-{tag}-{i}"
            sent_at[cid] = time.perf_counter()
            await r.publish(
                channel,
                json.dumps(
                    {"case_id": cid, "jurisdiction_code": "329901001001001", "status": "dispatched"}
                ),
            )
            await asyncio.sleep(0.5)
        await asyncio.sleep(3)
    finally:
        await r.aclose()


async def run(
    generator: str, tag: str, base: str, token: str, redis_url: str, channel: str
) -> dict[str, Any]:
    sent_at: dict[str, float] = {}
    got: list[tuple[str, float]] = []
    connected = 0
    ready = asyncio.Event()

    def on_connected() -> None:
        nonlocal connected
        connected += 1
        if connected == CLIENTS:
            ready.set()

    tasks: list[asyncio.Task[Any]] = []
    raws: list[RawStream] = []
    client: httpx.AsyncClient | None = None
    loop = asyncio.get_running_loop()
    if generator == "raw":
        u = urlsplit(base)
        request = (
            f"GET /api/v1/live/cases HTTP/1.1\r\nHost: {u.netloc}\r\n"
            f"Authorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n"
        ).encode()

        async def open_raw() -> None:
            _, proto = await loop.create_connection(
                lambda: RawStream(request, on_connected), u.hostname or "127.0.0.1", u.port or 80
            )
            raws.append(proto)

        sem = asyncio.Semaphore(100)  # connect in waves, as dashboards would not all at once

        async def guarded() -> None:
            async with sem:
                await open_raw()

        tasks = [asyncio.create_task(guarded()) for _ in range(CLIENTS)]
    else:
        limits = httpx.Limits(max_connections=CLIENTS + 10, max_keepalive_connections=CLIENTS + 10)
        client = httpx.AsyncClient(
            base_url=base, timeout=None, limits=limits, headers={"Authorization": f"Bearer {token}"}
        )

        async def listen() -> None:
            async with client.stream("GET", "/api/v1/live/cases") as resp:
                resp.raise_for_status()
                on_connected()
                async for line in resp.aiter_lines():
                    if line.startswith("data: {"):
                        change = json.loads(line[6:])
                        got.append((change.get("case_id", ""), time.perf_counter()))

        tasks = [asyncio.create_task(listen()) for _ in range(CLIENTS)]
    try:
        await asyncio.wait_for(ready.wait(), 120)
    except TimeoutError:
        pass
    await asyncio.sleep(1)
    cpu0 = time.process_time()
    await publish(redis_url, channel, tag, sent_at)
    cpu = time.process_time() - cpu0
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for proto in raws:
        got.extend(proto.arrivals())
        if proto.transport is not None:
            proto.transport.close()
    if client is not None:
        await client.aclose()
    lat = [t - sent_at[cid] for cid, t in got if cid in sent_at]
    return {
        "generator": generator,
        "clients": connected,
        "changes": CHANGES,
        "deliveries": len(lat),
        "expected": connected * CHANGES,
        "generator_cpu_s": round(cpu, 2),
        **summary_ms(lat),
    }


async def sign_in(base: str) -> str:
    async with httpx.AsyncClient(base_url=base, timeout=30) as c:
        r = await c.post(
            "/api/v1/auth/login", json={"username": "demo_city", "password": "yiwang-demo"}
        )
        r.raise_for_status()
        token: str = r.json()["access_token"]
        return token


def main() -> int:
    system = System("sse")
    try:
        system.start()
        channel = f"{system.res.redis_prefix}live"
        base = asyncio.run(bare_redis(system.res.redis_url, channel + "-baseline"))
        token = asyncio.run(sign_in(system.base))
        runs = []
        for i, gen in enumerate(GENERATORS):
            out = asyncio.run(run(gen, str(i), system.base, token, system.res.redis_url, channel))
            runs.append(out)
            print(
                f"sse: {out['clients']} dashboards ({gen} load generator, "
                f"{out['generator_cpu_s']} CPU s for {CHANGES} changes), "
                f"{out['deliveries']}/{out['expected']} deliveries, change→dashboard "
                f"p50 {out['p50_ms']} ms, p99 {out['p99_ms']} ms (bare Redis pub/sub "
                f"round trip p50 {base['p50_ms']} ms, p99 {base['p99_ms']} ms); "
                f"goal p99 < 500 ms"
            )
        write_result("sse", {"baseline": base, "runs": runs, "goal_p99_ms": 500})
    finally:
        system.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
