"""Prometheus metrics of every process: one registry per process, every metric defined here;
and a service process's probe port (``/live``, ``/ready``, ``/metrics``).

The gateway serves them at ``/metrics``; each service process on ``YIWANG_METRICS_PORT``
(``0``: off, as under ``make up`` where five processes share one host; Kubernetes and
compose set it). Each process is one Prometheus target (no multiprocess mode: the gateway
runs one uvicorn worker per process, a service one nameko runner).

Gauges that describe the database (outbox backlog and age, connection pools) are read at
scrape time by collectors, never by the hot paths. ``deploy/grafana/yiwang.json`` and
``deploy/prometheus/alerts.yml`` may use only the names in ``METRIC_NAMES``
(``tests/deploy/test_observability.py``).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.engine import Engine

from yiwang.logging import get_logger

log = get_logger(__name__)

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

HTTP_LATENCY = Histogram(
    "yiwang_http_request_duration_seconds",
    "Gateway: time from request to the response's first byte, per route template",
    ["method", "route", "status"],
    buckets=LATENCY_BUCKETS,
)
ENTRYPOINT_LATENCY = Histogram(
    "yiwang_entrypoint_duration_seconds",
    "Services: time a worker ran, per entrypoint (rpc, event, timer) and outcome "
    "(ok, refused: a DomainError answered to the caller, error)",
    ["service", "entrypoint", "kind", "outcome"],
    buckets=LATENCY_BUCKETS,
)
DEAD_LETTERS = Counter(
    "yiwang_dead_letters",
    "Messages this process moved to a dead-letter queue, per queue and reason",
    ["queue", "reason"],
)
RETRIES = Counter(
    "yiwang_event_retries",
    "Failed event deliveries sent to a delay queue for another attempt",
    ["queue"],
)
OUTBOX_PUBLISHED = Counter(
    "yiwang_outbox_published",
    "Outbox rows the relay published with broker confirms",
    ["schema"],
)
SLA_SWEEP_DURATION = Histogram(
    "yiwang_sla_sweep_duration_seconds",
    "Command: duration of one SLA sweep",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0),
)
SLA_SWEEP_CASES = Counter(
    "yiwang_sla_sweep_cases",
    "Command: cases the SLA sweep warned, marked overdue or escalated",
    ["action"],
)
SSE_SUBSCRIBERS = Gauge(
    "yiwang_sse_subscribers",
    "Gateway: dashboards connected to the live stream (server-sent events)",
)


# label names of the metrics the collectors below produce at scrape time
COLLECTED_LABELS: dict[str, tuple[str, ...]] = {
    "yiwang_outbox_backlog": ("schema",),
    "yiwang_outbox_oldest_age_seconds": ("schema",),
    "yiwang_db_pool_connections": ("pool", "state"),
    "yiwang_dead_letter_queue_messages": ("queue",),
}


class _OutboxCollector(Collector):
    """``yiwang_outbox_backlog`` and ``yiwang_outbox_oldest_age_seconds`` per schema,
    queried when scraped (one indexed statement per schema: the partial unpublished index)."""

    def __init__(self) -> None:
        self._sources: dict[str, Engine] = {}
        self._lock = threading.Lock()

    def add(self, schema: str, engine: Engine) -> None:
        with self._lock:
            self._sources[schema] = engine

    def remove(self, schema: str, engine: Engine) -> None:
        with self._lock:
            if self._sources.get(schema) is engine:
                del self._sources[schema]

    def describe(self) -> Iterator[Any]:
        return iter(())  # collected only on scrape

    def collect(self) -> Iterator[Any]:
        backlog = GaugeMetricFamily(
            "yiwang_outbox_backlog",
            "Outbox rows committed but not yet published",
            labels=list(COLLECTED_LABELS["yiwang_outbox_backlog"]),
        )
        age = GaugeMetricFamily(
            "yiwang_outbox_oldest_age_seconds",
            "Age of the oldest unpublished outbox row (0 when none)",
            labels=list(COLLECTED_LABELS["yiwang_outbox_oldest_age_seconds"]),
        )
        with self._lock:
            sources = list(self._sources.items())
        for schema, engine in sources:
            try:
                with engine.connect() as conn:
                    row = conn.execute(
                        sa.text(
                            f"SELECT count(*), coalesce(extract(epoch FROM now() - min(created_at)), 0) "
                            f'FROM "{schema}".outbox WHERE published_at IS NULL'
                        )
                    ).one()
            except Exception as exc:  # noqa: BLE001 - a scrape never fails the process
                log.warning("metrics_outbox_failed", schema=schema, error=str(exc)[:200])
                continue
            backlog.add_metric([schema], float(row[0]))
            age.add_metric([schema], float(row[1]))
        yield backlog
        yield age


class _PoolCollector(Collector):
    """``yiwang_db_pool_connections{pool, state}``: SQLAlchemy pools' size, checked out and
    overflow (read from the pool objects, no database round trip)."""

    def __init__(self) -> None:
        self._pools: dict[str, Engine] = {}
        self._lock = threading.Lock()

    def add(self, name: str, engine: Engine) -> None:
        with self._lock:
            self._pools[name] = engine

    def remove(self, name: str, engine: Engine) -> None:
        with self._lock:
            if self._pools.get(name) is engine:
                del self._pools[name]

    def describe(self) -> Iterator[Any]:
        return iter(())

    def collect(self) -> Iterator[Any]:
        fam = GaugeMetricFamily(
            "yiwang_db_pool_connections",
            "Database connection pool: size, checked_out, overflow",
            labels=list(COLLECTED_LABELS["yiwang_db_pool_connections"]),
        )
        with self._lock:
            pools = list(self._pools.items())
        for name, engine in pools:
            pool: Any = engine.pool
            for state, fn in (
                ("size", "size"),
                ("checked_out", "checkedout"),
                ("overflow", "overflow"),
            ):
                if hasattr(pool, fn):
                    fam.add_metric([name, state], float(getattr(pool, fn)()))
        yield fam


class _DeadLetterDepthCollector(Collector):
    """``yiwang_dead_letter_queue_messages{queue}``: messages waiting in the dead-letter
    queues of the subscriptions this process consumes, asked of the broker when scraped (a
    passive declare per queue over AMQP: no management plugin needed). Counts what the
    broker dead-lettered itself (``x-delivery-limit``) too, and falls when someone drains."""

    def __init__(self) -> None:
        self._queues: dict[str, str] = {}  # queue -> AMQP URI
        self._lock = threading.Lock()

    def add(self, amqp_uri: str, queue: str) -> None:
        with self._lock:
            self._queues[queue] = amqp_uri

    def remove(self, queue: str) -> None:
        with self._lock:
            self._queues.pop(queue, None)

    def describe(self) -> Iterator[Any]:
        return iter(())

    def collect(self) -> Iterator[Any]:
        import pika

        fam = GaugeMetricFamily(
            "yiwang_dead_letter_queue_messages",
            "Messages waiting in a dead-letter queue (<queue>.dlq) for an operator",
            labels=list(COLLECTED_LABELS["yiwang_dead_letter_queue_messages"]),
        )
        with self._lock:
            by_uri: dict[str, list[str]] = {}
            for queue, uri in sorted(self._queues.items()):
                by_uri.setdefault(uri, []).append(queue)
        for uri, queues in by_uri.items():
            try:
                params = pika.URLParameters(uri)
                params.socket_timeout = params.blocked_connection_timeout = 2
                params.connection_attempts = 1
                conn = pika.BlockingConnection(params)
            except Exception as exc:  # noqa: BLE001 - a scrape never fails the process
                log.warning("metrics_dlq_failed", error=str(exc)[:200])
                continue
            try:
                ch = conn.channel()
                for queue in queues:
                    try:
                        ok = ch.queue_declare(queue, passive=True)
                    except pika.exceptions.ChannelClosedByBroker:  # not declared (yet)
                        ch = conn.channel()
                        continue
                    fam.add_metric([queue], float(ok.method.message_count))
            except Exception as exc:  # noqa: BLE001
                log.warning("metrics_dlq_failed", error=str(exc)[:200])
            finally:
                try:
                    conn.close()
                except Exception:  # noqa: BLE001
                    pass
        yield fam


OUTBOX = _OutboxCollector()
POOLS = _PoolCollector()
DLQ_DEPTH = _DeadLetterDepthCollector()
REGISTRY.register(OUTBOX)
REGISTRY.register(POOLS)
REGISTRY.register(DLQ_DEPTH)

# every metric name the code registers (histograms and counters expose derived series:
# <name>_bucket/_sum/_count, <name>_total)
METRIC_NAMES: frozenset[str] = frozenset(
    {
        "yiwang_http_request_duration_seconds",
        "yiwang_entrypoint_duration_seconds",
        "yiwang_dead_letters",
        "yiwang_event_retries",
        "yiwang_outbox_published",
        "yiwang_sla_sweep_duration_seconds",
        "yiwang_sla_sweep_cases",
        "yiwang_sse_subscribers",
        "yiwang_outbox_backlog",
        "yiwang_outbox_oldest_age_seconds",
        "yiwang_db_pool_connections",
        "yiwang_dead_letter_queue_messages",
    }
)


def exposition() -> tuple[bytes, str]:
    """The registry in the text format, and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def ready_checks() -> dict[str, str]:
    """A service process's readiness: every database pool it registered answers ``SELECT 1``
    (empty until the service's providers started)."""
    with POOLS._lock:
        pools = list(POOLS._pools.items())
    out: dict[str, str] = {}
    for name, engine in pools:
        try:
            with engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
            out[f"database:{name}"] = "ok"
        except Exception as exc:  # noqa: BLE001 - reported
            out[f"database:{name}"] = f"down: {type(exc).__name__}"
    return out


