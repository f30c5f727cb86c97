"""nameko dependency providers: unit of work (+ outbox relay), tracing, clock, Redis.

``UnitOfWorkProvider`` replaces nameko-sqlalchemy (which does not support SQLAlchemy 2):
it owns the service's engine (psycopg2, green under eventlet), hands each worker a
factory of ``UnitOfWork`` objects, and runs the outbox relay in a managed green thread
that a commit wakes immediately.
"""

from __future__ import annotations

import json
import time
from typing import Any

from nameko.extensions import DependencyProvider
from opentelemetry import context as otel_context
from opentelemetry import trace

from yiwang.clock import Clock, SystemClock
from yiwang.db import make_engine
from yiwang.logging import get_logger
from yiwang.metrics import ENTRYPOINT_LATENCY, OUTBOX, POOLS
from yiwang.relay import OutboxRelay
from yiwang.tracing import context_from, current_trace_context
from yiwang.uow import uow_factory

log = get_logger(__name__)


class UnitOfWorkProvider(DependencyProvider):
    def __init__(self, schema: str, *, run_relay: bool = True) -> None:
        self.schema = schema
        self.run_relay = run_relay
        self.relay: OutboxRelay | None = None

    def setup(self) -> None:
        cfg = self.container.config
        self.engine = make_engine(cfg["DATABASE_URL"], pool_size=int(cfg.get("max_workers", 10)))
        if self.run_relay:
            self.relay = OutboxRelay(
                self.engine,
                self.schema,
                cfg["AMQP_URI"],
                batch_size=int(cfg.get("OUTBOX_BATCH_SIZE", 200)),
                poll_interval_s=float(cfg.get("OUTBOX_POLL_INTERVAL_S", 0.2)),
            )
        self.factory = uow_factory(
            self.engine,
            producer=self.container.service_name,
            schema=self.schema,
            on_commit=self.relay.wake if self.relay else None,
        )

    def start(self) -> None:
        OUTBOX.add(self.schema, self.engine)  # backlog and oldest age, read when scraped
        POOLS.add(self.container.service_name, self.engine)
        if self.relay is not None:
            self.container.spawn_managed_thread(self.relay.run_forever, identifier="outbox-relay")

    def stop(self) -> None:
        OUTBOX.remove(self.schema, self.engine)
        POOLS.remove(self.container.service_name, self.engine)
        if self.relay is not None:
            self.relay.stop()
        self.engine.dispose()

    def kill(self) -> None:
        self.stop()

    def get_dependency(self, worker_ctx: Any) -> Any:
        return self.factory


def entrypoint_kind(entrypoint: Any) -> str:
    """``rpc``, ``event``, ``timer`` or the entrypoint's class name (metrics label)."""
    from nameko.events import EventHandler
    from nameko.rpc import Rpc
    from nameko.timer import Timer

    for cls, kind in ((Rpc, "rpc"), (EventHandler, "event"), (Timer, "timer")):
        if isinstance(entrypoint, cls):
            return kind
    return type(entrypoint).__name__.lower()


class Tracing(DependencyProvider):
    """Opens one span per worker, parented on the caller's ``traceparent`` context data,
    and writes the worker's own context back so nested RPC calls and events carry it.
    Also times each worker into ``yiwang_entrypoint_duration_seconds`` (every service has
    this provider, so every entrypoint is measured)."""

    def setup(self) -> None:
        self._tracer = trace.get_tracer("yiwang.nameko")
        self._active: dict[int, tuple[Any, Any]] = {}
        self._started: dict[int, tuple[float, str]] = {}

    def worker_setup(self, worker_ctx: Any) -> None:
        parent = context_from({"traceparent": worker_ctx.data.get("traceparent", "")})
        name = f"{worker_ctx.service_name}.{worker_ctx.entrypoint.method_name}"
        span = self._tracer.start_span(name, context=parent, kind=trace.SpanKind.CONSUMER)
        token = otel_context.attach(trace.set_span_in_context(span, parent))
        worker_ctx.data.update(current_trace_context())
        self._active[id(worker_ctx)] = (span, token)
        self._started[id(worker_ctx)] = (time.perf_counter(), "ok")

    def worker_result(self, worker_ctx: Any, result: Any = None, exc_info: Any = None) -> None:
        if exc_info is not None and id(worker_ctx) in self._started:
            # a DomainError crossing RPC is a refusal (the caller's 4xx), not a failure
            outcome = "refused" if type(exc_info[1]).__name__ == "RemoteDomainError" else "error"
            self._started[id(worker_ctx)] = (self._started[id(worker_ctx)][0], outcome)
        entry = self._active.get(id(worker_ctx))
        if entry and exc_info is not None:
            entry[0].record_exception(exc_info[1])
            entry[0].set_status(trace.Status(trace.StatusCode.ERROR, str(exc_info[1])[:200]))

    def worker_teardown(self, worker_ctx: Any) -> None:
        started = self._started.pop(id(worker_ctx), None)
        if started is not None:
            ep = worker_ctx.entrypoint
            ENTRYPOINT_LATENCY.labels(
                worker_ctx.service_name,
                ep.method_name,
                entrypoint_kind(ep),
                started[1],
            ).observe(time.perf_counter() - started[0])
        entry = self._active.pop(id(worker_ctx), None)
        if entry is None:
            return
        span, token = entry
        span.end()
        try:
            otel_context.detach(token)
        except Exception:  # noqa: BLE001 - detached in another greenlet: harmless
            pass

    def get_dependency(self, worker_ctx: Any) -> Any:
        return None


class ClockProvider(DependencyProvider):
    """The service's clock: the system clock unless one is passed (tests, simulations)."""

    def __init__(self, clock: Clock | None = None) -> None:
        self.clock = clock or SystemClock()

    def get_dependency(self, worker_ctx: Any) -> Clock:
        return self.clock


class RedisPublisher(DependencyProvider):
    """Redis pub/sub of the deployment (``REDIS_URL``; channel names start with ``prefix``,
    from ``REDIS_PREFIX``), which the gateway relays to browsers as server-sent events.
    Without ``REDIS_URL`` nothing is published. The client connects on first use."""

    def setup(self) -> None:
        cfg = self.container.config
        self.prefix = str(cfg.get("REDIS_PREFIX", "yiwang:"))
        self.url = cfg.get("REDIS_URL")
        self._client: Any = None

    def _redis(self) -> Any:
        if self._client is None and self.url:
            import redis

            self._client = redis.Redis.from_url(
                self.url, socket_timeout=1, socket_connect_timeout=1
            )
        return self._client

    def publish(self, channel: str, message: str) -> None:
        """One message; a failure raises (the caller retries, e.g. a pending notification)."""
        client = self._redis()
        if client is not None:
            client.publish(channel, message)

    def publish_json(self, channel: str, messages: list[dict[str, Any]]) -> None:
        """Best effort: the messages as JSON in one round trip; a failure is logged and the
        client reconnects next time (pages refresh on their own anyway)."""
        client = self._redis()
        if client is None:
            return
        try:
            pipe = client.pipeline(transaction=False)
            for m in messages:
                pipe.publish(channel, json.dumps(m, ensure_ascii=False, default=str))
            pipe.execute()
        except Exception as exc:  # noqa: BLE001 - dashboards refresh later anyway
            log.warning("live_publish_failed", channel=channel, error=str(exc)[:200])
            self._client = None

    def stop(self) -> None:
        if self._client is not None:
            try:
                self._client.close()
            except Exception:  # noqa: BLE001
                pass
            self._client = None

    def get_dependency(self, worker_ctx: Any) -> RedisPublisher:
        return self
