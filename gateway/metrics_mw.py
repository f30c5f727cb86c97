"""Request latency per route template (``yiwang_http_request_duration_seconds``), as plain ASGI.

Timed from the request's arrival to its response's first byte, so a Server-Sent Events
stream counts the time until it opened, not how long the dashboard watched. The route label
is the matched template (``/api/v1/cases/{case_id}``), never the raw path, so the series stay
few; requests no route matched (refused before routing, 404s) are ``unmatched``.
"""

from __future__ import annotations

import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from yiwang.metrics import HTTP_LATENCY


def route_label(scope: Scope) -> str:
    route: Any = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) and path else "unmatched"


class MeasureRequests:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        t0 = time.perf_counter()
        observed = False

        async def timed_send(message: Message) -> None:
            nonlocal observed
            if message["type"] == "http.response.start" and not observed:
                observed = True
                HTTP_LATENCY.labels(
                    scope["method"], route_label(scope), str(message["status"])
                ).observe(time.perf_counter() - t0)
            await send(message)

        try:
            await self.app(scope, receive, timed_send)
        except BaseException:
            if not observed:
                HTTP_LATENCY.labels(scope["method"], route_label(scope), "500").observe(
                    time.perf_counter() - t0
                )
            raise


__all__ = ["MeasureRequests", "route_label"]
