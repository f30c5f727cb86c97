"""HTTP server spans: one span per request, parented on an incoming ``traceparent``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Request, Response
from opentelemetry import context as otel_context
from opentelemetry import trace

from yiwang.tracing import context_from


async def trace_requests(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    parent = context_from(dict(request.headers))
    tracer = trace.get_tracer("yiwang.gateway")
    with tracer.start_as_current_span(
        f"{request.method} {request.url.path}", context=parent, kind=trace.SpanKind.SERVER
    ) as span:
        span.set_attribute("http.method", request.method)
        span.set_attribute("http.target", request.url.path)
        response = await call_next(request)
        span.set_attribute("http.status_code", response.status_code)
        ctx = span.get_span_context()
        response.headers["traceparent"] = f"00-{ctx.trace_id:032x}-{ctx.span_id:016x}-01"
        return response


__all__ = ["trace_requests", "otel_context"]
