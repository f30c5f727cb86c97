"""OpenTelemetry setup and W3C trace-context propagation helpers.

Every process calls ``setup_tracing`` once from its composition root. The exporter is
chosen by ``YIWANG_OTEL_EXPORTER``: none, console, otlp (HTTP), memory (in-process
tests) or file (JSON lines under ``var/log/spans-<service>.jsonl``, read by the
cross-process trace test). Context travels in HTTP headers and in AMQP headers
(``nameko.traceparent``) and in every event envelope's ``trace`` field.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

_propagator = TraceContextTextMapPropagator()
_memory_exporter: InMemorySpanExporter | None = None
_configured = False


class JsonLinesSpanExporter(SpanExporter):
    """Appends one JSON object per finished span to a file (shared by processes)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.Lock()
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        lines = []
        for s in spans:
            ctx = s.get_span_context()
            parent = s.parent
            lines.append(
                json.dumps(
                    {
                        "name": s.name,
                        "trace_id": format(ctx.trace_id, "032x") if ctx else "",
                        "span_id": format(ctx.span_id, "016x") if ctx else "",
                        "parent_id": format(parent.span_id, "016x") if parent else None,
                        "service": s.resource.attributes.get("service.name"),
                        "start_ns": s.start_time,
                        "end_ns": s.end_time,
                        "attributes": {k: str(v) for k, v in (s.attributes or {}).items()},
                    }
                )
            )
        with self._lock, open(self.path, "a", encoding="utf-8") as fh:
            fh.write("\n".join(lines) + "\n")
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:  # pragma: no cover - nothing to release
        return None


def setup_tracing(
    service_name: str, exporter: str = "none", endpoint: str = "", var_dir: str = "var"
) -> TracerProvider:
    """Install a tracer provider for this process (idempotent)."""
    global _configured, _memory_exporter
    current = trace.get_tracer_provider()
    if _configured and isinstance(current, TracerProvider):
        return current
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    if exporter == "console":
        provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter()))
    elif exporter == "otlp":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    elif exporter == "memory":
        _memory_exporter = InMemorySpanExporter()
        provider.add_span_processor(SimpleSpanProcessor(_memory_exporter))
    elif exporter == "file":
        path = os.path.join(var_dir, "log", f"spans-{service_name}.jsonl")
        provider.add_span_processor(SimpleSpanProcessor(JsonLinesSpanExporter(path)))
    trace.set_tracer_provider(provider)
    _configured = True
    return provider


def memory_exporter() -> InMemorySpanExporter | None:
    return _memory_exporter


def tracer(name: str = "yiwang") -> trace.Tracer:
    return trace.get_tracer(name)


def current_trace_context() -> dict[str, str]:
    """The current span's W3C context as a dict (traceparent, maybe tracestate)."""
    carrier: dict[str, str] = {}
    _propagator.inject(carrier)
    return carrier


def context_from(carrier: Mapping[str, Any] | None) -> otel_context.Context:
    """An OTel context extracted from headers / envelope trace (empty when absent)."""
    clean = {k: str(v) for k, v in (carrier or {}).items() if k in ("traceparent", "tracestate")}
    return _propagator.extract(clean)


def current_trace_id() -> str | None:
    ctx = trace.get_current_span().get_span_context()
    return format(ctx.trace_id, "032x") if ctx and ctx.is_valid else None


@contextmanager
def event_span(name: str, carrier: Mapping[str, Any] | None) -> Iterator[trace.Span]:
    """A consumer span for one event, parented on the event's own trace context — so each
    event of a batch stays in its own report's trace, whatever the batch's worker span."""
    span = tracer("yiwang.nameko").start_span(
        name, context=context_from(carrier), kind=trace.SpanKind.CONSUMER
    )
    with trace.use_span(span, end_on_exit=True):
        yield span
