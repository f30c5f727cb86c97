"""Backpressure at the door: beyond capacity, answer 503 with Retry-After at once instead
of queueing without bound (memory stays bounded, clients back off and retry).

``IntakeAdmission`` is the outermost ASGI layer of the report intake (the REST report route
and Open311's POST requests): a report beyond ``YIWANG_INTAKE_MAX_IN_FLIGHT`` in flight
per gateway process is refused before anything else is spent on it — no body read, no
rate-limit round trip, no audit row, nothing recorded — so that under a flood the gateway's
CPU goes to the reports it did admit (refusing must cost far less than accepting, or
goodput collapses exactly when it matters). Refusals are counted and logged in aggregate.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.types import ASGIApp, Receive, Scope, Send

from yiwang.errors import Unavailable
from yiwang.logging import get_logger

log = get_logger(__name__)


class InFlightLimit:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.in_flight = 0
        self.refused = 0

    def refusal(self) -> Unavailable:
        return Unavailable(
            "intake_busy",
            "Too many reports are being accepted right now; nothing was recorded, "
            "please retry in a moment.",
            "当前上报量过大，本次未记录，请稍后重试。",
            in_flight=self.in_flight,
        )

    def try_acquire(self) -> bool:
        if self.in_flight >= self.limit:
            self.refused += 1
            return False
        self.in_flight += 1
        return True

    def release(self) -> None:
        self.in_flight -= 1

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        if not self.try_acquire():
            raise self.refusal()
        try:
            yield
        finally:
            self.release()


def is_intake(method: str, path: str) -> bool:
    """Requests that file a report: the REST route and Open311's POST requests."""
    return method == "POST" and (
        path in ("/api/v1/reports", "/api/v1/reports/") or path.startswith("/open311/v2/requests.")
    )


class IntakeAdmission:
    def __init__(self, app: ASGIApp, limit: InFlightLimit) -> None:
        self.app = app
        self.limit = limit
        self._logged_at = 0.0
        self._logged_refused = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_intake(scope["method"], scope["path"]):
            await self.app(scope, receive, send)
            return
        if not self.limit.try_acquire():
            self._log_refusals()
            from gateway.problems import problem  # the one problem-details shape

            exc = self.limit.refusal()
            response = problem(
                503, exc.code, exc.message_en, exc.message_zh, headers={"Retry-After": "2"}
            )
            await response(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self.limit.release()

    def _log_refusals(self) -> None:
        now = time.monotonic()
        if now - self._logged_at >= 1.0:
            log.warning(
                "intake_refused",
                refused=self.limit.refused - self._logged_refused,
                in_flight=self.limit.in_flight,
                limit=self.limit.limit,
            )
            self._logged_at, self._logged_refused = now, self.limit.refused
