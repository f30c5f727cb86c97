"""A read-through cache of the leaders' dashboard reads (case lists, KPI cards and series).

Two hundred leaders looking at the same dashboard ask the command service the same few
questions every few seconds. Each answer is cached in Redis (shared by every gateway
process) under a key made of

* the viewer's authorization scope: the jurisdiction code the account is bound to, and the
  department for department handlers (``scope_of``), and
* the normalised query: the RPC method and the arguments the route builds *after*
  authorization narrowed them (jurisdiction prefix, forced department, page, dates), as
  canonical JSON.

So a viewer only ever receives an answer computed for the same scope and the same
authorised arguments as their own request would produce.

Each process also keeps the latest answer of every hot key in memory and serves it without a
Redis round trip while it is fresh; Redis is what the gateway processes share (one process's
refresh serves the others).

Freshness (``ttl_s``, default 5 s, is the hard bound: an older answer is never served):

* younger than ``SOFT_FRACTION × ttl_s`` and no change seen since it was read: served
  (``X-Cache: hit``);
* older than that, or a change in its jurisdiction arrived after it was read: still served
  (``stale``) while one background refresh runs (refresh-ahead, so a hot key never
  expires under its readers);
* missing or older than ``ttl_s``: read now (``miss``), **single-flight**: concurrent
  requests for one key in one process wait for one RPC (``coalesced``).

Every refresh is an RPC to the command service, whose pool is small (10 workers, about 45
dashboard queries/s on 1,000,000 cases on this 2-core machine): refresh-ahead costs
``hot keys / (SOFT_FRACTION × ttl_s)`` RPCs a second (200 viewers over 13 jurisdictions are
52 keys: 14/s at 5 s, 35/s at 2 s, where the service saturates and answers land already
expired), so changes, not the clock, are what makes answers fresh, and background refreshes
run at most ``REFRESH_SLOTS`` at once per process.

The command change stream that feeds SSE (``gateway.live.LiveHub``) calls ``changed(code)``
for every case change: keys read in the last ``HOT_FACTOR × ttl_s`` seconds whose
jurisdiction prefix covers the change are refreshed in the background, at most once per
``min_refresh_s`` per key across all gateway processes (a Redis ``SET NX PX`` throttle), and
the last change of a burst always gets a trailing refresh. A dashboard that reloads on the
SSE event (400 ms later) thus normally reads an answer taken after the change.

Responses carry a strong ``ETag`` (hash of the body, computed once per refresh),
``Cache-Control: private, no-cache`` (browsers revalidate every time; shared caches keep
nothing) and ``Vary: Authorization``; ``If-None-Match`` gets ``304 Not Modified``. The body
is the JSON encoded once per refresh, not per request.

Redis unavailable: the cache fails open (every request reads through, still single-flight
per process). Errors from the service are never cached.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from fastapi import Response
from redis.asyncio import Redis
from redis.exceptions import RedisError

from yiwang.logging import get_logger

log = get_logger(__name__)

Fetch = Callable[[], Awaitable[Any]]
CACHE_CONTROL = "private, no-cache"
HOT_FACTOR = 5  # a key read within HOT_FACTOR × ttl_s is refreshed on changes
SOFT_FRACTION = 0.75  # refresh-ahead begins at this fraction of ttl_s
REFRESH_SLOTS = 4  # background refreshes at once per process (the service's pool is small)
MAX_HOT_KEYS = 5_000  # keys (and their latest answer) held per process


class _Viewer(Protocol):
    @property
    def role(self) -> str: ...

    @property
    def jurisdiction_code(self) -> str: ...

    @property
    def department(self) -> str | None: ...


def scope_of(who: _Viewer) -> str:
    """The part of a principal that decides what it may read: its jurisdiction code, and
    its department when it is a department handler (forced department filter)."""
    dept = (who.department or "") if who.role == "department_handler" else ""
    return f"j={who.jurisdiction_code};d={dept}"


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    for tag in if_none_match.split(","):
        tag = tag.strip()
        if tag == "*" or tag.removeprefix("W/") == etag:
            return True
    return False


@dataclass(frozen=True, slots=True)
class Entry:
    started_at: float  # wall clock when the read that produced it began
    etag: str
    body: bytes

    def dump(self) -> bytes:
        return f"{self.started_at:.6f}|{self.etag}|".encode() + self.body

    @classmethod
    def load(cls, raw: bytes) -> Entry | None:
        try:
            started, etag, body = raw.split(b"|", 2)
            return cls(float(started), etag.decode(), body)
        except ValueError:
            return None


@dataclass(eq=False, slots=True)
class _Hot:
    key: str
    prefix: str
    fetch: Fetch
    last_read: float
    refreshed_at: float = -1e9  # monotonic start of the last background refresh
    scheduled: bool = False
    entry: Entry | None = None


@dataclass
class Stats:
    hit: int = 0
    stale: int = 0
    miss: int = 0
    coalesced: int = 0
    refreshes: int = 0
    fetches: int = 0
    redis_errors: int = 0


class ReadCache:
    def __init__(
        self,
        redis: Redis | None,
        prefix: str,
        ttl_s: float = 5.0,
        min_refresh_s: float = 1.0,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.redis = redis
        self.prefix = f"{prefix}rc:"
        self.ttl_s = ttl_s
        self.soft_s = ttl_s * SOFT_FRACTION
        self.min_refresh_s = min_refresh_s
        self.hot_s = HOT_FACTOR * ttl_s
        self.clock = clock
        self.stats = Stats()
        self._flights: dict[str, asyncio.Task[Entry]] = {}
        self._hot: dict[str, _Hot] = {}
        self._by_prefix: dict[str, set[str]] = {}
        self._marks: dict[str, float] = {}  # jurisdiction prefix -> wall time of last change
        self._marks_pruned = 0.0
        self._background: set[asyncio.Task[Any]] = set()
        self._refresh_slots = asyncio.Semaphore(REFRESH_SLOTS)

    @property
    def enabled(self) -> bool:
        return self.ttl_s > 0

    def key(self, scope: str, method: str, args: dict[str, Any]) -> str:
        canon = json.dumps(
            [scope, method, args],
            sort_keys=True,
            default=str,
            separators=(",", ":"),
            ensure_ascii=False,
        )
        return (
            self.prefix + method + ":" + hashlib.blake2b(canon.encode(), digest_size=16).hexdigest()
        )

    # -- the request path -------------------------------------------------------------------
    async def respond(
        self,
        if_none_match: str | None,
        scope: str,
        method: str,
        args: dict[str, Any],
        prefix: str,
        fetch: Fetch,
    ) -> Response:
        entry, state = await self.get(self.key(scope, method, args), prefix, fetch)
        headers = {
            "ETag": entry.etag,
            "Cache-Control": CACHE_CONTROL,
            "Vary": "Authorization",
            "X-Cache": state,
        }
        if etag_matches(if_none_match, entry.etag):
            return Response(status_code=304, headers=headers)
        return Response(entry.body, media_type="application/json", headers=headers)

    async def get(self, key: str, prefix: str, fetch: Fetch) -> tuple[Entry, str]:
        """The entry for ``key`` and how it was served: hit, stale, miss, coalesced, bypass."""
        if not self.enabled:
            return await self._flight(key, fetch, store=False), "bypass"
        hot = self._touch(key, prefix, fetch)
        mine = hot.entry  # this process's latest answer (L1)
        if mine is not None and self._fresh(mine, prefix):
            self.stats.hit += 1
            return mine, "hit"
        entry = await self._read(key)
        mine = hot.entry  # a read of this process may have landed meanwhile
        if entry is not None and (mine is None or entry.started_at > mine.started_at):
            hot.entry = entry  # another process's newer answer
        else:
            entry = mine  # Redis has nothing newer (or is away)
        if entry is not None and self.clock() - entry.started_at < self.ttl_s:
            if self._fresh(entry, prefix):
                self.stats.hit += 1
                return entry, "hit"
            self.stats.stale += 1
            self._refresh_soon(key)
            return entry, "stale"
        joined = key in self._flights
        entry = await self._flight(key, fetch)
        if joined:
            self.stats.coalesced += 1
            return entry, "coalesced"
        self.stats.miss += 1
        return entry, "miss"

    async def _read(self, key: str) -> Entry | None:
        if self.redis is None:
            return None
        try:
            raw = await self.redis.get(key)
        except (RedisError, OSError) as exc:
            self._redis_error("get", exc)
            return None
        return Entry.load(raw) if isinstance(raw, bytes) and raw else None

    async def _write(self, key: str, entry: Entry) -> None:
        if self.redis is None:
            return
        try:
            await self.redis.set(key, entry.dump(), px=max(1, int(self.ttl_s * 1000)))
        except (RedisError, OSError) as exc:
            self._redis_error("set", exc)

    def _redis_error(self, op: str, exc: BaseException) -> None:
        self.stats.redis_errors += 1
        if self.stats.redis_errors % 100 == 1:  # once per burst, not once per request
            log.warning("read_cache_redis_error", op=op, error=str(exc)[:200])

    def _flight(self, key: str, fetch: Fetch, store: bool = True) -> Awaitable[Entry]:
        """One read per key at a time in this process; every caller shares its result (a
        caller going away does not cancel it for the others)."""
        task = self._flights.get(key)
        if task is None:
            task = asyncio.ensure_future(self._load(key, fetch, store))
            self._flights[key] = task
            task.add_done_callback(functools.partial(self._landed, key))
        return asyncio.shield(task)

    def _landed(self, key: str, task: asyncio.Task[Entry]) -> None:
        if self._flights.get(key) is task:
            del self._flights[key]
        if not task.cancelled():
            task.exception()  # retrieved here: waiters re-raise it, nobody may be left

    async def _load(self, key: str, fetch: Fetch, store: bool) -> Entry:
        started = self.clock()
        self.stats.fetches += 1
        result = await fetch()
        body = json.dumps(
            result, ensure_ascii=False, allow_nan=False, separators=(",", ":")
        ).encode()
        entry = Entry(started, '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"', body)
        hot = self._hot.get(key)
        if hot is not None and (hot.entry is None or hot.entry.started_at < started):
            hot.entry = entry
        if store:
            await self._write(key, entry)
        return entry

    # -- hot keys and the change stream -----------------------------------------------------
    def _touch(self, key: str, prefix: str, fetch: Fetch) -> _Hot:
        now = time.monotonic()
        hot = self._hot.get(key)
        if hot is None:
            if len(self._hot) >= MAX_HOT_KEYS:
                self._prune_hot(now)
            hot = self._hot[key] = _Hot(key, prefix, fetch, now)
            self._by_prefix.setdefault(prefix, set()).add(key)
        hot.last_read = now
        hot.fetch = fetch
        return hot

    def _drop_hot(self, hot: _Hot) -> None:
        self._hot.pop(hot.key, None)
        keys = self._by_prefix.get(hot.prefix)
        if keys is not None:
            keys.discard(hot.key)
            if not keys:
                del self._by_prefix[hot.prefix]

    def _prune_hot(self, now: float) -> None:
        idle = [h for h in self._hot.values() if now - h.last_read > self.hot_s]
        if len(idle) < MAX_HOT_KEYS // 10:  # all busy: forget the least recently read tenth
            idle = sorted(self._hot.values(), key=lambda h: h.last_read)[: MAX_HOT_KEYS // 10]
        for hot in idle:
            self._drop_hot(hot)

    def _fresh(self, entry: Entry, prefix: str) -> bool:
        """Younger than ``soft_s`` and no change in its jurisdiction seen since it was read."""
        if self.clock() - entry.started_at >= self.soft_s:
            return False
        mark = self._marks.get(prefix)
        return mark is None or mark < entry.started_at

    def changed(self, jurisdiction_code: str | None) -> None:
        """A case in ``jurisdiction_code`` changed (``None``: somewhere unknown): answers of
        every jurisdiction prefix covering it are out of date."""
        if not self.enabled:
            return
        now = self.clock()
        if now - self._marks_pruned > self.ttl_s:  # marks older than ttl no longer matter
            self._marks = {p: t for p, t in self._marks.items() if now - t <= self.ttl_s}
            self._marks_pruned = now
        if jurisdiction_code is None:
            prefixes: Any = list(self._by_prefix)
        else:
            code = str(jurisdiction_code)
            prefixes = [code[:i] for i in range(len(code) + 1)]
        for p in prefixes:
            self._marks[p] = now
            for key in list(self._by_prefix.get(p, ())):
                self._refresh_soon(key)

    def _refresh_soon(self, key: str) -> None:
        hot = self._hot.get(key)
        if hot is None or hot.scheduled:
            return
        now = time.monotonic()
        if now - hot.last_read > self.hot_s:
            self._drop_hot(hot)  # nobody is looking: the next reader reads through
            return
        hot.scheduled = True
        delay = max(0.0, hot.refreshed_at + self.min_refresh_s - now)
        asyncio.get_running_loop().call_later(delay, self._start_refresh, hot)

    def _start_refresh(self, hot: _Hot) -> None:
        flight = self._flights.get(hot.key)
        if flight is not None:  # a read begun before the change: refresh again after it
            flight.add_done_callback(lambda _t: self._start_refresh(hot))
            return
        hot.scheduled = False
        if self._hot.get(hot.key) is not hot:
            return
        hot.refreshed_at = time.monotonic()
        task = asyncio.ensure_future(self._refresh(hot))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _refresh(self, hot: _Hot) -> None:
        if self.redis is not None and self.min_refresh_s > 0:
            try:  # one gateway process refreshes a key per min_refresh_s; the others read it
                lock = f"{hot.key}:refresh"
                # shorter than min_refresh_s: never blocks this process's own trailing refresh
                px = max(1, int(self.min_refresh_s * 800))
                if not await self.redis.set(lock, b"1", nx=True, px=px):
                    return
            except (RedisError, OSError) as exc:
                self._redis_error("lock", exc)
                return
        self.stats.refreshes += 1
        try:
            async with self._refresh_slots:
                await self._flight(hot.key, hot.fetch)
        except Exception as exc:  # noqa: BLE001 - readers will read through and see it
            log.info("read_cache_refresh_failed", key=hot.key, error=str(exc)[:200])

    async def close(self) -> None:
        for task in list(self._background) + list(self._flights.values()):
            task.cancel()
        await asyncio.gather(*self._background, *self._flights.values(), return_exceptions=True)
