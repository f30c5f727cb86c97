"""HTTP server spans and the ``traceparent`` response header, as plain ASGI.

FastAPI (0.165+) opens the request's SERVER span itself, parented on an incoming
``traceparent``, whenever a tracer provider is configured (``yiwang.tracing.setup_tracing``
always configures one). This middleware only opens a span when none is current (an app
built without tracing set up), and answers every HTTP response with the request span's
``traceparent`` so a client can quote its trace. Plain ASGI rather than
``BaseHTTPMiddleware``: no extra task, queue and body re-streaming per request (which also
slowed every Server-Sent Events stream).
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

from opentelemetry import trace
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from yiwang.tracing import context_from

_tracer = trace.get_tracer("yiwang.gateway")


class TraceRequests:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        current = trace.get_current_span()
        own: Any = nullcontext(current)
        if not current.get_span_context().is_valid:
            own = _tracer.start_as_current_span(
                f"{scope['method']} {scope['path']}",
                context=context_from(dict(Headers(scope=scope))),
                kind=trace.SpanKind.SERVER,
            )
        with own as span:
            ctx = span.get_span_context()
            traceparent = f"00-{ctx.trace_id:032x}-{ctx.span_id:016x}-01".encode()

            async def send_with_traceparent(message: Message) -> None:
                if message["type"] == "http.response.start":
                    message["headers"] = [
                        *message.get("headers", []),
                        (b"traceparent", traceparent),
                    ]
                    if span.is_recording():
                        span.set_attribute("http.status_code", message["status"])
                await send(message)

            await self.app(scope, receive, send_with_traceparent)


__all__ = ["TraceRequests"]
