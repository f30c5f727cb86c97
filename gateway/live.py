"""Live push: one Redis pub/sub subscription per gateway process, fanned out to every
Server-Sent-Events client whose jurisdiction the change falls in.

The command service publishes each change of its dispatch view to ``<prefix>live`` as
JSON carrying at least ``case_id`` and ``jurisdiction_code`` (and ``department`` when
dispatched). Each client has a bounded queue: a client too slow to keep up loses its
oldest updates (and is told so), never the gateway's memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import Redis

from yiwang.logging import get_logger

log = get_logger(__name__)
CLIENT_QUEUE = 256


@dataclass(eq=False)
class Subscriber:
    prefix: str
    department: str | None = None
    queue: asyncio.Queue[dict[str, Any]] = field(
        default_factory=lambda: asyncio.Queue(CLIENT_QUEUE))
    dropped: int = 0

    def wants(self, change: dict[str, Any]) -> bool:
        if self.department is not None:
            return change.get("department") == self.department
        return str(change.get("jurisdiction_code", "")).startswith(self.prefix)

    def offer(self, change: dict[str, Any]) -> None:
        if self.queue.full():
            with contextlib.suppress(asyncio.QueueEmpty):
                self.queue.get_nowait()
            self.dropped += 1
        self.queue.put_nowait(change)


class LiveHub:
    def __init__(self, redis: Redis, channel: str) -> None:
        self.redis = redis
        self.channel = channel
        self.subscribers: set[Subscriber] = set()
        self._task: asyncio.Task[None] | None = None

    def _ensure_running(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        backoff = 0.5
        while True:
            try:
                pubsub = self.redis.pubsub()
                await pubsub.subscribe(self.channel)
                backoff = 0.5
                async for message in pubsub.listen():
                    if message.get("type") != "message":
                        continue
                    try:
                        change = json.loads(message["data"])
                    except (ValueError, TypeError):
                        continue
                    if isinstance(change, dict):
                        self.publish_local(change)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - Redis away: retry, keep clients
                log.warning("live_hub_redis_error", error=str(exc)[:200])
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10)

    def publish_local(self, change: dict[str, Any]) -> None:
        for sub in list(self.subscribers):
            if sub.wants(change):
                sub.offer(change)

    async def stream(self, sub: Subscriber, heartbeat_s: float = 15.0) -> AsyncIterator[str]:
        self._ensure_running()
        self.subscribers.add(sub)
        try:
            yield "retry: 3000\n\n"
            while True:
                try:
                    change = await asyncio.wait_for(sub.queue.get(), heartbeat_s)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                if sub.dropped:
                    yield f"event: dropped\ndata: {sub.dropped}\n\n"
                    sub.dropped = 0
                data = json.dumps(change, ensure_ascii=False)
                yield f"event: case\ndata: {data}\n\n"
        finally:
            self.subscribers.discard(sub)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
