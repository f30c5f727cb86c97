"""Live push: one Redis pub/sub subscription per gateway process, fanned out to every
Server-Sent-Events client whose jurisdiction the change falls in.

The command service publishes each change of its dispatch view to ``<prefix>live`` as
JSON carrying at least ``case_id`` and ``jurisdiction_code`` (and ``department`` when
dispatched). The same stream tells the dashboard read cache (``gateway.readcache``) what
changed (``on_change``).

Fan-out cost is kept per message, not per connection:

* subscribers are indexed by their jurisdiction prefix (and department), so a change looks
  up the ≤ 19 prefixes of its code instead of testing every connection;
* the SSE frame is JSON-encoded once per message and the same bytes are handed to every
  matching client;
* each client has a small deque of frames and one waiter future (no ``asyncio.Queue``);
  a client that fell behind gets everything pending in one write.

A client too slow to keep up loses its oldest updates (and is told so), never the
gateway's memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import deque
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import Redis

from yiwang.logging import get_logger

log = get_logger(__name__)
CLIENT_QUEUE = 256
RETRY = b"retry: 3000\n\n"
KEEP_ALIVE = b": keep-alive\n\n"
END_UNAUTHENTICATED = b"event: end\ndata: unauthenticated\n\n"


def frame(change: dict[str, Any]) -> bytes:
    """One SSE ``case`` event (JSON has no raw newlines, so one ``data:`` line)."""
    return b"event: case\ndata: " + json.dumps(change, ensure_ascii=False).encode() + b"\n\n"


@dataclass(eq=False)
class Subscriber:
    prefix: str
    department: str | None = None
    frames: deque[bytes] = field(default_factory=deque)
    dropped: int = 0
    _waiter: asyncio.Future[None] | None = None

    def wants(self, change: dict[str, Any]) -> bool:
        if self.department is not None:
            return change.get("department") == self.department
        return str(change.get("jurisdiction_code") or "").startswith(self.prefix)

    def offer(self, data: bytes) -> None:
        if len(self.frames) >= CLIENT_QUEUE:
            self.frames.popleft()
            self.dropped += 1
        self.frames.append(data)
        w = self._waiter
        if w is not None and not w.done():
            w.set_result(None)

    async def wait(self, timeout_s: float) -> bool:
        """True when frames are pending, False after ``timeout_s`` without any."""
        if self.frames:
            return True
        self._waiter = asyncio.get_running_loop().create_future()
        try:
            async with asyncio.timeout(timeout_s):
                await self._waiter
        except TimeoutError:
            return bool(self.frames)
        finally:
            self._waiter = None
        return True

    def take(self) -> bytes:
        """Everything pending, as one chunk (a dropped notice first)."""
        out = b"".join(self.frames)
        self.frames.clear()
        if self.dropped:
            out = f"event: dropped\ndata: {self.dropped}\n\n".encode() + out
            self.dropped = 0
        return out


class LiveHub:
    def __init__(
        self, redis: Redis, channel: str, on_change: Callable[[str | None], None] | None = None
    ) -> None:
        self.redis = redis
        self.channel = channel
        self.on_change = on_change
        self._by_prefix: dict[str, set[Subscriber]] = {}
        self._by_department: dict[str, set[Subscriber]] = {}
        self._count = 0
        self._task: asyncio.Task[None] | None = None

    @property
    def subscribers(self) -> int:
        return self._count

    def start(self) -> None:
        """Subscribe now (the read cache wants changes even before any SSE client)."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run())

    def add(self, sub: Subscriber) -> None:
        index = self._by_prefix if sub.department is None else self._by_department
        index.setdefault(sub.department or sub.prefix, set()).add(sub)
        self._count += 1

    def remove(self, sub: Subscriber) -> None:
        index = self._by_prefix if sub.department is None else self._by_department
        key = sub.department or sub.prefix
        group = index.get(key)
        if group is not None and sub in group:
            group.discard(sub)
            self._count -= 1
            if not group:
                del index[key]

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

    def publish_local(self, change: dict[str, Any]) -> int:
        """Hand ``change`` to every client it concerns; returns how many."""
        raw = change.get("jurisdiction_code")
        code = raw if isinstance(raw, str) else None
        if self.on_change is not None:
            try:
                self.on_change(code)
            except Exception as exc:  # noqa: BLE001 - the cache must not stop live updates
                log.warning("live_on_change_failed", error=str(exc)[:200])
        groups: list[set[Subscriber]] = []
        code = code or ""
        for i in range(len(code) + 1):
            group = self._by_prefix.get(code[:i])
            if group:
                groups.append(group)
        dept = change.get("department")
        if isinstance(dept, str) and dept in self._by_department:
            groups.append(self._by_department[dept])
        if not groups:
            return 0
        data = frame(change)  # encoded once for every client
        n = 0
        for group in groups:
            for sub in group:
                sub.offer(data)
            n += len(group)
        return n

    async def stream(
        self,
        sub: Subscriber,
        heartbeat_s: float = 15.0,
        still_valid: Callable[[], Awaitable[bool]] | None = None,
        recheck_s: float = 5.0,
    ) -> AsyncGenerator[bytes, None]:
        """The client's frames, a keep-alive after ``heartbeat_s`` of silence; when
        ``still_valid`` is given it is asked every ``recheck_s`` (is the viewer's token still
        good: not revoked, not expired, account unchanged?) and the stream ends with an
        ``end`` event when it says no."""
        self.start()
        self.add(sub)
        loop = asyncio.get_running_loop()
        try:
            yield RETRY
            last_beat = last_check = loop.time()
            wait_s = heartbeat_s if still_valid is None else min(heartbeat_s, recheck_s)
            while True:
                if await sub.wait(wait_s):
                    yield sub.take()
                    last_beat = loop.time()
                elif loop.time() - last_beat >= heartbeat_s - 1e-3:
                    yield KEEP_ALIVE
                    last_beat = loop.time()
                if still_valid is not None and loop.time() - last_check >= recheck_s - 1e-3:
                    last_check = loop.time()
                    if not await still_valid():
                        yield END_UNAUTHENTICATED
                        return
        finally:
            self.remove(sub)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
