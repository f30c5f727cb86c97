"""A lean open-loop HTTP/1.1 load generator: keep-alive connections on asyncio streams,
requests pre-encoded, responses parsed by Content-Length only.

httpx costs about 7 ms of CPU per request on this machine, as much as a third of what the
whole system spends on one report, so on 2 shared cores the generator itself capped the
load benchmark. This one costs a fraction of that (its own CPU time is reported).
Open loop without coordinated omission: request i is due at ``start + i / rate`` and its
latency counts from then, so time spent waiting for a free connection is the system's
fault, not hidden. Requests that would wait behind more than ``max_backlog`` others are
not sent and are counted as ``client_backlog``.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

from bench.common import summary_ms


def encode_post(host: str, path: str, body: dict[str, Any]) -> bytes:
    data = json.dumps(body, ensure_ascii=False).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(data)}\r\n\r\n"
    )
    return head.encode() + data


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length = 0
    for line in lines[1:]:
        if line[:15].lower() == b"content-length:":
            length = int(line[15:].strip())
    if length:
        await reader.readexactly(length)
    return status


async def open_loop_raw(
    host: str,
    port: int,
    rate: float,
    seconds: float,
    make_request: Callable[[int], bytes],
    *,
    connections: int = 128,
    max_backlog: int = 2000,
) -> dict[str, Any]:
    n = int(rate * seconds)
    queue: asyncio.Queue[tuple[int, float]] = asyncio.Queue()
    by_status: dict[str, int] = {}
    ok_lat: list[float] = []
    refused_lat: list[float] = []
    cpu0 = time.process_time()

    def count(key: str) -> None:
        by_status[key] = by_status.get(key, 0) + 1

    async def connection() -> None:
        reader: asyncio.StreamReader | None = None
        writer: asyncio.StreamWriter | None = None
        while True:
            i, due = await queue.get()
            if i < 0:
                break
            for attempt in (1, 2):
                try:
                    if writer is None or reader is None:
                        reader, writer = await asyncio.open_connection(host, port)
                    writer.write(make_request(i))
                    status = await asyncio.wait_for(_read_response(reader), 30)
                except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
                    if writer is not None:
                        writer.close()
                    reader = writer = None
                    # only a keep-alive connection the server had closed before answering is
                    # retried (nothing was accepted); never a request that may have been
                    stale = isinstance(exc, ConnectionResetError | BrokenPipeError) or (
                        isinstance(exc, asyncio.IncompleteReadError) and not exc.partial
                    )
                    if attempt == 2 or not stale:
                        count(type(exc).__name__)
                        break
                    continue
                latency = time.perf_counter() - due
                count(str(status))
                if status == 202:
                    ok_lat.append(latency)
                elif status in (429, 503):
                    refused_lat.append(latency)
                break
        if writer is not None:
            writer.close()

    workers = [asyncio.create_task(connection()) for _ in range(connections)]
    start = time.perf_counter()
    for i in range(n):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        if queue.qsize() >= max_backlog:
            count("client_backlog")
            continue
        queue.put_nowait((i, due))
    for _ in workers:
        queue.put_nowait((-1, 0.0))
    await asyncio.gather(*workers)
    return {
        "sent": n,
        "by_status": by_status,
        "http": summary_ms(ok_lat),
        "refused": summary_ms(refused_lat),
        "generator_cpu_s": round(time.process_time() - cpu0, 2),
    }
