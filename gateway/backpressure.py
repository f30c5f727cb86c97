"""Backpressure at the door: beyond capacity, answer 503 with Retry-After at once instead
of queueing without bound (memory stays bounded, clients back off and retry)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from yiwang.errors import Unavailable


class InFlightLimit:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.in_flight = 0
        self.refused = 0

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        if self.in_flight >= self.limit:
            self.refused += 1
            raise Unavailable(
                "intake_busy",
                "Too many reports are being accepted right now; nothing was recorded, "
                "please retry in a moment.",
                "当前上报量过大，本次未记录，请稍后重试。",
                in_flight=self.in_flight,
            )
        self.in_flight += 1
        try:
            yield
        finally:
            self.in_flight -= 1