def wsgi_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """``/live`` (the process and its hub answer), ``/ready`` (started and its database
    reachable), ``/metrics`` (the registry) — a service process's probe and scrape port."""
    path = environ.get("PATH_INFO", "/")
    if path == "/live":
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b'{"status": "ok"}']
    if path == "/ready":
        checks = ready_checks()
        ok = bool(checks) and all(v == "ok" for v in checks.values())
        body = json.dumps({"status": "ready" if ok else "not_ready", "checks": checks})
        start_response(
            "200 OK" if ok else "503 Service Unavailable", [("Content-Type", "application/json")]
        )
        return [body.encode()]
    if path == "/metrics":
        body_bytes, content_type = exposition()
        start_response("200 OK", [("Content-Type", content_type)])
        return [body_bytes]
    start_response("404 Not Found", [("Content-Type", "text/plain")])
    return [b"not found"]


def serve(port: int, addr: str = "0.0.0.0") -> None:  # noqa: S104 - scraped from the pod network
    """Serve ``wsgi_app`` on ``port`` in a daemon thread (green under eventlet)."""
    from wsgiref.simple_server import WSGIRequestHandler, make_server

    class _Quiet(WSGIRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
            pass

    server = make_server(addr, port, wsgi_app, handler_class=_Quiet)
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    log.info("metrics_serving", port=port)
