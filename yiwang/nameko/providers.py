"""nameko dependency providers: unit of work (+ outbox relay) and tracing.

``UnitOfWorkProvider`` replaces nameko-sqlalchemy (which does not support SQLAlchemy 2):
it owns the service's engine (psycopg2, green under eventlet), hands each worker a
factory of ``UnitOfWork`` objects, and runs the outbox relay in a managed green thread
that a commit wakes immediately.
"""

from __future__ import annotations

from typing import Any

from nameko.extensions import DependencyProvider
from opentelemetry import context as otel_context
from opentelemetry import trace

from yiwang.db import make_engine
from yiwang.relay import OutboxRelay
from yiwang.tracing import context_from, current_trace_context
from yiwang.uow import uow_factory


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
        if self.relay is not None:
            self.container.spawn_managed_thread(self.relay.run_forever, identifier="outbox-relay")

    def stop(self) -> None:
        if self.relay is not None:
            self.relay.stop()
        self.engine.dispose()

    def kill(self) -> None:
        self.stop()

    def get_dependency(self, worker_ctx: Any) -> Any:
        return self.factory


class Tracing(DependencyProvider):
    """Opens one span per worker, parented on the caller's ``traceparent`` context data,
    and writes the worker's own context back so nested RPC calls and events carry it."""

    def setup(self) -> None:
        self._tracer = trace.get_tracer("yiwang.nameko")
        self._active: dict[int, tuple[Any, Any]] = {}

    def worker_setup(self, worker_ctx: Any) -> None:
        parent = context_from({"traceparent": worker_ctx.data.get("traceparent", "")})
        name = f"{worker_ctx.service_name}.{worker_ctx.entrypoint.method_name}"
        span = self._tracer.start_span(name, context=parent, kind=trace.SpanKind.CONSUMER)
        token = otel_context.attach(trace.set_span_in_context(span, parent))
        worker_ctx.data.update(current_trace_context())
        self._active[id(worker_ctx)] = (span, token)

    def worker_result(self, worker_ctx: Any, result: Any = None, exc_info: Any = None) -> None:
        entry = self._active.get(id(worker_ctx))
        if entry and exc_info is not None:
            entry[0].record_exception(exc_info[1])
            entry[0].set_status(trace.Status(trace.StatusCode.ERROR, str(exc_info[1])[:200]))

    def worker_teardown(self, worker_ctx: Any) -> None:
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
